using Console.Domain.Access;
using Console.Web.Access;
using MudBlazor;

namespace Console.Web.Components.Shared;

/// <summary>
/// How a page tells the operator something happened (snackbars), and runs a service call as the signed-in actor,
/// a refusal by the service becoming a message. The only place pages reach the UI library's notifications, so nothing
/// outside <c>Components/</c> knows which one is used.
/// </summary>
internal sealed class Notifier(ISnackbar snackbar, CurrentActor me)
{
    public void Success(string message) => Show(message, null, Severity.Success, 5);

    public void Info(string message, string? detail = null) => Show(message, detail, Severity.Info, 6);

    public void Warning(string message, string? detail = null) => Show(message, detail, Severity.Warning, 10);

    /// <summary>Errors stay until closed, so an operator who looked away still reads them.</summary>
    public void Error(string message, string? detail = null) => Show(message, detail, Severity.Error, 0);

    /// <summary>Runs <paramref name="action"/> as the signed-in actor; false (and a message) when the service refuses.</summary>
    public async Task<bool> AsActorAsync(Func<Actor, Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            await action(await me.GetAsync());
            return true;
        }
        catch (AccessDeniedException ex)
        {
            Error("Not allowed", ex.Message);
            return false;
        }
    }

    private void Show(string message, string? detail, Severity severity, int seconds)
    {
        var text = string.IsNullOrWhiteSpace(detail) ? message : $"{message}: {detail}";
        snackbar.Add(text, severity, o =>
        {
            o.RequireInteraction = seconds == 0;
            o.VisibleStateDuration = seconds == 0 ? int.MaxValue : seconds * 1000;
            o.ShowCloseIcon = true;
        });
    }
}
