using Console.Infrastructure;
using Console.Infrastructure.Hosting;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Microsoft.Extensions.Options;

namespace Console.Web;

/// <summary>
/// Runs the app and turns the start-up failures an operator can fix (invalid configuration, a damaged database, a
/// missing etcd binary) into a plain list on stderr and a non-zero exit code, instead of a stack trace; and bounds
/// shutdown (exit code 4 when it had to give up waiting).
/// </summary>
internal static class StartupFailure
{
    public const int InvalidConfiguration = 2;
    public const int SandboxFailed = 3;
    public const int ShutdownTimedOut = 4;

    public static async Task<int> RunAsync(WebApplication app)
    {
        try
        {
            await StartupChecks.RunAsync(app.Services, CancellationToken.None).ConfigureAwait(false);
            var shutdown = app.Services.GetRequiredService<ShutdownWatch>();
            var running = app.RunAsync();
            await Task.WhenAny(running, shutdown.Stopping).ConfigureAwait(false);

            // Once stopping, the process exits within the budget even if a wait never ends (returning from Main ends
            // the process; nothing left running holds it).
            if (await Task.WhenAny(running, Task.Delay(ShutdownBudget.Process)).ConfigureAwait(false) != running)
            {
                shutdown.GiveUp(ShutdownBudget.Process);
                return ShutdownTimedOut;
            }

            await running.ConfigureAwait(false);
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
        catch (Exception ex) when (ex is DamagedDatabaseException or DatabaseUnavailableException)
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
