using System.Buffers;
using Console.Domain.Access;

namespace Console.Infrastructure.Restore;

public enum UploadOutcome
{
    Accepted,
    /// <summary>No restore of the cluster is at Choose or Verify: nothing would use the file.</summary>
    NoRestoreWaiting,
    /// <summary>One upload per restore at a time.</summary>
    AlreadyUploading,
    /// <summary>Over Console:Restore:MaxUploadBytes.</summary>
    TooLarge,
    /// <summary>The staging disk cannot hold it.</summary>
    NoSpace,
    /// <summary>Refused or failed while receiving (bad request, connection lost, disk error).</summary>
    Failed,
}

/// <summary>The answer to an upload: Upload is set only when the body may be read (dispose it when done).</summary>
public sealed record UploadAnswer(UploadOutcome Outcome, string Message, SnapshotUpload? Upload = null);

/// <summary>
/// One upload in flight for one restore session, granted by <see cref="RestoreWizard.StartUploadAsync"/> before the
/// request body is read. The file streams into a ".part" file in the session's staging dir, counted against the limit;
/// only a complete file within the limit is handed to the wizard. Whatever fails leaves no file behind.
/// </summary>
public sealed class SnapshotUpload : IAsyncDisposable
{
    /// <summary>What a multipart body carries besides the file (boundaries, headers, the antiforgery field).</summary>
    public const long FormOverhead = 64 * 1024;

    private readonly RestoreWizard _wizard;
    private readonly RestoreStaging _staging;
    private readonly string _cluster;
    private readonly long _sessionId;
    private readonly string _stagingDir;
    private readonly long _maxBytes;
    private readonly Actor _who;
    private readonly string _part;
    private bool _released;

    internal SnapshotUpload(RestoreWizard wizard, RestoreStaging staging, string cluster, long sessionId, string stagingDir, long maxBytes, Actor who)
    {
        _wizard = wizard;
        _staging = staging;
        _cluster = cluster;
        _sessionId = sessionId;
        _stagingDir = stagingDir;
        _maxBytes = maxBytes;
        _who = who;
        _part = Path.Combine(stagingDir, $"upload-{Guid.NewGuid():N}.part");
    }

    /// <summary>Streams <paramref name="content"/> to staging and, when it is complete and within the limit, makes it the session's snapshot.</summary>
    public async Task<UploadAnswer> ReceiveAsync(Stream content, string originalName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        long size = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            Directory.CreateDirectory(_stagingDir);
            var file = new FileStream(_part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    size += read;
                    if (size > _maxBytes)
                    {
                        break;
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // A lost connection surfaces as IOException (or cancellation), a full disk too.
            Discard();
            var message = $"the upload of {originalName} failed after {size:N0} bytes and was discarded: {ex.Message}";
            await _wizard.FailUploadAsync(_cluster, message, _who).ConfigureAwait(false);
            return new UploadAnswer(UploadOutcome.Failed, message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (size > _maxBytes)
        {
            Discard();
            var message = $"{originalName} is larger than Console:Restore:MaxUploadBytes ({_maxBytes:N0} bytes); the upload was discarded";
            await _wizard.FailUploadAsync(_cluster, message, _who).ConfigureAwait(false);
            return new UploadAnswer(UploadOutcome.TooLarge, message);
        }

        if (size == 0)
        {
            Discard();
            return new UploadAnswer(UploadOutcome.Failed, "no file was uploaded");
        }

        var result = await _wizard.CommitUploadAsync(_cluster, _sessionId, _part, size, originalName, _who).ConfigureAwait(false);
        Discard(); // moved into place on success; anything left means it was not taken
        return new UploadAnswer(result.Ok ? UploadOutcome.Accepted : UploadOutcome.Failed, result.Message);
    }

    private void Discard() => RestoreStaging.Discard(_part);

    public ValueTask DisposeAsync()
    {
        if (!_released)
        {
            _released = true;
            Discard();
            _staging.ReleaseUpload(_sessionId);
        }

        return ValueTask.CompletedTask;
    }
}
