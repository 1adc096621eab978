using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Restore;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Restore;

/// <summary>
/// The etcd disaster-recovery procedure as a sequence that cannot be skipped or reordered: choose, verify, plan,
/// safety snapshot, stop members, restore data, start members, prove. What each step allows is the procedure's
/// (<see cref="RestoreProcedure"/>); how a member is stopped, restored or started is its control's
/// (<see cref="IMemberControl"/>); the staged file is the staging area's; running, saving and auditing an action is
/// the journal's. What is left here is the order of things.
/// </summary>
public sealed class RestoreWizard(
    ClusterCatalog catalog,
    BackupRunner runner,
    SnapshotLedger ledger,
    EtcdClusterClientFactory clients,
    MemberControls controls,
    RestoreStaging staging,
    RestoreJournal journal,
    IDeltaHistory? history = null,
    IPointInTimeBuilder? builder = null)
{
    public const string UploadTarget = RestoreStaging.UploadTarget;

    /// <summary>The session's <see cref="RestoreSession.SnapshotTarget"/> when the source is built from a point in time.</summary>
    public const string PointInTimeSource = "point-in-time";

    /// <summary>How a point-in-time build at Verify is getting on (phase, revision, target), by cluster, on the builder's thread.</summary>
    public event Action<string, PointInTimeProgress>? Building;

    public event Action<RestoreSession>? Changed
    {
        add => journal.Changed += value;
        remove => journal.Changed -= value;
    }

    public Task<RestoreSession?> CurrentAsync(string cluster, CancellationToken cancellationToken) => journal.LatestAsync(cluster, cancellationToken);

    public Task<IReadOnlyList<RestoreAuditEntry>> AuditAsync(RestoreSession session, CancellationToken cancellationToken) => journal.TrailAsync(session, cancellationToken);

    /// <summary>The plan of a session past Verify, recomputed deterministically from what was persisted.</summary>
    public RestorePlan? PlanOf(RestoreSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session is { StagedPath: { } path, Token: { } token, PlannedAt: { } at, ToolName: { } tool, ToolVersion: { } version } && catalog.Find(session.Cluster) is { } spec
            ? RestorePlanner.Plan(spec.Name, spec.Members, path, new RestoreTool(tool, Version.Parse(version)), at, token)
            : null;
    }

    public Task<WizardResult> BeginAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, null, "begin", async (current, now) =>
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

        // One restore per cluster across every replica: the database refuses a second active session.
        var created = await journal.TryCreateAsync(new RestoreSession { Cluster = cluster, StartedBy = who.Label, StartedAt = now, Step = RestoreStep.Choose }, now, cancellationToken).ConfigureAwait(false);
        if (created is null && await journal.ActiveAsync(cluster, cancellationToken).ConfigureAwait(false) is { } other)
        {
            return new WizardResult(true, $"resuming the restore started by {other.StartedBy} at {other.StartedAt:u} (begun meanwhile on another console)", other);
        }

        return created is null
            ? new WizardResult(false, $"a restore of '{cluster}' was begun and ended meanwhile on another console; begin again", null)
            : new WizardResult(true, "restore started: choose a snapshot", created);
    });

    public Task<WizardResult> ChooseAsync(string cluster, string target, string fileName, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.Choose, RestoreWords.Of(RestoreAction.Choose), (session, _) =>
        Task.FromResult(!SnapshotName.TryParse(fileName, out var name) || name.Cluster.Value != cluster || !staging.IsKnownTarget(target)
            ? new WizardResult(false, $"'{fileName}' in '{target}' is not a snapshot of {cluster}", session)
            : new WizardResult(true, $"chose {fileName} from {target}", session! with { Step = RestoreStep.Verify, SnapshotTarget = target, SnapshotFile = fileName, StagedPath = null, PointInTime = null, PointInTimeBuilt = null, Failure = null })));

    /// <summary>
    /// The cluster's recoverable window, or null when it has none to offer (Continuous off, or no continuous capture in
    /// this console): then only snapshots can be restored.
    /// </summary>
    public async Task<RecoverableWindow?> WindowAsync(string cluster, CancellationToken cancellationToken) =>
        history is not null && builder is not null && catalog.Find(cluster) is { Backup.Continuous.Enabled: true } spec
            ? await history.WindowAsync(spec.Name, cancellationToken).ConfigureAwait(false)
            : null;

    /// <summary>
    /// Chooses a point in time instead of a snapshot: only one inside the recoverable window as it is now (checked here,
    /// whatever the page checked); anything else changes nothing. Verify then builds the restore source from it.
    /// </summary>
    public Task<WizardResult> ChoosePointInTimeAsync(string cluster, PointInTimeTarget target, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.Choose, "choose point in time", async (session, _) =>
    {
        ArgumentNullException.ThrowIfNull(target);
        if (await WindowAsync(cluster, cancellationToken).ConfigureAwait(false) is not { } window)
        {
            return new WizardResult(false, $"{cluster} cannot be restored to a point in time: continuous backup is not on for it", null);
        }

        if (PointInTimeChoice.WhyNot(window, target) is { } why)
        {
            return new WizardResult(false, why, null);
        }

        var span = target.Revision is { } r ? window.SpanOf(r)! : window.SpanOf(target.Time!.Value)!;
        return new WizardResult(true, $"chose the point in time {target} (inside revisions {span.FromRevision} to {span.ToRevision}, from base snapshot {span.BaseSnapshot})",
            session! with { Step = RestoreStep.Verify, SnapshotTarget = PointInTimeSource, SnapshotFile = null, StagedPath = null, PointInTime = target, PointInTimeBuilt = null, Failure = null });
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
        var result = await journal.RunAsync(cluster, who, RestoreAction.Upload, RestoreWords.Of(RestoreAction.Upload), (session, _) =>
        {
            (outcome, var message) = staging.ReserveUpload(session!, declaredBytes);
            if (outcome == UploadOutcome.Accepted)
            {
                upload = new SnapshotUpload(this, staging, cluster, session!.Id, staging.DirOf(session), staging.MaxUploadBytes, who);
            }

            return Task.FromResult(new WizardResult(outcome == UploadOutcome.Accepted, message, null));
        }).ConfigureAwait(false);
        return new UploadAnswer(outcome, result.Message, upload);
    }

    /// <summary>The second half: the received file (complete, within the limit) becomes the session's snapshot. A session that ended meanwhile gets nothing.</summary>
    internal Task<WizardResult> CommitUploadAsync(string cluster, long sessionId, string partPath, long size, string originalName, Actor who) =>
        journal.RunAsync(cluster, who, RestoreAction.Upload, RestoreWords.Of(RestoreAction.Upload), (session, now) =>
        {
            var s = session!;
            if (s.Id != sessionId)
            {
                RestoreStaging.Discard(partPath);
                return Task.FromResult(new WizardResult(false, "the restore this upload was for has ended; the upload was discarded", null));
            }

            var name = SnapshotName.For(ClusterName.Parse(cluster), now);
            try
            {
                var (staged, replaced) = staging.PlaceUpload(s, partPath, name);
                var message = $"uploaded {originalName} ({size:N0} bytes) as {name.FileName}{(replaced is null ? string.Empty : $", replacing the earlier upload {replaced}")}";
                return Task.FromResult(new WizardResult(true, message, s with { Step = RestoreStep.Verify, SnapshotTarget = UploadTarget, SnapshotFile = name.FileName, StagedPath = staged, StagedOn = RestoreStaging.ThisHost, SizeBytes = size, PointInTime = null, PointInTimeBuilt = null, Failure = null }));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Task.FromResult(new WizardResult(false, $"the upload could not be put in place: {ex.Message}", null));
            }
        });

    /// <summary>Records an upload that failed after it started (too large, disk full, connection lost); its partial file is already gone.</summary>
    internal Task<WizardResult> FailUploadAsync(string cluster, string message, Actor who) =>
        journal.RunAsync(cluster, who, null, RestoreWords.Of(RestoreAction.Upload), (_, _) => Task.FromResult(new WizardResult(false, message, null)));

    /// <summary>
    /// Fetches the chosen copy to staging (opening a sealed one), verifies its footer, restores it once into a throwaway
    /// etcd to read its revision and key count.
    /// </summary>
    /// <param name="identities">age identities the operator gave for this restore; used for this step only, never stored.</param>
    public Task<WizardResult> VerifyAsync(string cluster, Actor who, CancellationToken cancellationToken, IReadOnlyList<Sealing.AgeIdentity>? identities = null) => journal.RunAsync(cluster, who, RestoreAction.Verify, RestoreWords.Of(RestoreAction.Verify), async (session, now) =>
    {
        var s = session!;
        if (RestoreStaging.WhyNotHere(s) is { } elsewhere)
        {
            return new WizardResult(false, elsewhere, null);
        }

        string? staged = null;
        try
        {
            PointInTimeResult? built = null;
            if (s.PointInTime is { } target)
            {
                (staged, built) = await BuildPointInTimeAsync(s, target, identities, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                staged = await staging.StageAsync(s, identities, cancellationToken).ConfigureAwait(false);
            }

            var (contents, tool) = await staging.InspectAsync(staged, cancellationToken).ConfigureAwait(false);
            if (built is not null && (contents.Revision != built.Revision || contents.KeyCount != built.KeyCount))
            {
                throw new PointInTimeException($"the built snapshot holds revision {contents.Revision} with {contents.KeyCount} keys, but the build reported revision {built.Revision} with {built.KeyCount} keys");
            }

            var verified = s with
            {
                SnapshotFile = built is null ? s.SnapshotFile : Path.GetFileName(staged),
                PointInTimeBuilt = built,
                Step = RestoreStep.Plan,
                StagedPath = staged,
                StagedOn = RestoreStaging.ThisHost,
                Sha256 = contents.Sha256,
                SizeBytes = contents.SizeBytes,
                SnapshotRevision = contents.Revision,
                SnapshotKeyCount = contents.KeyCount,
                Token = RestorePlanner.NewToken(catalog.Find(cluster)!.Name, Guid.NewGuid()),
                PlannedAt = now,
                ToolName = tool.Name,
                ToolVersion = tool.Version.ToString(),
                Failure = null,
            };
            _ = PlanOf(verified); // members must be plannable before going on
            var how = built is null ? string.Empty
                : $"built {s.PointInTime} from base snapshot {built.BaseSnapshot} (revision {built.BaseRevision:N0}) and {built.SegmentsReplayed} delta segments ({built.RevisionsReplayed:N0} revisions replayed) in {built.Elapsed.TotalSeconds:0.0} s; ";
            return new WizardResult(true, $"{how}verified: sha256 {contents.Sha256}, revision {contents.Revision:N0}, {contents.KeyCount:N0} keys", verified);
        }
        catch (Exception ex) when (ex is SnapshotIntegrityException or ArgumentException or TimeoutException or ZstdSharp.ZstdException or PointInTimeException or DeltaSegmentException || StorageErrors.IsStorageFailure(ex))
        {
            if (staged is not null)
            {
                RestoreStaging.Discard(staged);
            }

            var what = s.PointInTime is { } pit ? $"the point in time {pit} could not be built" : "the snapshot is refused";
            return new WizardResult(false, $"{what}: {ex.Message}", s with { StagedPath = null, PointInTimeBuilt = null, Failure = $"refused at Verify: {ex.Message}" });
        }
    });

    /// <summary>
    /// The point-in-time restore source, built into the session's staging dir by the builder (base snapshot, deltas
    /// replayed up to exactly the target, snapshotted and verified); its progress goes to <see cref="Building"/>.
    /// </summary>
    private async Task<(string Staged, PointInTimeResult Built)> BuildPointInTimeAsync(RestoreSession session, PointInTimeTarget target, IReadOnlyList<Sealing.AgeIdentity>? identities, CancellationToken cancellationToken)
    {
        if (builder is null)
        {
            throw new PointInTimeException("this console cannot build a point in time (continuous backup is not set up in it)");
        }

        var staged = staging.PointInTimePath(session);
        var progress = new Reporter(p => Building?.Invoke(session.Cluster, p));
        var built = await builder.BuildAsync(ClusterName.Parse(session.Cluster), target, staged, identities, progress, cancellationToken).ConfigureAwait(false);
        return (staged, built);
    }

    /// <summary>Reports on the builder's own thread: <see cref="Progress{T}"/> would post to a context the wizard does not have.</summary>
    private sealed class Reporter(Action<PointInTimeProgress> report) : IProgress<PointInTimeProgress>
    {
        public void Report(PointInTimeProgress value) => report(value);
    }

    public Task<WizardResult> ConfirmPlanAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.AcceptPlan, RestoreWords.Of(RestoreAction.AcceptPlan), async (session, _) =>
    {
        var (differences, _) = await MatchMembersAsync(catalog.Find(cluster)!, cancellationToken).ConfigureAwait(false);
        return differences.Count > 0
            ? new WizardResult(false, MembersDiffer(differences), null)
            : new WizardResult(true, "plan accepted", session! with { Step = RestoreStep.SafetySnapshot });
    });

    /// <summary>Backs up the current state before anything is stopped (kept out of retention for a while).</summary>
    public Task<WizardResult> TakeSafetySnapshotAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.TakeSafetySnapshot, RestoreWords.Of(RestoreAction.TakeSafetySnapshot), async (session, now) =>
    {
        var s = session!;
        var record = await runner.RunAsync(cluster, BackupTrigger.PreRestore, who, cancellationToken).ConfigureAwait(false);
        if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallySucceeded))
        {
            return new WizardResult(false, $"the safety snapshot failed: {record.Error}. If no member can answer, type \"{RestorePhrases.ProceedWithoutSafetySnapshot}\" to go on without one.", s);
        }

        await ledger.ProtectAsync(record.FileName!, cluster, who.Label, now, RestoreProcedure.SafetySnapshotKeptUntil(now), cancellationToken).ConfigureAwait(false);
        return new WizardResult(true, $"safety snapshot {record.FileName} taken (backup {record.Id}), kept for {RestoreProcedure.SafetyRetention.TotalDays:0} days", s with { Step = RestoreStep.StopMembers, SafetyBackupId = record.Id, SafetyNote = record.FileName });
    });

    /// <summary>
    /// Goes on without a safety snapshot: only with the exact phrase, and only when no member answers (else one can be
    /// taken). A separate action from taking one, so that a wrong phrase can never fall through to "take a snapshot".
    /// </summary>
    public Task<WizardResult> ProceedWithoutSafetySnapshotAsync(string cluster, string? phrase, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.ProceedWithoutSafetySnapshot, RestoreWords.Of(RestoreAction.ProceedWithoutSafetySnapshot), async (session, _) =>
    {
        if (!RestorePhrases.Matches(RestorePhrases.ProceedWithoutSafetySnapshot, phrase))
        {
            return new WizardResult(false, $"nothing was done: type \"{RestorePhrases.ProceedWithoutSafetySnapshot}\" to go on without a safety snapshot", null);
        }

        var spec = catalog.Find(cluster)!;
        var reachable = await AnsweringEndpointAsync(spec, cancellationToken).ConfigureAwait(false);
        return reachable is not null
            ? new WizardResult(false, $"nothing was done: {reachable.Authority} answers, so a safety snapshot can be taken: take it", null)
            : new WizardResult(true, "going on without a safety snapshot, as typed", session! with { Step = RestoreStep.StopMembers, SafetyNote = $"skipped by {who}: {RestorePhrases.ProceedWithoutSafetySnapshot}" });
    });

    public Task<WizardResult> StopMembersAsync(string cluster, string? phrase, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.StopMembers, RestoreWords.Of(RestoreAction.StopMembers), async (session, _) =>
    {
        var s = session!;
        if (!RestorePhrases.Matches(RestorePhrases.StopMembers(cluster), phrase))
        {
            return new WizardResult(false, $"nothing was done: type the cluster name \"{cluster}\" to stop its members", null);
        }

        // Members are not stopped for a restore this console could not carry out: the next step reads the staged file.
        if (RestoreStaging.WhyNotHere(s) is { } elsewhere)
        {
            return new WizardResult(false, elsewhere, null);
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

        // Backups of the cluster are refused from here on, on every replica: the session is at StopMembers (see BackupSuspensions).
        foreach (var (member, control) in MembersOf(s, spec))
        {
            s = s.WithMember(member.Name, await control.StopAsync(member, cancellationToken).ConfigureAwait(false));
        }

        var next = s.Procedure.StepAfterStop;
        return new WizardResult(next == RestoreStep.RestoreData, next == RestoreStep.RestoreData ? "every member is down" : "not every member is down yet", s with { Step = next });
    });

    public Task<WizardResult> RestoreDataAsync(string cluster, string? phrase, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.RestoreData, RestoreWords.Of(RestoreAction.RestoreData), async (session, _) =>
    {
        var s = session!;
        if (!RestorePhrases.Matches(RestorePhrases.RestoreData(cluster), phrase))
        {
            return new WizardResult(false, $"nothing was done: type \"{RestorePhrases.RestoreData(cluster)}\" to replace every member's data", null);
        }

        if (RestoreStaging.WhyNotHere(s) is { } elsewhere)
        {
            return new WizardResult(false, elsewhere, null);
        }

        foreach (var (member, control) in MembersOf(s, catalog.Find(cluster)!).Where(m => s.Procedure.NeedsRestore(m.Member.Name)))
        {
            var progress = await control.RestoreAsync(member, cancellationToken).ConfigureAwait(false);
            s = s.WithMember(member.Name, progress);
            switch (progress.State)
            {
                case MemberState.Running:
                    return new WizardResult(false, $"{member.Name} is running again, so its data was not touched. Stop it and repeat this step.", s);
                case MemberState.RestoreFailed:
                    return new WizardResult(false, $"restoring {member.Name} failed; nothing else was touched. Roll back puts the old data dirs back.", s with { Step = RestoreStep.Failed, FailedAt = RestoreStep.RestoreData, Failure = progress.Detail });
                case MemberState.Restored:
                    await journal.SaveAsync(s, cancellationToken).ConfigureAwait(false); // never restored twice, even after a crash mid-step
                    break;
            }
        }

        var next = s.Procedure.StepAfterRestore;
        return new WizardResult(next == RestoreStep.StartMembers, next == RestoreStep.StartMembers ? "every member's data is restored" : "waiting for members restored by hand", s with { Step = next });
    });

    public Task<WizardResult> StartMembersAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.StartMembers, RestoreWords.Of(RestoreAction.StartMembers), async (session, _) =>
    {
        var s = session!;
        var spec = catalog.Find(cluster)!;
        foreach (var (member, control) in MembersOf(s, spec))
        {
            s = s.WithMember(member.Name, await control.StartAsync(member, s.Members[member.Name], cancellationToken).ConfigureAwait(false));
        }

        var (healthy, expected) = await WaitForLeaderAsync(spec, s.Members.Count, cancellationToken).ConfigureAwait(false);
        if (healthy < expected)
        {
            return new WizardResult(false, $"only {healthy} of {expected} members are up with a leader after {RestoreProcedure.StartWait.TotalSeconds:0} s; check their logs, then try again or roll back", s);
        }

        foreach (var name in s.Members.Keys)
        {
            s = s.WithMember(name, new MemberProgress(MemberState.Started, "up with a leader"));
        }

        return new WizardResult(true, "every member is up with a leader", s with { Step = RestoreStep.Prove });
    });

    public Task<WizardResult> ProveAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.Prove, RestoreWords.Of(RestoreAction.Prove), async (session, _) =>
    {
        var s = session!;
        var report = await RestoreProof.CheckAsync(clients.For(catalog.Find(cluster)!), PlanOf(s)!, s.SnapshotRevision ?? 0, s.SnapshotKeyCount ?? 0, cancellationToken).ConfigureAwait(false);
        s = s with { Report = [.. report.Checks.Select(c => new ProofLine(c.Check, c.Ok, c.Detail))] };
        return report.Ok
            ? new WizardResult(true, "the cluster is whole: restore complete", End(s) with { Step = RestoreStep.Done })
            : new WizardResult(false, "some checks failed: see the report", s);
    });

    /// <summary>
    /// Puts every replaced data dir back and starts the members again. Succeeds only when every member's original data
    /// is verifiably back; anything the console cannot do itself is reported with the commands to do it by hand.
    /// </summary>
    public Task<WizardResult> RollBackAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.RollBack, RestoreWords.Of(RestoreAction.RollBack), async (session, now) =>
    {
        var s = session!;
        var after = new Dictionary<string, MemberProgress>();
        foreach (var (member, control) in MembersOf(s, catalog.Find(cluster)!))
        {
            after[member.Name] = await control.RollBackAsync(member, now, cancellationToken).ConfigureAwait(false);
        }

        var rolled = s with { Members = after };
        return s.Procedure.RolledBackFully(after)
            ? new WizardResult(true, "rolled back: the original data dirs are in place and the members started", End(rolled) with { Step = RestoreStep.RolledBack })
            : new WizardResult(false, "not every member could be rolled back by the console: see each member's state for what to do by hand", rolled with { Step = RestoreStep.Failed, Failure = s.Failure ?? "roll back incomplete" });
    });

    /// <summary>
    /// For a member the console does not run itself: the operator ran the shown commands. At Stop the wizard checks the
    /// member no longer answers on any of its URLs; at Restore it takes the operator's word (it cannot see the host's
    /// disk); Start is checked for every member by the start step itself.
    /// </summary>
    public Task<WizardResult> MarkDoneAsync(string cluster, string member, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.MarkDone, $"mark {member} done", async (session, _) =>
    {
        var s = session!;
        if (MembersOf(s, catalog.Find(cluster)!).FirstOrDefault(m => m.Member.Name == member).Member is not { } context || !RestoreProcedure.MayBeMarkedDone(context.Member.Control))
        {
            return new WizardResult(false, $"{member} is not a member the operator controls by hand", null);
        }

        if (s.Step == RestoreStep.StopMembers)
        {
            if (await context.WhyNotDownAsync(cancellationToken).ConfigureAwait(false) is { } why)
            {
                return new WizardResult(false, $"{member} still answers ({why}): stop it first", null);
            }

            s = s.WithMember(member, new MemberProgress(MemberState.Stopped, "marked by the operator; its client and peer URLs refuse connections"));
            return new WizardResult(true, $"{member} marked done", s with { Step = s.Procedure.StepAfterStop });
        }

        s = s.WithMember(member, new MemberProgress(MemberState.Restored, $"marked by the operator: {context.Member.RestoreCommand}"));
        return new WizardResult(true, $"{member} marked done", s with { Step = s.Procedure.StepAfterRestore });
    });

    /// <summary>Ends a restore before any data was replaced. Members the wizard stopped are started again on their untouched data.</summary>
    public Task<WizardResult> AbandonAsync(string cluster, Actor who, CancellationToken cancellationToken) => journal.RunAsync(cluster, who, RestoreAction.Abandon, RestoreWords.Of(RestoreAction.Abandon), async (session, _) =>
    {
        var s = session!;
        var notes = new List<string>();
        if (PlanOf(s) is not null)
        {
            foreach (var (member, control) in MembersOf(s, catalog.Find(cluster)!).Where(m => s.Members.ContainsKey(m.Member.Name)))
            {
                var started = await control.StartAsync(member, s.Members[member.Name], cancellationToken).ConfigureAwait(false);
                notes.Add($"{member.Name}: {started.Detail}");
            }
        }

        var message = notes.Count == 0 ? "restore abandoned; no data was changed" : $"restore abandoned; no data was changed; members started again: {string.Join("; ", notes)}";
        return new WizardResult(true, message, End(s) with { Step = RestoreStep.RolledBack, Failure = $"abandoned by {who}" });
    });

    /// <summary>Whatever way a restore ends: the staging area goes (backups resume once the ended session is saved).</summary>
    private RestoreSession End(RestoreSession session)
    {
        staging.Clean(session);
        return session;
    }

    /// <summary>Each planned member with its control, and the URLs that must refuse connections for it to be down.</summary>
    private IEnumerable<(MemberContext Member, IMemberControl Control)> MembersOf(RestoreSession session, ClusterSpec spec)
    {
        var plan = PlanOf(session) ?? throw new InvalidOperationException($"the restore of {session.Cluster} has no plan yet");
        foreach (var member in plan.Members)
        {
            var control = controls.For(member.Control);
            var configured = spec.Members.First(m => m.Name == member.Name);
            IReadOnlyList<Uri> urls = session.MemberUrls.TryGetValue(member.Name, out var recorded) && recorded.Count > 0
                ? [.. recorded.Select(u => new Uri(u))]
                : control.OwnUrls(member.Name) ?? [.. spec.Endpoints, .. configured.PeerUrl is { } peer ? new[] { peer } : []];
            yield return (new MemberContext(plan, member, configured, urls), control);
        }
    }

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

    /// <summary>The first endpoint that answers a status call; null when none does.</summary>
    private async Task<Uri?> AnsweringEndpointAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        foreach (var endpoint in spec.Endpoints)
        {
            try
            {
                await clients.For(spec).StatusAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return endpoint;
            }
            catch (EtcdException)
            {
            }
        }

        return null;
    }

    /// <summary>Polls every endpoint until as many see a leader as there are members, or the start wait is over.</summary>
    private async Task<(int Healthy, int Expected)> WaitForLeaderAsync(ClusterSpec spec, int expected, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RestoreProcedure.StartWait);
        var client = clients.For(spec);
        var healthy = 0;
        while (true)
        {
            healthy = 0;
            foreach (var endpoint in spec.Endpoints)
            {
                try
                {
                    healthy += (await client.StatusAsync(endpoint, cancellationToken).ConfigureAwait(false)).Leader != 0 ? 1 : 0;
                }
                catch (EtcdException)
                {
                }
            }

            if (healthy == expected)
            {
                return (healthy, expected);
            }

            try
            {
                await Task.Delay(200, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (healthy, expected);
            }
        }
    }
}
