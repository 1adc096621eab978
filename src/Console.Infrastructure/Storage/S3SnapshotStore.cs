using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>
/// Snapshots in any S3-compatible bucket under <c>{prefix}/{cluster}/{file}</c>, each with <c>{file}.json</c> beside it
/// and its sha256 as object metadata. Settings that S3-compatible stores need are applied: checksums only when
/// required (the SDK's default CRC headers break many of them) and no aws-chunked bodies (some, s3rver among them,
/// store the chunk signatures as data).
/// </summary>
public sealed class S3SnapshotStore : ISnapshotStore, IDisposable
{
    public const string Sha256Metadata = "sha256";
    private readonly S3StorageSettings _settings;

    public S3SnapshotStore(IOptions<ConsoleSettings> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _settings = options.Value.Storage.S3;
        Bucket = _settings.Bucket ?? throw new InvalidOperationException("Console:Storage:S3:Bucket is not set");
        Prefix = (_settings.Prefix ?? string.Empty).Trim('/');
        var config = new AmazonS3Config
        {
            ForcePathStyle = _settings.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromMinutes(5),
            MaxErrorRetry = 2,
        };
        if (!string.IsNullOrWhiteSpace(_settings.Endpoint))
        {
            config.ServiceURL = _settings.Endpoint;
            config.AuthenticationRegion = _settings.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(_settings.Region);
        }

        Client = _settings.AccessKeyId is { Length: > 0 } key
            ? new AmazonS3Client(
                string.IsNullOrEmpty(_settings.SessionToken)
                    ? new BasicAWSCredentials(key, _settings.SecretAccessKey)
                    : new SessionAWSCredentials(key, _settings.SecretAccessKey, _settings.SessionToken),
                config)
            : new AmazonS3Client(config);
        ((AmazonServiceClient)Client).BeforeRequestEvent += DecodeCopySourceSlashes;
        PartSize = _settings.PartSizeMiB * 1024 * 1024;
        ParallelParts = _settings.ParallelParts;
    }

    public string Target => "s3";

    /// <summary>
    /// The SDK percent-encodes the '/' separators of x-amz-copy-source. S3 accepts that and the plain form alike, but
    /// some S3-compatible servers (s3rver among them) decode the header with decodeURI, which leaves %2F, and then look
    /// for a bucket named "bucket%2Fkey". Sending the separators as '/' is valid everywhere. This runs before signing.
    /// </summary>
    private static void DecodeCopySourceSlashes(object sender, RequestEventArgs e)
    {
        if (e is WebServiceRequestEventArgs request && request.Headers.TryGetValue("x-amz-copy-source", out var source))
        {
            request.Headers["x-amz-copy-source"] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        }
    }

    public string Bucket { get; }

    public string Prefix { get; }

    public int PartSize { get; }

    public int ParallelParts { get; }

    internal IAmazonS3 Client { get; }

    /// <summary>Parts uploaded by this store since it was created (for tests and diagnostics).</summary>
    internal long PartsUploaded => Interlocked.Read(ref _partsUploaded);

    private long _partsUploaded;

    internal void CountPart() => Interlocked.Increment(ref _partsUploaded);

    public string KeyOf(SnapshotName name) => $"{ClusterPrefix(name.Cluster)}{name.FileName}";

    public string LocationOf(SnapshotName name) => $"s3://{Bucket}/{KeyOf(name)}";

    private string ClusterPrefix(ClusterName cluster) => Prefix.Length == 0 ? $"{cluster.Value}/" : $"{Prefix}/{cluster.Value}/";

    public async Task<IReadOnlyList<StoredSnapshot>> ListAsync(ClusterName? cluster, bool withManifests, CancellationToken cancellationToken)
    {
        var prefix = cluster is { } c ? ClusterPrefix(c) : Prefix.Length == 0 ? string.Empty : Prefix + "/";
        var found = new List<StoredSnapshot>();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix };
        do
        {
            var response = await Client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);

