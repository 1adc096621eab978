using System.Collections.Immutable;
using System.Threading.Channels;
using Console.Domain.Clusters;

namespace Console.Infrastructure.Clusters;

/// <summary>
/// The latest health of every cluster, published by <see cref="ClusterStatusMonitor"/>. Pages read
/// <see cref="Current"/> and subscribe to <see cref="Changed"/>; they never call etcd themselves.
/// </summary>
public sealed class ClusterStatusBoard
{
    private ImmutableDictionary<ClusterName, ClusterHealth> _current = ImmutableDictionary<ClusterName, ClusterHealth>.Empty;
    private readonly Channel<bool> _refresh = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public event Action? Changed;

    public IReadOnlyDictionary<ClusterName, ClusterHealth> Current => _current;

    public void Publish(ClusterHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        ImmutableInterlocked.AddOrUpdate(ref _current, health.Cluster, health, (_, _) => health);
        Changed?.Invoke();
    }

    /// <summary>Asks the monitor to poll now instead of at its next tick.</summary>
    public void RequestRefresh() => _refresh.Writer.TryWrite(true);

    /// <summary>Waits until a refresh is requested or <paramref name="timeout"/> passes.</summary>
    internal async Task WaitForRefreshRequestAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            await _refresh.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval passed.
        }
    }
}
