using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Restore;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;
using Console.Web.Access;

namespace Console.Web.Components.Pages.Restore;

/// <summary>The last answer the wizard gave, shown until the next.</summary>
public sealed record WizardNote(bool Ok, string Text);

/// <summary>A button on the wizard's page: the action, and what was typed, picked or named for it (a point in time for "Use this point in time").</summary>
public sealed record WizardCommand(RestoreAction Action, string? Argument = null, PointInTimeTarget? PointInTime = null);

/// <summary>Everything the Restore page shows, as one immutable snapshot.</summary>
public sealed record RestoreView(
    string? Cluster,
    RestoreSession? Session,
    RestorePlan? Plan,
    IReadOnlyList<SnapshotEntry> Candidates,
    IReadOnlyList<RestoreAuditEntry> Audit,
    WizardNote? Note,
    DateTimeOffset Now)
{
    public static readonly RestoreView Empty = new(null, null, null, [], [], null, DateTimeOffset.MinValue);

    /// <summary>The cluster's recoverable window while a source is being chosen; null when only snapshots can be restored.</summary>
    public RecoverableWindow? Window { get; init; }

    /// <summary>Why the window could not be read (then only snapshots are offered).</summary>
    public string? WindowError { get; init; }

    /// <summary>Where the point-in-time build at Verify is, while it runs.</summary>
    public PointInTimeProgress? Building { get; init; }
}

/// <summary>
/// The Restore page's one service: runs the wizard's actions as the signed-in admin, and publishes a fresh
/// <see cref="RestoreView"/> after each — and whenever the wizard changes in another browser.
/// </summary>
public sealed class RestorePageService(RestoreWizard wizard, SnapshotCatalog snapshots, ClusterCatalog catalog, BackupRunner runner, CurrentActor me, TimeProvider clock) : IDisposable
{
    private Action<RestoreView>? _subscriber;

    public RestoreView View { get; private set; } = RestoreView.Empty;

    public IReadOnlyList<string> Clusters => [.. catalog.All.Where(c => c.Members.Count > 0).Select(c => c.Name.Value)];

    /// <summary>Starts with <paramref name="cluster"/> (or the first that can be restored); <paramref name="onChange"/> hears every later view.</summary>
    public async Task StartAsync(string? cluster, WizardNote? note, Action<RestoreView> onChange)
    {
        _subscriber = onChange;
        wizard.Changed += OnWizardChanged;
        wizard.Building += OnBuilding;
        var clusters = Clusters;
        await LoadAsync(cluster ?? (clusters.Count > 0 ? clusters[0] : null), note);
    }

    public Task SelectAsync(string cluster) => LoadAsync(cluster, null);

    public Task BeginAsync() => AnswerAsync(who => wizard.BeginAsync(View.Cluster!, who, default));

