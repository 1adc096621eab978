using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Console.Domain.Backups;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>
/// Writes to a source etcd like a busy application: puts, overwrites, deletes, multi-operation transactions, and keys
/// on short leases that expire during the run (plus some on a long lease that outlives it).
/// </summary>
internal static class SourceWriter
{
    public static async Task<long> RunAsync(EtcdClusterClient client, Uri endpoint, TimeSpan duration, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var live = new HashSet<string>();
        var clock = Stopwatch.StartNew();
        var longLease = 0x7000_0000_0000_0000L + seed;
        await client.LeaseGrantAsync(endpoint, longLease, 600, cancellationToken);
        var nextLease = longLease + 1;
        var revision = 0L;
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (clock.Elapsed < duration && await pace.WaitForNextTickAsync(cancellationToken))
        {
            var roll = random.Next(100);
            var ops = new List<DeltaEvent>();
            string Key() => $"/app/{random.Next(300):D3}";
            byte[] Value() => Encoding.UTF8.GetBytes($"v{random.Next(1_000_000)}-{new string('x', random.Next(40))}");
            if (roll < 45)
            {
                ops.Add(Put(Key(), Value(), 0));
            }
            else if (roll < 60 && live.Count > 0)
            {
                ops.Add(Delete(live.ElementAt(random.Next(live.Count))));
            }
            else if (roll < 80)
            {
                foreach (var key in Enumerable.Range(0, random.Next(2, 5)).Select(_ => Key()).Distinct())
                {
                    ops.Add(live.Contains(key) && random.Next(3) == 0 ? Delete(key) : Put(key, Value(), 0));
                }
            }
            else if (roll < 92)
            {
                // A short lease (2-3 s) that nobody keeps alive: it expires mid-run and etcd deletes its keys.
                var lease = nextLease++;
                await client.LeaseGrantAsync(endpoint, lease, random.Next(2, 4), cancellationToken);
                ops.AddRange(Enumerable.Range(0, random.Next(1, 4)).Select(i => Put($"/lease/{lease:x}/{i}", Value(), lease)));
            }
            else
            {
                ops.Add(Put($"/long/{random.Next(20)}", Value(), longLease));
            }

            if (ops.Count == 0)
            {
                continue;
            }

            revision = await client.ApplyRevisionAsync(endpoint, ops, cancellationToken);
            foreach (var op in ops)
            {
                if (op.Kind == DeltaEventKind.Put)
                {
                    live.Add(op.KeyText);
                }
                else
                {
                    live.Remove(op.KeyText);
                }
            }
        }

        return revision;
    }

    private static DeltaEvent Put(string key, byte[] value, long lease) => new(DeltaEventKind.Put, Encoding.UTF8.GetBytes(key), value, 0, 0, 0, lease);

    private static DeltaEvent Delete(string key) => new(DeltaEventKind.Delete, Encoding.UTF8.GetBytes(key), [], 0, 0, 0, 0);
}

/// <summary>The reference tools: etcdctl against any endpoint, and a built snapshot restored with etcdctl into a fresh etcd.</summary>
internal static class ReferenceTools
{
    public static string Etcdctl(Uri endpoint, params string[] arguments)
    {
        var info = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add($"--endpoints={endpoint.ToString().TrimEnd('/')}");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Result : throw new InvalidOperationException($"etcdctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
    }

    /// <summary>`etcdctl get "" --prefix -w json` (at <paramref name="revision"/> when given): the header revision and every key-value as etcd reports it.</summary>
    public static (long Revision, string Kvs) Dump(Uri endpoint, long? revision = null)
    {
        string[] arguments = revision is { } r ? ["get", "", "--prefix", "-w", "json", $"--rev={r}"] : ["get", "", "--prefix", "-w", "json"];
        using var json = JsonDocument.Parse(Etcdctl(endpoint, arguments));
        var header = json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        var kvs = json.RootElement.TryGetProperty("kvs", out var list) ? list.GetRawText() : "[]";
        return (header, kvs);
    }

    /// <summary>Restores <paramref name="snapshot"/> with `etcdctl snapshot restore` into <paramref name="dir"/> and starts an etcd on it.</summary>
    public static async Task<EtcdProcess> RestoreAndStartAsync(string snapshot, string dir)
    {
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("check", ports[0], ports[1], Path.Combine(dir, "data"));
        var initial = EtcdMemberLayout.InitialCluster([layout]);
        Etcdctl(new Uri("http://127.0.0.1:1"), "snapshot", "restore", snapshot, "--name", "check", "--initial-cluster", initial, "--initial-advertise-peer-urls", layout.PeerUrl.ToString().TrimEnd('/'), "--data-dir", layout.DataDir);
        var member = EtcdProcess.Start(EtcdBinary.Find("etcd")!, layout, initial, "check");
        try
        {
            await Eventually.ValueAsync(
                () => Task.FromResult(TryStatus(layout.ClientUrl)),
                ok => ok,
                TimeSpan.FromSeconds(90));
            return member;
        }
        catch
        {
            await member.DisposeAsync();
            throw;
        }
    }

    private static bool TryStatus(Uri endpoint)
    {
        try
        {
            Etcdctl(endpoint, "endpoint", "status");
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>What a console with continuous backup on has stored: the base snapshot of its window's span, on its local target.</summary>
internal static class CapturedBy
{
    public static async Task<RecoverableSpan> SpanAsync(IServiceProvider services) =>
        Assert.Single((await services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None)).Spans);

    /// <summary>The local copy of the span's base snapshot (a plain .db: the capture tests' target is neither compressed nor sealed).</summary>
    public static async Task<string> BaseSnapshotAsync(IServiceProvider services)
    {
        var span = await SpanAsync(services);
        Assert.True(SnapshotName.TryParse(span.BaseSnapshot, out var name), span.BaseSnapshot);
        return services.GetRequiredService<LocalSnapshotStore>().PathOf(name);
    }
}
