using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Domain.Restore;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Restore;

/// <summary>What an action did: Ok false means nothing changed (wrong step, wrong phrase) or a step failed, in words.</summary>
public sealed record WizardResult(bool Ok, string Message, RestoreSession? Session);

/// <summary>
/// The etcd disaster-recovery procedure as a sequence that cannot be skipped or reordered: choose, verify, plan,
/// safety snapshot, stop members, restore data, start members, prove. Destructive steps need their typed phrase.
/// Every action is serialized, checked against the persisted step, audited, and saved before it returns, so a
/// refresh or a restart resumes at the same step and a destructive step is never repeated silently.
/// </summary>
public sealed class RestoreWizard(
    ClusterCatalog catalog,
    SnapshotStores stores,
    BackupRunner runner,
    SnapshotLedger ledger,
    RestoreSessionStore sessions,
    EtcdClusterClientFactory clients,
    IServiceProvider services,
    IOptions<ConsoleSettings> settings,
    AccessGuard guard,
    AuditLog audit,
    TimeProvider clock,
    ILogger<RestoreWizard> logger) : IDisposable
{
    public const string UploadTarget = "upload";
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<long> _uploading = []; // sessions with an upload in flight; guarded by _gate
    private readonly RestoreExecutor _executor = new(TimeSpan.FromMinutes(10));

    public event Action<RestoreSession>? Changed;

    public Task<RestoreSession?> CurrentAsync(string cluster, CancellationToken cancellationToken) => sessions.LatestAsync(cluster, cancellationToken);

    public async Task<IReadOnlyList<RestoreAuditEntry>> AuditAsync(RestoreSession session, CancellationToken cancellationToken) =>
        await sessions.AuditTrailAsync(session.Id, cancellationToken).ConfigureAwait(false);

    /// <summary>The plan of a session past Verify, recomputed deterministically from what was persisted.</summary>
    public RestorePlan? PlanOf(RestoreSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session is not { StagedPath: { } path, Token: { } token, PlannedAt: { } at, ToolName: { } tool, ToolVersion: { } version } || catalog.Find(session.Cluster) is not { } spec)
        {
            return null;
        }

        return RestorePlanner.Plan(spec.Name, spec.Members, path, new RestoreTool(tool, Version.Parse(version)), at, token);
    }

    public Task<WizardResult> BeginAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "begin", null, async (current, now) =>
    {
        if (current is { Active: true })
        {
            return new WizardResult(true, $"resuming the restore started by {current.StartedBy} at {current.StartedAt:u}", current);
        }

        if (catalog.Find(cluster) is not { } spec)
        {
            return new WizardResult(false, $"there is no cluster named '{cluster}'", null);
        }

        if (spec.Members.Count == 0)
        {
            return new WizardResult(false, $"'{cluster}' lists no members (Console:Clusters:N:Members with Name, PeerUrl, DataDir, Control); a restore needs them", null);
        }

        var created = await sessions.CreateAsync(new RestoreSession { Cluster = cluster, StartedBy = who.Label, StartedAt = now, Step = RestoreStep.Choose }, now, cancellationToken).ConfigureAwait(false);
        return new WizardResult(true, "restore started: choose a snapshot", created);
    });

    public Task<WizardResult> ChooseAsync(string cluster, string target, string fileName, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "choose snapshot", [RestoreStep.Choose, RestoreStep.Verify], (session, _) =>
    {
        if (!SnapshotName.TryParse(fileName, out var name) || name.Cluster.Value != cluster || (target != UploadTarget && stores.Find(target) is null))
        {
            return Task.FromResult(new WizardResult(false, $"'{fileName}' in '{target}' is not a snapshot of {cluster}", session));
        }

        return Task.FromResult(new WizardResult(true, $"chose {fileName} from {target}", session! with { Step = RestoreStep.Verify, SnapshotTarget = target, SnapshotFile = fileName, StagedPath = null, Failure = null }));
    });

    /// <summary>
    /// The first half of an upload, decided before a byte of the body is read: a restore of the cluster must be waiting
    /// for a snapshot (Choose or Verify), no other upload may be running for it, and the declared size must fit the
    /// limit and the staging disk. The returned upload receives the file; disposing it releases the slot.
    /// </summary>
    public async Task<UploadAnswer> StartUploadAsync(string cluster, long? declaredBytes, Actor who, CancellationToken cancellationToken)
    {
        var outcome = UploadOutcome.NoRestoreWaiting;
        SnapshotUpload? upload = null;
        var result = await RunAsync(cluster, who, "upload snapshot", [RestoreStep.Choose, RestoreStep.Verify], (session, _) =>
        {
            var s = session!;
            var max = settings.Value.Restore.MaxUploadBytes;
            var staging = StagingOf(s);
            Directory.CreateDirectory(staging);
            var free = new DriveInfo(staging).AvailableFreeSpace;
            (outcome, var message) = declaredBytes switch
            {
                _ when _uploading.Contains(s.Id) => (UploadOutcome.AlreadyUploading, "another upload for this restore is still running; wait for it (a finished upload replaces the earlier one)"),
                > 0 when declaredBytes > max + SnapshotUpload.FormOverhead => (UploadOutcome.TooLarge, $"the upload is {declaredBytes:N0} bytes, more than Console:Restore:MaxUploadBytes ({max:N0})"),
                > 0 when declaredBytes > free => (UploadOutcome.NoSpace, $"the upload is {declaredBytes:N0} bytes but {staging} has only {free:N0} bytes free"),
                _ => (UploadOutcome.Accepted, $"receiving an upload{(declaredBytes is > 0 ? $" of {declaredBytes:N0} bytes" : string.Empty)}"),
            };
            if (outcome == UploadOutcome.Accepted)
            {
                _uploading.Add(s.Id);
                upload = new SnapshotUpload(this, cluster, s.Id, staging, max, who);
            }

            return Task.FromResult(new WizardResult(outcome == UploadOutcome.Accepted, message, null));
        }).ConfigureAwait(false);
        return new UploadAnswer(outcome, result.Message, upload);
    }

    /// <summary>
    /// The second half: the received file (complete, within the limit) becomes the session's snapshot, and the file of
    /// an earlier upload is deleted, so a session never holds more than one. A session that ended meanwhile gets nothing.
    /// </summary>
    internal Task<WizardResult> CommitUploadAsync(string cluster, long sessionId, string partPath, long size, string originalName, Actor who) =>
        RunAsync(cluster, who, "upload snapshot", [RestoreStep.Choose, RestoreStep.Verify], (session, now) =>
        {
            var s = session!;
            if (s.Id != sessionId)
            {
                File.Delete(partPath);
                return Task.FromResult(new WizardResult(false, "the restore this upload was for has ended; the upload was discarded", null));
            }

            var name = SnapshotName.For(ClusterName.Parse(cluster), now);
            var staged = Path.Combine(StagingOf(s), name.FileName);
            try
            {
                File.Move(partPath, staged, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Task.FromResult(new WizardResult(false, $"the upload could not be put in place: {ex.Message}", null));
            }

            var replaced = s.SnapshotTarget == UploadTarget && s.StagedPath is { } earlier && earlier != staged && File.Exists(earlier) ? earlier : null;
            if (replaced is not null)
            {
                File.Delete(replaced);
            }

            var message = $"uploaded {originalName} ({size:N0} bytes) as {name.FileName}{(replaced is null ? string.Empty : $", replacing the earlier upload {Path.GetFileName(replaced)}")}";
            return Task.FromResult(new WizardResult(true, message, s with { Step = RestoreStep.Verify, SnapshotTarget = UploadTarget, SnapshotFile = name.FileName, StagedPath = staged, SizeBytes = size, Failure = null }));
        });

    /// <summary>Records an upload that failed after it started (too large, disk full, connection lost); its partial file is already gone.</summary>
    internal Task<WizardResult> FailUploadAsync(string cluster, string message, Actor who) =>
        RunAsync(cluster, who, "upload snapshot", null, (_, _) => Task.FromResult(new WizardResult(false, message, null)));

    internal async Task ReleaseUploadAsync(long sessionId)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _uploading.Remove(sessionId);
        }
        finally
        {
            _gate.Release();
        }
    }

    private string StagingOf(RestoreSession session) =>
        Path.Combine(Path.GetFullPath(settings.Value.DataDir), "restore", session.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Fetches the chosen copy to local staging, verifies its footer, restores it once into a throwaway etcd to read its revision and key count.</summary>
    public Task<WizardResult> VerifyAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "verify", [RestoreStep.Verify], async (session, now) =>
    {
        var s = session!;
        var staging = Path.Combine(Path.GetFullPath(settings.Value.DataDir), "restore", s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(staging);
        var staged = s.SnapshotTarget == UploadTarget && s.StagedPath is { } uploaded ? uploaded : Path.Combine(staging, s.SnapshotFile!);
        try
        {
            if (s.SnapshotTarget != UploadTarget && SnapshotName.TryParse(s.SnapshotFile!, out var name))
            {
                var source = await stores.Get(s.SnapshotTarget!).OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    var file = new FileStream(staged, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
                    await using (file.ConfigureAwait(false))
                    {
                        await source.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            var tool = DetectTool();
            var contents = await SnapshotInspector.InspectAsync(staged, settings.Value.Sandbox.EtcdBinary, tool.Name, settings.Value.Restore.InspectTimeout, logger, cancellationToken).ConfigureAwait(false);
            var spec = catalog.Find(cluster)!;
            var verified = s with
            {
                Step = RestoreStep.Plan,
                StagedPath = staged,
                Sha256 = contents.Sha256,
                SizeBytes = contents.SizeBytes,
                SnapshotRevision = contents.Revision,
                SnapshotKeyCount = contents.KeyCount,
                Token = RestorePlanner.NewToken(spec.Name, Guid.NewGuid()),
                PlannedAt = now,
                ToolName = tool.Name,
                ToolVersion = tool.Version.ToString(),
                Failure = null,
            };
            _ = PlanOf(verified); // members must be plannable before going on
            return new WizardResult(true, $"verified: sha256 {contents.Sha256}, revision {contents.Revision:N0}, {contents.KeyCount:N0} keys", verified);
        }
        catch (Exception ex) when (ex is SnapshotIntegrityException or ArgumentException or TimeoutException || StorageErrors.IsStorageFailure(ex))
        {
            File.Delete(staged);
            s = s with { StagedPath = null };
            return new WizardResult(false, $"the snapshot is refused: {ex.Message}", s with { Failure = $"refused at Verify: {ex.Message}" });
        }
    });

    public Task<WizardResult> ConfirmPlanAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "accept plan", [RestoreStep.Plan], async (session, _) =>
    {
        var (differences, _) = await MatchMembersAsync(catalog.Find(cluster)!, cancellationToken).ConfigureAwait(false);
        return differences.Count > 0
            ? new WizardResult(false, MembersDiffer(differences), null)
            : new WizardResult(true, "plan accepted", session! with { Step = RestoreStep.SafetySnapshot });
    });

    /// <summary>Backs up the current state before anything is stopped (kept out of retention for 7 days).</summary>
    public Task<WizardResult> TakeSafetySnapshotAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "safety snapshot", [RestoreStep.SafetySnapshot], async (session, now) =>
    {
        var s = session!;
        var record = await runner.RunAsync(cluster, BackupTrigger.PreRestore, who, cancellationToken).ConfigureAwait(false);
        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallySucceeded))
        {
            return new WizardResult(false, $"the safety snapshot failed: {record.Error}. If no member can answer, type \"{RestorePhrases.ProceedWithoutSafetySnapshot}\" to go on without one.", s);
        }

        await ledger.ProtectAsync(record.FileName!, cluster, who.Label, now, now.AddDays(7), cancellationToken).ConfigureAwait(false);
        return new WizardResult(true, $"safety snapshot {record.FileName} taken (backup {record.Id}), kept for 7 days", s with { Step = RestoreStep.StopMembers, SafetyBackupId = record.Id, SafetyNote = record.FileName });
    });

    /// <summary>
    /// Goes on without a safety snapshot: only with the exact phrase, and only when no member answers (else one can be
    /// taken). A separate action from taking one, so that a wrong phrase can never fall through to "take a snapshot".
    /// </summary>
    public Task<WizardResult> ProceedWithoutSafetySnapshotAsync(string cluster, string? phrase, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "proceed without safety snapshot", [RestoreStep.SafetySnapshot], async (session, _) =>
    {
        if (!RestorePhrases.Matches(RestorePhrases.ProceedWithoutSafetySnapshot, phrase))
        {
            return new WizardResult(false, $"nothing was done: type \"{RestorePhrases.ProceedWithoutSafetySnapshot}\" to go on without a safety snapshot", null);
        }

        var spec = catalog.Find(cluster)!;
        foreach (var endpoint in spec.Endpoints)
        {
            try
            {
                await clients.For(spec).StatusAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return new WizardResult(false, $"nothing was done: {endpoint.Authority} answers, so a safety snapshot can be taken: take it", null);
            }
            catch (EtcdException)
            {
            }
        }

        return new WizardResult(true, "going on without a safety snapshot, as typed", session! with { Step = RestoreStep.StopMembers, SafetyNote = $"skipped by {who}: {RestorePhrases.ProceedWithoutSafetySnapshot}" });
    });

    public Task<WizardResult> StopMembersAsync(string cluster, string? phrase, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "stop members", [RestoreStep.StopMembers], async (session, _) =>
    {
        var s = session!;
        if (!RestorePhrases.Matches(RestorePhrases.StopMembers(cluster), phrase))
        {
            return new WizardResult(false, $"nothing was done: type the cluster name \"{cluster}\" to stop its members", null);
        }

        // Before anything is stopped: the members configured must be the members etcd has, or "down" would be judged
        // for names etcd does not know while the real members keep serving.
        var spec = catalog.Find(cluster)!;
        var (differences, listed) = await MatchMembersAsync(spec, cancellationToken).ConfigureAwait(false);
        if (differences.Count > 0)
        {
            return new WizardResult(false, MembersDiffer(differences), null);
        }

        if (listed is not null)
        {
            s = s with { MemberUrls = listed.ToDictionary(m => m.Name, m => new List<string>([.. m.ClientUrls, .. m.PeerUrls])) };
        }

        runner.Suspend(cluster, $"a restore is in progress (started by {s.StartedBy})");
        var states = new Dictionary<string, string>(s.MemberStates);
        var plan = PlanOf(s)!;
        var outputs = new Dictionary<string, string>();
        foreach (var member in plan.Members)
        {
            if (member.Control == MemberControl.Managed)
            {
                await Sandbox().StopMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
            }
            else if (member.Control == MemberControl.Command && CommandsOf(spec, member.Name) is { } commands)
            {
                outputs[member.Name] = (await _executor.RunCommandAsync(member.Name, "stop", CommandTemplate.Fill(commands.Stop, plan, member), cancellationToken).ConfigureAwait(false)).Detail;
            }
        }

        foreach (var member in plan.Members)
        {
            states[member.Name] = member.Control switch
            {
                MemberControl.Managed => await WhyNotDownAsync(s, spec, member.Name, cancellationToken).ConfigureAwait(false) is { } why
                    ? $"still answering: {why}"
                    : "stopped (proven down: its client and peer URLs refuse connections)",
                MemberControl.Command => await WhyNotDownAsync(s, spec, member.Name, cancellationToken).ConfigureAwait(false) is { } why
                    ? $"still answering after {outputs.GetValueOrDefault(member.Name)}: {why}"
                    : $"stopped (its client and peer URLs refuse connections; {outputs.GetValueOrDefault(member.Name)})",
                _ => "waiting: run the stop command on the host, then mark it done",
            };
        }

        var allDown = states.Values.All(v => v.StartsWith("stopped", StringComparison.Ordinal));
        return new WizardResult(allDown, allDown ? "every member is down" : "not every member is down yet", s with { MemberStates = states, Step = allDown ? RestoreStep.RestoreData : RestoreStep.StopMembers });
    });

    public Task<WizardResult> RestoreDataAsync(string cluster, string? phrase, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "restore data", [RestoreStep.RestoreData], async (session, now) =>
    {
        var s = session!;
        if (!RestorePhrases.Matches(RestorePhrases.RestoreData(cluster), phrase))
        {
            return new WizardResult(false, $"nothing was done: type \"{RestorePhrases.RestoreData(cluster)}\" to replace every member's data", null);
        }

        var plan = PlanOf(s)!;
        var states = new Dictionary<string, string>(s.MemberStates);
        foreach (var member in plan.Members)
        {
            if (states.GetValueOrDefault(member.Name)?.StartsWith("restored", StringComparison.Ordinal) == true)
            {
                continue; // never restored twice, even after a restart mid-step
            }

            if (member.Control == MemberControl.Manual)
            {
                states[member.Name] = "waiting: run the restore and move commands on the host, then mark it done";
                continue;
            }

            // Never touch a data dir under a running etcd: the console may have restarted (and the sandbox with it) since
            // the stop step, or someone started the member by hand. Managed members are stopped again; others must be down.
            var spec = catalog.Find(cluster)!;
            if (member.Control == MemberControl.Managed)
            {
                await Sandbox().StopMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
            }

            if (await WhyNotDownAsync(s, spec, member.Name, cancellationToken).ConfigureAwait(false) is { } why)
            {
                states[member.Name] = $"running again ({why}): its data was not touched; stop it (or go back with Roll back)";
                return new WizardResult(false, $"{member.Name} is running again ({why}), so its data was not touched. Stop it and repeat this step.", s with { MemberStates = states });
            }

            var result = member.Control == MemberControl.Command && CommandsOf(catalog.Find(cluster)!, member.Name)?.Restore is { } template
                ? await _executor.RunCommandAsync(member.Name, "restore", CommandTemplate.Fill(template, plan, member), cancellationToken).ConfigureAwait(false)
                : await _executor.RestoreMemberAsync(plan, member, cancellationToken).ConfigureAwait(false);
            states[member.Name] = result.Ok ? $"restored: {result.Detail}" : $"failed: {result.Detail}";
            await sessions.SaveAsync(s with { MemberStates = states }, now, cancellationToken).ConfigureAwait(false);
            if (!result.Ok)
            {
                return new WizardResult(false, $"restoring {member.Name} failed; nothing else was touched. Roll back puts the old data dirs back.", s with { MemberStates = states, Step = RestoreStep.Failed, FailedAt = RestoreStep.RestoreData, Failure = result.Detail });
            }
        }

        var done = states.Values.All(v => v.StartsWith("restored", StringComparison.Ordinal));
        return new WizardResult(done, done ? "every member's data is restored" : "waiting for members restored by hand", s with { MemberStates = states, Step = done ? RestoreStep.StartMembers : RestoreStep.RestoreData });
    });

    public Task<WizardResult> StartMembersAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "start members", [RestoreStep.StartMembers], async (session, _) =>
    {
        var s = session!;
        var plan = PlanOf(s)!;
        var states = new Dictionary<string, string>(s.MemberStates);
        foreach (var member in plan.Members)
        {
            if (member.Control == MemberControl.Managed)
            {
                await Sandbox().StartMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
            }
            else if (member.Control == MemberControl.Command && CommandsOf(catalog.Find(cluster)!, member.Name) is { } commands)
            {
                var started = await _executor.RunCommandAsync(member.Name, "start", CommandTemplate.Fill(commands.Start, plan, member), cancellationToken).ConfigureAwait(false);
                states[member.Name] = started.Detail;
            }
        }

        var client = clients.For(catalog.Find(cluster)!);
        var deadline = clock.GetUtcNow().AddSeconds(60);
        while (true)
        {
            var healthy = 0;
            foreach (var member in catalog.Find(cluster)!.Endpoints)
            {
                try
                {
                    healthy += (await client.StatusAsync(member, cancellationToken).ConfigureAwait(false)).Leader != 0 ? 1 : 0;
                }
                catch (EtcdException)
                {
                }
            }

            if (healthy == plan.Members.Count)
            {
                foreach (var member in plan.Members)
                {
                    states[member.Name] = "started";
                }

                return new WizardResult(true, "every member is up with a leader", s with { MemberStates = states, Step = RestoreStep.Prove });
            }

            if (clock.GetUtcNow() > deadline)
            {
                return new WizardResult(false, $"only {healthy} of {plan.Members.Count} members are up with a leader after 60 s; check their logs, then try again or roll back", s with { MemberStates = states });
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task<WizardResult> ProveAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "prove", [RestoreStep.Prove], async (session, _) =>
    {
        var s = session!;
        var report = await RestoreProof.CheckAsync(clients.For(catalog.Find(cluster)!), PlanOf(s)!, s.SnapshotRevision ?? 0, s.SnapshotKeyCount ?? 0, cancellationToken).ConfigureAwait(false);
        var lines = report.Checks.Select(c => new ProofLine(c.Check, c.Ok, c.Detail)).ToList();
        if (report.Ok)
        {
            runner.Unsuspend(cluster);
            CleanStaging(s);
        }

        return new WizardResult(report.Ok, report.Ok ? "the cluster is whole: restore complete" : "some checks failed: see the report", s with { Report = lines, Step = report.Ok ? RestoreStep.Done : RestoreStep.Prove });
    });

    /// <summary>
    /// Puts every replaced data dir back and starts the members again. Succeeds only when every member's original data
    /// is verifiably back; anything the console cannot do itself is reported with the commands to do it by hand.
    /// </summary>
    public Task<WizardResult> RollBackAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "roll back", [RestoreStep.Failed, RestoreStep.RestoreData, RestoreStep.StartMembers, RestoreStep.Prove], async (session, now) =>
    {
        var s = session!;
        var plan = PlanOf(s)!;
        var states = new Dictionary<string, string>(s.MemberStates);
        var spec = catalog.Find(cluster)!;
        var allBack = true;
        foreach (var member in plan.Members)
        {
            var byHand = $"by hand: stop it, then `mv {Shell.Quote(member.DataDir)} {Shell.Quote(member.DataDir)}.failed-restore && mv {Shell.Quote(member.AsideDir)} {Shell.Quote(member.DataDir)}`, then start it";
            if (member.Control == MemberControl.Managed)
            {
                await Sandbox().StopMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
                var rolled = RestoreExecutor.RollBack(member, now);
                await Sandbox().StartMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
                states[member.Name] = rolled.Detail;
                allBack &= rolled.Ok;
            }
            else if (member.Control == MemberControl.Command && CommandsOf(spec, member.Name) is { Restore: null } commands)
            {
                var stopped = await _executor.RunCommandAsync(member.Name, "stop", CommandTemplate.Fill(commands.Stop, plan, member), cancellationToken).ConfigureAwait(false);
                if (!stopped.Ok)
                {
                    states[member.Name] = $"not rolled back, its stop command failed ({stopped.Detail}); {byHand}";
                    allBack = false;
                    continue;
                }

                var rolled = RestoreExecutor.RollBack(member, now);
                var started = await _executor.RunCommandAsync(member.Name, "start", CommandTemplate.Fill(commands.Start, plan, member), cancellationToken).ConfigureAwait(false);
                states[member.Name] = $"{rolled.Detail}; {started.Detail}";
                allBack &= rolled.Ok && started.Ok;
            }
            else
            {
                // Manual members, and Command members restored by their own (possibly remote) template: not ours to move.
                states[member.Name] = byHand;
                allBack &= !(s.MemberStates.GetValueOrDefault(member.Name)?.StartsWith("restored", StringComparison.Ordinal) ?? false);
            }
        }

        if (!allBack)
        {
            return new WizardResult(false, "not every member could be rolled back by the console: see each member's state for what to do by hand", s with { MemberStates = states, Step = RestoreStep.Failed, Failure = s.Failure ?? "roll back incomplete" });
        }

        runner.Unsuspend(cluster);
        CleanStaging(s);
        return new WizardResult(true, "rolled back: the original data dirs are in place and the members started", s with { MemberStates = states, Step = RestoreStep.RolledBack });
    });

    /// <summary>
    /// For a member the console does not control: the operator ran the shown commands. At Stop the wizard checks the
    /// member no longer answers on any configured endpoint; at Restore it takes the operator's word (it cannot see the
    /// host's disk); Start is checked for every member by the start step itself.
    /// </summary>
    public Task<WizardResult> MarkDoneAsync(string cluster, string member, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, $"mark {member} done", [RestoreStep.StopMembers, RestoreStep.RestoreData], async (session, _) =>
    {
        var s = session!;
        var plan = PlanOf(s)!;
        if (plan.Members.FirstOrDefault(m => m.Name == member) is not { Control: not MemberControl.Managed })
        {
            return new WizardResult(false, $"{member} is not a member the operator controls by hand", null);
        }

        var states = new Dictionary<string, string>(s.MemberStates);
        if (s.Step == RestoreStep.StopMembers)
        {
            if (await WhyNotDownAsync(s, catalog.Find(cluster)!, member, cancellationToken).ConfigureAwait(false) is { } why)
            {
                return new WizardResult(false, $"{member} still answers ({why}): stop it first", null);
            }

            states[member] = "stopped (marked by the operator; its client and peer URLs refuse connections)";
        }
        else
        {
            states[member] = $"restored (marked by the operator: {plan.Members.First(m => m.Name == member).RestoreCommand})";
        }

        var next = s.Step == RestoreStep.StopMembers
            ? (states.Values.All(v => v.StartsWith("stopped", StringComparison.Ordinal)) ? RestoreStep.RestoreData : RestoreStep.StopMembers)
            : (states.Values.All(v => v.StartsWith("restored", StringComparison.Ordinal)) ? RestoreStep.StartMembers : RestoreStep.RestoreData);
        return new WizardResult(true, $"{member} marked done", s with { MemberStates = states, Step = next });
    });

    /// <summary>
    /// The configured members against etcd's own member list, from the first endpoint that gives one. When none answers
    /// (the whole cluster is down already) there is nothing to compare, and "down" is proven per member by its URLs.
    /// </summary>
    private async Task<(IReadOnlyList<string> Differences, IReadOnlyList<EtcdMember>? Listed)> MatchMembersAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        var client = clients.For(spec);
        foreach (var endpoint in spec.Endpoints)
        {
            try
            {
                var listed = await client.ListMembersAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return (MemberMatch.Differences(spec.Members, listed), listed);
            }
            catch (EtcdException)
            {
            }
        }

        return ([], null);
    }

    private static string MembersDiffer(IReadOnlyList<string> differences) =>
        $"nothing was done: the configured members do not match etcd's member list. {string.Join("; ", differences)}. Correct Console:Clusters:N:Members (names and peer URLs as etcd has them) and start the restore again.";

    /// <summary>
    /// Null when the member is proven down: its own client and peer URLs (from etcd's member list before the stop) all
    /// refuse connections. Without that list, its configured peer URL and every endpoint of the cluster must refuse.
    /// </summary>
    private async Task<string?> WhyNotDownAsync(RestoreSession session, ClusterSpec spec, string member, CancellationToken cancellationToken)
    {
        List<Uri> urls;
        if (session.MemberUrls.TryGetValue(member, out var recorded) && recorded.Count > 0)
        {
            urls = [.. recorded.Select(u => new Uri(u))];
        }
        else if (spec.Members.FirstOrDefault(m => m.Name == member)?.Control == MemberControl.Managed
            && Sandbox().Members.FirstOrDefault(m => m.Layout.Name == member)?.Layout is { } layout)
        {
            urls = [layout.ClientUrl, layout.PeerUrl];
        }
        else
        {
            urls = [.. spec.Endpoints];
            if (spec.Members.FirstOrDefault(m => m.Name == member)?.PeerUrl is { } peer)
            {
                urls.Add(peer);
            }
        }

        return await MemberProbe.WhyNotDownAsync(urls, ProbeTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a restore before any data was replaced. Members the wizard stopped are started again on their untouched data.
    /// </summary>
    public Task<WizardResult> AbandonAsync(string cluster, Actor who, CancellationToken cancellationToken) => RunAsync(cluster, who, "abandon", [RestoreStep.Choose, RestoreStep.Verify, RestoreStep.Plan, RestoreStep.SafetySnapshot, RestoreStep.StopMembers, RestoreStep.RestoreData], async (session, _) =>
    {
        var s = session!;
        if (s.MemberStates.Values.Any(v => v.StartsWith("restored", StringComparison.Ordinal)))
        {
            return new WizardResult(false, "a member's data was already replaced: use Roll back instead", null);
        }

        var notes = new List<string>();
        if (s.Step is RestoreStep.StopMembers or RestoreStep.RestoreData && PlanOf(s) is { } plan)
        {
            var spec = catalog.Find(cluster)!;
            foreach (var member in plan.Members)
            {
                if (member.Control == MemberControl.Managed)
                {
                    await Sandbox().StartMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
                }
                else if (member.Control == MemberControl.Command && CommandsOf(spec, member.Name) is { } commands)
                {
                    notes.Add((await _executor.RunCommandAsync(member.Name, "start", CommandTemplate.Fill(commands.Start, plan, member), cancellationToken).ConfigureAwait(false)).Detail);
                }
                else
                {
                    notes.Add($"{member.Name}: start it again by hand");
                }
            }
        }

        runner.Unsuspend(cluster);
        CleanStaging(s);
        var message = notes.Count == 0 ? "restore abandoned; no data was changed" : $"restore abandoned; no data was changed; members started again: {string.Join("; ", notes)}";
        return new WizardResult(true, message, s with { Step = RestoreStep.RolledBack, Failure = $"abandoned by {who}" });
    });

    private void CleanStaging(RestoreSession session)
    {
        try
        {
            var staging = Path.Combine(Path.GetFullPath(settings.Value.DataDir), "restore", session.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
        catch (IOException)
        {
            // Only staging copies of a snapshot; they will be removed by hand or next time.
        }
    }

    /// <summary>
    /// Runs one action under the gate: checks the persisted session is at one of <paramref name="allowed"/> steps,
    /// runs it, saves the resulting session and audits the outcome. A refused action changes nothing. Every action
    /// needs the Admin role, checked against the user as stored now.
    /// </summary>
    private async Task<WizardResult> RunAsync(string cluster, Actor who, string action, RestoreStep[]? allowed, Func<RestoreSession?, DateTimeOffset, Task<WizardResult>> body)
    {
        var auditAction = AuditActions.RestorePrefix + (action.StartsWith("mark ", StringComparison.Ordinal) ? "mark-done" : action.Replace(' ', '-'));
        await guard.DemandAsync(who, Role.Admin, auditAction, cluster, null, CancellationToken.None).ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var now = clock.GetUtcNow();
            var session = await sessions.ActiveAsync(cluster, CancellationToken.None).ConfigureAwait(false);
            if (allowed is not null && (session is null || !allowed.Contains(session.Step)))
            {
                var refused = new WizardResult(false, session is null ? $"there is no restore of '{cluster}' in progress" : $"\"{action}\" is not possible at the {session.Step} step", session);
                await audit.RecordAsync(who, auditAction, cluster, session?.SnapshotFile, AuditOutcome.Failed, refused.Message, CancellationToken.None).ConfigureAwait(false);
                return refused;
            }

            WizardResult result;
            try
            {
                result = await body(session, now).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await audit.RecordAsync(who, auditAction, cluster, session?.SnapshotFile, AuditOutcome.Failed, ex.Message, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            var saved = result.Session ?? session;
            if (result.Session is not null && result.Session.Id != 0)
            {
                await sessions.SaveAsync(result.Session, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }

            // Audited once the session is saved, so the log never claims a step the database does not have.
            await audit.RecordAsync(who, auditAction, cluster, saved?.SnapshotFile, result.Ok ? AuditOutcome.Succeeded : AuditOutcome.Failed, result.Message, CancellationToken.None).ConfigureAwait(false);
            if (saved is not null && saved.Id != 0)
            {
                await sessions.AuditAsync(saved.Id, new RestoreAuditEntry(now, who.Label, (session?.Step ?? RestoreStep.Choose).ToString(), action, result.Ok ? "ok" : "refused or failed", result.Message), CancellationToken.None).ConfigureAwait(false);
                Changed?.Invoke(saved);
            }

            return result with { Session = saved };
        }
        finally
        {
            _gate.Release();
        }
    }

    private static MemberCommands? CommandsOf(ClusterSpec spec, string member) => spec.Members.FirstOrDefault(m => m.Name == member)?.Commands;

    private SandboxCluster Sandbox() => services.GetService<SandboxCluster>() ?? throw new InvalidOperationException("members marked Managed need the sandbox (Console:Sandbox:Enabled)");

    /// <summary>etcdutl where installed (3.5+), else etcdctl; its version decides the revision bump.</summary>
    private static RestoreTool DetectTool()
    {
        foreach (var name in new[] { "etcdutl", "etcdctl" })
        {
            if (EtcdBinary.Find(name) is null)
            {
                continue;
            }

            var info = new System.Diagnostics.ProcessStartInfo(name, "version") { RedirectStandardOutput = true, UseShellExecute = false };
            info.Environment["ETCDCTL_API"] = "3";
            using var process = System.Diagnostics.Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (RestoreTool.Parse(name, output) is { } tool)
            {
                return tool;
            }
        }

        throw new IOException("neither etcdutl nor etcdctl was found to restore with; " + EtcdBinary.InstallHint);
    }

    public void Dispose() => _gate.Dispose();
}
