using System.Runtime.CompilerServices;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Sealing;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// A delta history that reports the window a test sets (per cluster), for the pages and the wizard: the capture side
/// (ledger, watcher) is tested on its own. Reading segments is not something these tests do.
/// </summary>
public sealed class FakeDeltaHistory : IDeltaHistory
{
    private readonly Dictionary<string, RecoverableWindow> _windows = new(StringComparer.Ordinal);

    public int Reads { get; private set; }

    /// <summary>When set, reading a window fails with it (the ledger unreadable).</summary>
    public Exception? Failure { get; set; }

    public void Set(RecoverableWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        lock (_windows)
        {
            _windows[window.Cluster.Value] = window;
        }
    }

    public Task<RecoverableWindow> WindowAsync(ClusterName cluster, CancellationToken cancellationToken)
    {
        lock (_windows)
        {
            Reads++;
            if (Failure is { } failure)
            {
                return Task.FromException<RecoverableWindow>(failure);
            }

            return Task.FromResult(_windows.GetValueOrDefault(cluster.Value) ?? RecoverableWindow.Off(cluster));
        }
    }

    public async IAsyncEnumerable<DeltaSegment> ReadAsync(ClusterName cluster, long afterRevision, long throughRevision, IReadOnlyList<AgeIdentity>? identities, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        throw new NotSupportedException("the fake history has no segments; replay is tested with the real builder");
#pragma warning disable CS0162 // an iterator needs a yield to be one
        yield break;
#pragma warning restore CS0162
    }
}

/// <summary>
/// A point-in-time builder that stands for the replay (tested on its own): it writes a real etcd snapshot the test
/// made earlier as the state at the target (through a .part file, as the contract asks), reports progress, and
/// returns what it was told the snapshot holds; or fails with a <see cref="PointInTimeException"/> when told to.
/// </summary>
public sealed class FakePointInTimeBuilder : IPointInTimeBuilder
{
    public List<(ClusterName Cluster, PointInTimeTarget Target, string OutputPath)> Calls { get; } = [];

    /// <summary>The snapshot handed out as the state at any target, and what it holds.</summary>
    public (string Path, long Revision, long KeyCount, string BaseSnapshot)? Source { get; set; }

    /// <summary>When set, every build fails with this message.</summary>
    public string? Failure { get; set; }

    /// <summary>When set, a build waits for it after its first progress report (to see a build in flight).</summary>
    public TaskCompletionSource? Hold { get; set; }

    public async Task<PointInTimeResult> BuildAsync(ClusterName cluster, PointInTimeTarget target, string outputPath, IReadOnlyList<AgeIdentity>? identities, IProgress<PointInTimeProgress>? progress, CancellationToken cancellationToken)
    {
        Calls.Add((cluster, target, outputPath));
        progress?.Report(new PointInTimeProgress("replaying", 40, target.Revision ?? 100));
        if (Hold is { } hold)
        {
            await hold.Task.WaitAsync(cancellationToken);
        }

        if (Failure is { } failure || Source is not { } source)
        {
            throw new PointInTimeException(Failure ?? "no source snapshot was given to the fake builder");
        }

        var part = outputPath + ".part";
        File.Copy(source.Path, part, overwrite: true);
        File.Move(part, outputPath, overwrite: true);
        progress?.Report(new PointInTimeProgress("verifying", source.Revision, target.Revision ?? source.Revision));
        await Task.Yield();
        var bytes = new FileInfo(outputPath).Length;
        return new PointInTimeResult(source.Revision, null, source.KeyCount, "fake", bytes, source.BaseSnapshot, source.Revision - 1, 2, 1, TimeSpan.FromSeconds(1));
    }
}
