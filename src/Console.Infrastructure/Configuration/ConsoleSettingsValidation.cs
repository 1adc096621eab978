using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Configuration;

/// <summary>Values of the Console section that did not parse (found by <see cref="ConsoleSettingsTypeCheck"/> before binding).</summary>
internal sealed record ConsoleSettingsTypeErrors(IReadOnlyList<string> Errors);

/// <summary>
/// Runs the Domain validator at startup (ValidateOnStart) with the real file system, after the values that did not
/// parse: every problem in one list.
/// </summary>
internal sealed class ConsoleSettingsValidation(ConsoleSettingsTypeErrors typeErrors) : IValidateOptions<ConsoleSettings>
{
    public ValidateOptionsResult Validate(string? name, ConsoleSettings options)
    {
        var errors = typeErrors.Errors.Concat(ConsoleSettingsValidator.Validate(options, File.Exists)).Concat(Sealing.SealingKeys.Validate(options)).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
