namespace Console.Domain.Clusters;

/// <summary>How the console can act on a member during a restore.</summary>
public enum MemberControl
{
    /// <summary>The operator runs the commands the console prints.</summary>
    Manual,
    /// <summary>The console runs configured command templates (systemctl, ssh, ...).</summary>
    Command,
    /// <summary>The console owns the process (the sandbox's members).</summary>
    Managed,
}