    public Task RunAsync(WizardCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var cluster = View.Cluster!;
        return AnswerAsync(who => command.Action switch
        {
            RestoreAction.Choose when command.PointInTime is { } target => wizard.ChoosePointInTimeAsync(cluster, target, who, default),
            RestoreAction.Choose => ChooseAsync(cluster, command.Argument!, who),
            RestoreAction.Verify => VerifyAsync(cluster, command.Argument, who),
            RestoreAction.AcceptPlan => wizard.ConfirmPlanAsync(cluster, who, default),
            RestoreAction.TakeSafetySnapshot => wizard.TakeSafetySnapshotAsync(cluster, who, default),
            RestoreAction.ProceedWithoutSafetySnapshot => wizard.ProceedWithoutSafetySnapshotAsync(cluster, command.Argument, who, default),
            RestoreAction.StopMembers => wizard.StopMembersAsync(cluster, command.Argument, who, default),
            RestoreAction.MarkDone => wizard.MarkDoneAsync(cluster, command.Argument!, who, default),
            RestoreAction.RestoreData => wizard.RestoreDataAsync(cluster, command.Argument, who, default),
            RestoreAction.StartMembers => wizard.StartMembersAsync(cluster, who, default),
            RestoreAction.Prove => wizard.ProveAsync(cluster, who, default),
            RestoreAction.RollBack => wizard.RollBackAsync(cluster, who, default),
            RestoreAction.Abandon => wizard.AbandonAsync(cluster, who, default),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.Action, "not a button of the page"),
        });
    }

    public async Task BackUpNowAsync()
    {
        try
        {
            var start = await runner.StartAsync(View.Cluster!, BackupTrigger.Manual, await me.GetAsync(), default);
            Publish(View with { Note = start is BackupStart.Started ? new(true, "a fresh backup is running; see the Backups page") : new(false, "could not start a backup now") });
        }
        catch (AccessDeniedException ex)
        {
            Publish(View with { Note = new(false, $"not allowed: {ex.Message}") });
        }
    }

    /// <summary>Verify, with the age identity the operator pasted for this restore if any (parsed here, never stored).</summary>
    private Task<WizardResult> VerifyAsync(string cluster, string? identity, Actor who)
    {
        IReadOnlyList<AgeIdentity>? identities = null;
        if (!string.IsNullOrWhiteSpace(identity))
        {
            try
            {
                identities = AgeIdentity.ParseFile(identity);
            }
            catch (FormatException ex)
            {
                return Task.FromResult(new WizardResult(false, $"the identity given is not an age identity: {ex.Message}", null));
            }
        }

        return wizard.VerifyAsync(cluster, who, default, identities);
    }

    private async Task<WizardResult> ChooseAsync(string cluster, string file, Actor who)
    {
        // A copy whose drill and verification did not fail, the local one first (nothing to fetch); a snapshot whose every
        // copy failed only when the operator picked it, and the answer says so again.
        var copy = View.Candidates.First(c => c.Name.FileName == file).RestoreCopy;
        var result = await wizard.ChooseAsync(cluster, copy.Target, file, who, default);
        return result.Ok && copy.Failure is { } failure ? result with { Message = $"{result.Message} (warning: {failure})" } : result;
    }

    private async Task AnswerAsync(Func<Actor, Task<WizardResult>> action)
    {
        WizardNote note;
        try
        {
            var result = await action(await me.GetAsync());
            note = new(result.Ok, result.Message);
        }
        catch (AccessDeniedException ex)
        {
            note = new(false, $"not allowed: {ex.Message}");
        }

        await LoadAsync(View.Cluster, note);
    }

    private async Task LoadAsync(string? cluster, WizardNote? note)
    {
        if (cluster is null)
        {
            Publish(RestoreView.Empty with { Note = note });
            return;
        }

        var session = await wizard.CurrentAsync(cluster, default);
        var audit = session is null ? [] : await wizard.AuditAsync(session, default);
        var choosing = session?.Step == RestoreStep.Choose;
        var candidates = choosing ? await snapshots.ListAsync(Console.Domain.Clusters.ClusterName.Parse(cluster), default) : [];
        RecoverableWindow? window = null;
        string? windowError = null;
        try
        {
            window = choosing ? await wizard.WindowAsync(cluster, default) : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Snapshots can still be restored; the point-in-time form stays away and the operator is told why.
            windowError = $"The recoverable window could not be read, so no point in time is offered: {ex.Message}";
        }

        Publish(new RestoreView(cluster, session, session is null ? null : wizard.PlanOf(session), candidates, audit, note, clock.GetUtcNow()) { Window = window, WindowError = windowError });
    }

    private void Publish(RestoreView view)
    {
        View = view;
        _subscriber?.Invoke(view);
    }

    private void OnWizardChanged(RestoreSession session)
    {
        if (session.Cluster == View.Cluster)
        {
            _ = LoadAsync(session.Cluster, View.Note);
        }
    }

    private void OnBuilding(string cluster, PointInTimeProgress progress)
    {
        if (cluster == View.Cluster)
        {
            Publish(View with { Building = progress });
        }
    }

    public void Dispose()
    {
        wizard.Changed -= OnWizardChanged;
        wizard.Building -= OnBuilding;
    }
}
