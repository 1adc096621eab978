using Console.Infrastructure.Etcd;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Feeds one snapshot stream to every target. A target that fails is dropped (its error kept) and the others go on:
/// a failing bucket must not cost the local copy, nor the other way round. Only when every target has failed does
/// the stream itself fail.
/// </summary>
internal sealed class TeeSink(IReadOnlyList<(string Target, ISnapshotWriter Writer)> writers, IDictionary<string, string> errors) : ISnapshotSink
{
    private readonly HashSet<string> _failed = new(StringComparer.Ordinal);

    public IEnumerable<(string Target, ISnapshotWriter Writer)> Healthy => writers.Where(w => !_failed.Contains(w.Target));

    public void Fail(string target, Exception exception)
    {
        _failed.Add(target);
        errors[target] = $"{target}: {StorageErrors.Describe(exception)}";
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        foreach (var (target, writer) in Healthy.ToList())
        {
            try
            {
                await writer.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Fail(target, ex);
            }
        }

        if (!Healthy.Any())
        {
            throw new BackupException($"every target failed: {string.Join("; ", errors.Values)}");
        }
    }
}
