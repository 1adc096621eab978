using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Console.Domain.Configuration;
using Microsoft.Extensions.Configuration;

namespace Console.Infrastructure.Configuration;

/// <summary>
/// Finds every value in the Console section that the configuration binder could not convert to its setting's type
/// (Enabled=yes, Count=seven, CallTimeout=garbage), before anything binds it. Left alone, such a value made the binder
/// drop its whole cluster without a word (a list element that fails is skipped) or throw a stack trace at the top level.
/// The values are masked (read as the setting's default from then on), so nothing trips over them, and their errors
/// join the other configuration errors in the one list printed at start.
/// </summary>
public static class ConsoleSettingsTypeCheck
{
    /// <summary>Masks the values that do not parse and returns one error per value, naming its key and expected form.</summary>
    public static IReadOnlyList<string> MaskValuesThatDoNotParse(IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<(string Key, string? Mask, string Error)>();
        CheckSection(configuration.GetSection(ConsoleSettings.SectionName), typeof(ConsoleSettings), problems);
        if (problems.Count > 0)
        {
            configuration.AddInMemoryCollection(problems.Select(p => new KeyValuePair<string, string?>(p.Key, p.Mask)));
        }

        return [.. problems.Select(p => p.Error)];
    }

    private static void CheckSection(IConfigurationSection section, Type type, List<(string Key, string? Mask, string Error)> problems)
    {
        // An empty value is how JSON's [] and {} arrive: nothing set.
        if (section.Value is { Length: > 0 } value && !section.GetChildren().Any())
        {
            problems.Add((section.Path, null, $"{section.Path}: '{value}' is a value, but this is a section of settings ({string.Join(", ", Settable(type).Select(p => p.Name))})."));
            return;
        }

        // Defaults are read from a fresh instance, so a masked value reads as the setting's own default.
        var defaults = Activator.CreateInstance(type);
        foreach (var property in Settable(type))
        {
            Check(section.GetSection(property.Name), property.PropertyType, property.GetValue(defaults), problems);
        }
    }

    private static void Check(IConfigurationSection section, Type type, object? defaultValue, List<(string Key, string? Mask, string Error)> problems)
    {
        if (type == typeof(string))
        {
            return;
        }

        if (IsSettingsRecord(type))
        {
            CheckSection(section, type, problems);
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var children = section.GetChildren().ToList();
            if (section.Value is { Length: > 0 } value && children.Count == 0)
            {
                problems.Add((section.Path, null, $"{section.Path}: '{value}' is a single value, but a list is expected; set {section.Path}:0, {section.Path}:1, ..."));
                return;
            }

            foreach (var child in children)
            {
                Check(child, type.GetGenericArguments()[0], null, problems);
            }

            return;
        }

        if (section.Value is not { } text)
        {
            return;
        }

        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null && text.Length == 0)
        {
            return;
        }

        var target = underlying ?? type;
        if (!Converts(target, text))
        {
            problems.Add((section.Path, Convert.ToString(defaultValue, CultureInfo.InvariantCulture), $"{section.Path}: '{text}' is not {Form(target)}."));
        }
    }

    // The same conversion the configuration binder makes.
    private static bool Converts(Type type, string text)
    {
        try
        {
            _ = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Form(Type type) => type switch
    {
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) => "a whole number (such as 7)",
        _ when type == typeof(TimeSpan) => "a duration such as 00:00:05 (hh:mm:ss) or 1.00:00:00 (d.hh:mm:ss)",
        _ when type == typeof(double) || type == typeof(decimal) => "a number (such as 1.5)",
        _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type))}",
        _ => string.Create(CultureInfo.InvariantCulture, $"a {type.Name}"),
    };

    private static bool IsSettingsRecord(Type type) => type.IsClass && type.Namespace == typeof(ConsoleSettings).Namespace;

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true });
}
