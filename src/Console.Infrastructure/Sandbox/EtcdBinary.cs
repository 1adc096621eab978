namespace Console.Infrastructure.Sandbox;

/// <summary>Finds an executable (etcd, etcdctl) by path or on PATH.</summary>
public static class EtcdBinary
{
    public const string InstallHint = "install it with 'sudo apt-get install etcd-server etcd-client' (or run scripts/setup.sh)";

    public static string? Find(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (nameOrPath.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(nameOrPath) ? Path.GetFullPath(nameOrPath) : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, nameOrPath))
            .FirstOrDefault(File.Exists);
    }
}
