namespace Console.Domain.Access;

public enum ActorKind
{
    /// <summary>A person signed in with a local user.</summary>
    User,

    /// <summary>Automation with an API token (from the database or from configuration).</summary>
    ApiToken,

    /// <summary>The console itself: the scheduler, start-up recovery, tests of the engine.</summary>
    System,
}

/// <summary>
/// Who asks for an action. Services check the actor's role on every mutating call and record the action under
/// <see cref="Label"/>; for users and database tokens the role is looked up again at the time of the call, so a
/// demotion or a disabled account takes effect at once, whatever an open page or a cookie still claims.
/// </summary>
/// <param name="Id">The user's or the database token's id; null for configuration tokens and the system.</param>
public sealed record Actor(string Name, Role Role, ActorKind Kind, long? Id = null)
{
    /// <summary>How records and the audit log name the actor: "alice", "token:ci", "scheduler" (user names cannot clash: see <see cref="Credentials.Reserved"/>).</summary>
    public string Label => Kind == ActorKind.ApiToken ? "token:" + Name : Name;

    /// <summary>The remote address the request came from, for the audit log; null for the system.</summary>
    public string? Address { get; init; }

    public static Actor System(string name) => new(name, Role.Admin, ActorKind.System);

    public bool Has(Role required) => Role >= required;

    public override string ToString() => Label;
}

/// <summary>The actor may not do what was asked. Nothing was changed.</summary>
public sealed class AccessDeniedException : Exception
{
    public AccessDeniedException(string message)
        : base(message)
    {
    }

    public AccessDeniedException()
    {
    }

    public AccessDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
