namespace Console.Infrastructure.Hosting;

/// <summary>
/// How long each part of shutdown may take (Ctrl+C, SIGTERM). The host alone bounds nothing: it cancels the token it
/// gives every service's StopAsync after <see cref="Services"/>, then waits for as long as a service ignores it. So
/// every wait of ours has its own deadline, and the process exits after <see cref="Process"/> whatever is left.
/// </summary>
public static class ShutdownBudget
{
    /// <summary>The host's ShutdownTimeout: the web server, the scheduler and every background loop get this long.</summary>
    public static readonly TimeSpan Services = TimeSpan.FromSeconds(20);

    /// <summary>A sandbox member gets this long after SIGTERM, then SIGKILL.</summary>
    public static readonly TimeSpan MemberGrace = TimeSpan.FromSeconds(10);

    /// <summary>After SIGKILL, how long to wait for a member to go (one stuck in the kernel does not) before leaving
    /// it to the next start, which stops it by its pid file.</summary>
    public static readonly TimeSpan AfterKill = TimeSpan.FromSeconds(5);

    /// <summary>The whole of shutdown, from the stop request to the process's exit, releasing services included.</summary>
    public static readonly TimeSpan Process = Services + AfterKill + TimeSpan.FromSeconds(10);

    /// <summary>How often the log says what shutdown is still waiting for.</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(5);
}
