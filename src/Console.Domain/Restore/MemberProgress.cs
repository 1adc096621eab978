namespace Console.Domain.Restore;

/// <summary>Where one member is in the procedure. The numbers are persisted: never reorder them.</summary>
public enum MemberState
{
    /// <summary>Still answering (not stopped yet, or running again): its data must not be touched.</summary>
    Running,
    /// <summary>The operator must stop it on its host and mark it done.</summary>
    AwaitingStop,
    /// <summary>Proven down: its client and peer URLs refuse connections.</summary>
    Stopped,
    /// <summary>The operator must restore it on its host and mark it done.</summary>
    AwaitingRestore,
    Restored,
    RestoreFailed,
    /// <summary>Restored and started; not yet seen with a leader.</summary>
    Starting,
    Started,
    RolledBack,
    /// <summary>The console could not put it back: its detail says what to do by hand.</summary>
    ByHand,
}

/// <summary>One member's state and what happened, in words (command output included).</summary>
public sealed record MemberProgress(MemberState State, string Detail)
{
    /// <summary>Its data dir holds (or may hold) the snapshot's data.</summary>
    public bool DataReplaced => State is MemberState.Restored or MemberState.Starting or MemberState.Started;

    /// <summary>The wizard waits for the operator to do this member's part and mark it done.</summary>
    public bool AwaitsOperator => State is MemberState.AwaitingStop or MemberState.AwaitingRestore;

    /// <summary>
    /// Reads a state persisted as free text before states were an enum (sessions saved by earlier versions), by the
    /// words each text began with. Anything else was a start command's output, written only on restored members.
    /// </summary>
    public static MemberProgress FromLegacyText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        (string Prefix, MemberState State)[] prefixes =
        [
            ("stopped", MemberState.Stopped),
            ("still answering", MemberState.Running),
            ("running again", MemberState.Running),
            ("waiting: run the stop", MemberState.AwaitingStop),
            ("waiting: run the restore", MemberState.AwaitingRestore),
            ("restored", MemberState.Restored),
            ("failed", MemberState.RestoreFailed),
            ("started", MemberState.Started),
            ("the original data is back", MemberState.RolledBack),
            ("nothing to roll back", MemberState.RolledBack),
            ("by hand", MemberState.ByHand),
            ("not rolled back", MemberState.ByHand),
            ("rolling back failed", MemberState.ByHand),
        ];
        foreach (var (prefix, state) in prefixes)
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                return new MemberProgress(state, text);
            }
        }

        return new MemberProgress(MemberState.Starting, text);
    }
}
