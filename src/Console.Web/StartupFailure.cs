using Console.Infrastructure;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Microsoft.Extensions.Options;

namespace Console.Web;

/// <summary>
/// Runs the app and turns the start-up failures an operator can fix (invalid configuration, a damaged database, a
/// missing etcd binary) into a plain list on stderr and a non-zero exit code, instead of a stack trace.
/// </summary>
internal static class StartupFailure
{
    public const int InvalidConfiguration = 2;
    public const int SandboxFailed = 3;

    public static async Task<int> RunAsync(WebApplication app)
    {
        try
        {
            await StartupChecks.RunAsync(app.Services, CancellationToken.None).ConfigureAwait(false);
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            System.Console.Error.WriteLine($"The configuration is invalid ({ex.Failures.Count()} problem(s)); the console did not start:");
            foreach (var failure in ex.Failures)
            {
                System.Console.Error.WriteLine($"  - {failure}");
            }

            return InvalidConfiguration;
        }
        catch (DamagedDatabaseException ex)
        {
            System.Console.Error.WriteLine(ex.Message);
            return InvalidConfiguration;
        }
        catch (SandboxException ex)
        {
            System.Console.Error.WriteLine($"The sandbox cluster could not start; the console did not start: {ex.Message}");
            return SandboxFailed;
        }
    }
}
