using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Configuration;

/// <summary>Runs the Domain validator at startup (ValidateOnStart) with the real file system.</summary>
internal sealed class ConsoleSettingsValidation : IValidateOptions<ConsoleSettings>
{
    public ValidateOptionsResult Validate(string? name, ConsoleSettings options)
    {
        var errors = ConsoleSettingsValidator.Validate(options, File.Exists, Scheduling.QuartzCron.Error);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
