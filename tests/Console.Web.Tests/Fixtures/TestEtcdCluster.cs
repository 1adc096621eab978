using System.Diagnostics;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// Real etcd members started from Debian's binary on free loopback ports, optionally serving TLS with required
/// client certificates, optionally with auth enabled. Disposing stops every process it started.
/// </summary>
public sealed class TestEtcdCluster : IAsyncDisposable
{
    public const string RootPassword = "root-secret-for-tests";
    private readonly TestDirectory _directory;

    private readonly List<EtcdProcess> _members;
    private (string Binary, string InitialCluster, string Token, string[] Extra) _launch;

    private TestEtcdCluster(TestDirectory directory, List<EtcdProcess> members, TestCertificates? certificates, bool auth)
    {
        _directory = directory;
        _members = members;
        Certificates = certificates;
        AuthEnabled = auth;
    }

    public IReadOnlyList<EtcdProcess> Members => _members;

    /// <summary>Stops every member gracefully (as an operator's "systemctl stop etcd" would).</summary>
    public Task StopAllAsync() => Task.WhenAll(_members.Select(m => m.StopAsync(TimeSpan.FromSeconds(10))));

    /// <summary>Starts every member again on the same ports and data dirs.</summary>
    public async Task StartAllAgainAsync()
    {
        for (var i = 0; i < _members.Count; i++)
        {
            await _members[i].DisposeAsync();
            _members[i] = EtcdProcess.Start(_launch.Binary, _members[i].Layout, _launch.InitialCluster, _launch.Token, _launch.Extra);
        }

        await WaitForLeaderAsync(TimeSpan.FromSeconds(30));
    }

    public TestCertificates? Certificates { get; }

    public bool AuthEnabled { get; }

    public IReadOnlyList<Uri> Endpoints => [.. Members.Select(m => m.Layout.ClientUrl)];

    public string Directory => _directory.Path;

    public static async Task<TestEtcdCluster> StartAsync(int size = 1, bool tls = false, bool auth = false, string? name = null, IReadOnlyList<string>? extraArguments = null)
    {
        var binary = EtcdBinary.Find("etcd") ?? throw new InvalidOperationException($"etcd is not installed: {EtcdBinary.InstallHint}");
        var directory = new TestDirectory(name ?? "etcd");
        var certificates = tls ? TestCertificates.Create(directory.Path) : null;
        var ports = FreePorts.Pick(size * 2);
        var layouts = Enumerable.Range(0, size)
            .Select(i => new EtcdMemberLayout($"m{i + 1}", ports[2 * i], ports[(2 * i) + 1], directory.Combine($"m{i + 1}"), tls ? "https" : "http"))
            .ToList();
        var initialCluster = EtcdMemberLayout.InitialCluster(layouts);
        string[] extra = certificates is null
            ? [.. extraArguments ?? []]
            : ["--cert-file", certificates.ServerCertFile, "--key-file", certificates.ServerKeyFile, "--client-cert-auth", "--trusted-ca-file", certificates.CaFile, .. extraArguments ?? []];
        var token = $"test-{Guid.NewGuid():N}";
        var members = layouts.Select(l => EtcdProcess.Start(binary, l, initialCluster, token, extra)).ToList();
        var cluster = new TestEtcdCluster(directory, members, certificates, auth) { _launch = (binary, initialCluster, token, extra) };
        try
        {
            await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
            if (auth)
            {
                cluster.EnableAuth();
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The cluster as the console would be configured for it (with the client certificate and root credentials).</summary>
    public ClusterSpec Spec(string name = "test", bool withClientCertificate = true, EtcdCredentials? credentials = null) => new(
        ClusterName.Parse(name),
        Endpoints,
        Certificates is null ? null : new TlsSpec(Certificates.CaFile, withClientCertificate ? Certificates.ClientCertFile : null, withClientCertificate ? Certificates.ClientKeyFile : null),
        credentials ?? (AuthEnabled ? new EtcdCredentials("root", RootPassword) : null),
        [.. Members.Select(m => new MemberSpec(m.Layout.Name, m.Layout.PeerUrl, m.Layout.DataDir, MemberControl.Manual))]);

    /// <summary>Runs etcdctl against the cluster (the reference tool), failing the test on a non-zero exit.</summary>
    public string Etcdctl(params string[] arguments)
    {
        var info = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add($"--endpoints={string.Join(',', Endpoints.Select(e => e.ToString().TrimEnd('/')))}");
        if (Certificates is not null)
        {
            info.ArgumentList.Add($"--cacert={Certificates.CaFile}");
            info.ArgumentList.Add($"--cert={Certificates.ClientCertFile}");
            info.ArgumentList.Add($"--key={Certificates.ClientKeyFile}");
        }

        if (AuthEnabled && _authOn)
        {
            info.ArgumentList.Add($"--user=root:{RootPassword}");
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"etcdctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
        }

        return output.Result;
    }

    private bool _authOn;

    private void EnableAuth()
    {
        Etcdctl("user", "add", "root", $"--new-user-password={RootPassword}", "--interactive=false");
        Etcdctl("auth", "enable");
        _authOn = true;
    }

    private async Task WaitForLeaderAsync(TimeSpan timeout)
    {
        using var client = new EtcdClusterClient(Spec(), TimeSpan.FromSeconds(2));
        var stopwatch = Stopwatch.StartNew();
        var last = "no answer";
        while (stopwatch.Elapsed < timeout)
        {
            if (Members.FirstOrDefault(m => m.HasExited) is { } dead)
            {
                throw new InvalidOperationException($"etcd member {dead.Layout.Name} exited: {dead.LogTail()}");
            }

            try
            {
                var statuses = await Task.WhenAll(Endpoints.Select(e => client.StatusAsync(e, CancellationToken.None)));
                if (statuses.All(s => s.Leader != 0))
                {
                    return;
                }
            }
            catch (EtcdException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"etcd did not elect a leader within {timeout}: {last}");
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Members.Select(m => m.DisposeAsync().AsTask()));
        _directory.Dispose();
    }
}