            // S3Objects is null, not empty, when nothing matches.
            foreach (var item in response.S3Objects ?? [])
            {
                var relative = item.Key[(Prefix.Length == 0 ? 0 : Prefix.Length + 1)..];
                var slash = relative.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0 || relative.IndexOf('/', slash + 1) >= 0)
                {
                    continue;
                }

                if (SnapshotName.TryParse(relative[(slash + 1)..], out var name) && name.Cluster.Value == relative[..slash])
                {
                    found.Add(new StoredSnapshot(Target, name, item.Size ?? 0, $"s3://{Bucket}/{item.Key}", item.LastModified, null));
                }
            }

            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        found.Sort((a, b) => b.Name.TakenAt.CompareTo(a.Name.TakenAt));
        if (!withManifests)
        {
            return found;
        }

        var withManifest = new StoredSnapshot[found.Count];
        await Parallel.ForAsync(0, found.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
            withManifest[i] = found[i] with { Manifest = await ReadManifestAsync(found[i].Name, ct).ConfigureAwait(false) }).ConfigureAwait(false);
        return withManifest;
    }

    public async Task<ISnapshotWriter> BeginWriteAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        var upload = await Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        return new S3MultipartWriter(this, key, upload.UploadId);
    }

    public async Task<Stream> OpenReadAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Client.GetObjectAsync(Bucket, KeyOf(name), cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Missing is missing, whichever store: the same exception as a local file that is not there.
            throw new FileNotFoundException($"{LocationOf(name)} does not exist", LocationOf(name), ex);
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or TimeoutException
            && !cancellationToken.IsCancellationRequested)
        {
            // Which copy could not be read and why, in words.
            throw new IOException($"reading {LocationOf(name)} failed: {Describe(ex)}", ex);
        }
    }

    public async Task<SnapshotManifest?> ReadManifestAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Client.GetObjectAsync(Bucket, KeyOf(name) + SnapshotName.ManifestExtension, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return SnapshotManifest.Parse(buffer.ToArray());
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task DeleteAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        await Client.DeleteObjectAsync(Bucket, KeyOf(name) + SnapshotName.ManifestExtension, cancellationToken).ConfigureAwait(false);
        await Client.DeleteObjectAsync(Bucket, KeyOf(name), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes and deletes a small probe object: the bucket is reachable, the credentials work, and writes are allowed.</summary>
    public async Task<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var probe = $"{(Prefix.Length == 0 ? string.Empty : Prefix + "/")}.console-health-{Guid.NewGuid():N}";
        try
        {
            await PutSmallAsync(probe, "ok"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            await Client.DeleteObjectAsync(Bucket, probe, cancellationToken).ConfigureAwait(false);
            return new StorageHealth(Target, true, $"s3://{Bucket}/{Prefix} is reachable and writable", null, now);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            return new StorageHealth(Target, false, $"s3://{Bucket}/{Prefix}: {Describe(ex)}", null, now);
        }
    }

    internal Task<PutObjectResponse> PutSmallAsync(string key, byte[] content, CancellationToken cancellationToken, Dictionary<string, string>? metadata = null)
    {
        var request = new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(content), UseChunkEncoding = false, AutoCloseStream = true };
        foreach (var (k, v) in metadata ?? [])
        {
            request.Metadata.Add(k, v);
        }

        return Client.PutObjectAsync(request, cancellationToken);
    }

    /// <summary>An S3 failure in words: the service's own code and message, or why the endpoint could not be reached.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        AmazonS3Exception s3 => $"{s3.ErrorCode ?? s3.StatusCode.ToString()}: {s3.Message}",
        AmazonServiceException service when service.InnerException is HttpRequestException http => $"cannot reach the S3 endpoint: {http.Message}",
        HttpRequestException http => $"cannot reach the S3 endpoint: {http.Message}",
        TimeoutException timeout => $"the S3 endpoint did not answer in time: {timeout.Message}",
        _ => exception.Message,
    };

    public void Dispose() => Client.Dispose();

    /// <summary>A GetObject body that disposes its response with it.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
