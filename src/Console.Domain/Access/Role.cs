namespace Console.Domain.Access;

/// <summary>What a person or token may do. Each role includes everything the roles below it may do.</summary>
public enum Role
{
    /// <summary>Reads every page and API.</summary>
    Viewer = 0,

    /// <summary>Also: back up now, pause and resume, verify, protect and download snapshots.</summary>
    Operator = 1,

    /// <summary>Also: restore, change settings, manage users and API tokens.</summary>
    Admin = 2,
}

public static class Roles
{
    public static bool TryParse(string? text, out Role role) =>
        Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role);
}
