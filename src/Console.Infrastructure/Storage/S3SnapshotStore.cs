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
/// (the manifest, which carries the sha256: each object is written once). Settings that S3-compatible stores need are
/// applied: checksums only when required (the SDK's default CRC headers break many of them) and no aws-chunked bodies
/// (some, s3rver among them, store the chunk signatures as data). Optional Object Lock and server-side encryption are
/// sent on every object written (and the SSE-C key on every request for one), see ADR 0027.
/// </summary>
public sealed class S3SnapshotStore : ISnapshotStore, IDisposable
{
    private readonly S3StorageSettings _settings;
    private readonly TimeSpan? _retainFor;
    private readonly (ServerSideEncryptionCustomerMethod Method, string Key, string Md5)? _customerKey;

    public S3SnapshotStore(IOptions<ConsoleSettings> options)
        : this(options, null)
    {
    }

    /// <param name="httpClientFactory">Tests pass one that records or answers requests; null for the SDK's own.</param>
    internal S3SnapshotStore(IOptions<ConsoleSettings> options, HttpClientFactory? httpClientFactory)
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
        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

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
        _retainFor = _settings.ObjectLock.Enabled && Domain.Configuration.DurationText.TryParse(_settings.ObjectLock.RetainFor, out var retainFor) ? retainFor : null;
        _customerKey = _settings.ServerSideEncryption.Method == S3ServerSideEncryptionSettings.CustomerProvided && _settings.ServerSideEncryption.CustomerKey is { } customerKey
            ? CustomerKey(Convert.FromBase64String(customerKey.Trim()))
            : null;
        PartSize = _settings.PartSizeMiB * 1024 * 1024;
        ParallelParts = _settings.ParallelParts;
    }

    public string Target => "s3";

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

    public string KeyOf(DeltaSegmentName name) => $"{ClusterPrefix(name.Cluster)}{DeltaSegmentName.Folder}/{name.FileName}";

    public string LocationOf(DeltaSegmentName name) => $"s3://{Bucket}/{KeyOf(name)}";

    /// <summary>
    /// One PUT (atomic: the object exists whole or not at all) with the same Content-MD5, encryption and lock as a
    /// snapshot's manifest; the lock runs from the segment's write time, as a snapshot's runs from its own.
    /// </summary>
    public async Task WriteSegmentAsync(DeltaSegmentName name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var lockUntil = _retainFor is { } retainFor ? DateTimeOffset.UtcNow + retainFor : (DateTimeOffset?)null;
        await PutSmallAsync(KeyOf(name), content.ToArray(), cancellationToken, lockUntil).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredSegment>> ListSegmentsAsync(ClusterName cluster, CancellationToken cancellationToken)
    {
        var prefix = $"{ClusterPrefix(cluster)}{DeltaSegmentName.Folder}/";
        var found = new List<StoredSegment>();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix };
        do
        {
            var response = await Client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? [])
            {
                if (DeltaSegmentName.TryParse(item.Key[prefix.Length..], out var name) && name.Cluster == cluster)
                {
                    found.Add(new StoredSegment(Target, name, item.Size ?? 0, $"s3://{Bucket}/{item.Key}"));
                }
            }

            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        found.Sort((a, b) => a.Name.FirstRevision.CompareTo(b.Name.FirstRevision));
        return found;
    }

    public Task<Stream> OpenSegmentAsync(DeltaSegmentName name, CancellationToken cancellationToken) =>
        OpenObjectAsync(KeyOf(name), LocationOf(name), cancellationToken);

    /// <summary>Deletes a segment; under Object Lock the very version is deleted (S3 refuses it while it is retained).</summary>
    public async Task DeleteSegmentAsync(DeltaSegmentName name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        var version = _retainFor is null ? null : (await HeadAsync(key, cancellationToken).ConfigureAwait(false))?.VersionId;
        await Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key, VersionId = version }, cancellationToken).ConfigureAwait(false);
    }

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
        var lockUntil = LockUntil(name);
        var request = new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key };
        if (lockUntil is { } until)
        {
            request.ObjectLockMode = ObjectLockMode.FindValue(_settings.ObjectLock.Mode);
            request.ObjectLockRetainUntilDate = until.UtcDateTime;
        }

        request.ServerSideEncryptionMethod = EncryptionMethod;
        request.ServerSideEncryptionKeyManagementServiceKeyId = EncryptionMethod == ServerSideEncryptionMethod.AWSKMS ? _settings.ServerSideEncryption.KmsKeyId : null;
        var upload = await Client.InitiateMultipartUploadAsync(WithCustomerKey(request), cancellationToken).ConfigureAwait(false);
        return new S3MultipartWriter(this, key, upload.UploadId, lockUntil);
    }

    /// <summary>
    /// When the lock on a snapshot (and its manifest) ends: from the snapshot's own time, so a copy uploaded late (the
    /// retry of a failed upload) is locked no longer than one uploaded at once. Null without a lock, or when it has
    /// already passed (S3 refuses a retain-until date in the past).
    /// </summary>
    private DateTimeOffset? LockUntil(SnapshotName name) =>
        _retainFor is { } retainFor && name.TakenAt + retainFor is var until && until > DateTimeOffset.UtcNow ? until : null;

#pragma warning disable CA5351 // S3 asks for the key's MD5 to detect a key corrupted in transit; it is not a security hash here.
    private static (ServerSideEncryptionCustomerMethod, string, string) CustomerKey(byte[] key) =>
        (ServerSideEncryptionCustomerMethod.AES256, Convert.ToBase64String(key), Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(key)));
#pragma warning restore CA5351

    /// <summary>SSE-S3 or SSE-KMS as S3 names them (SSE-C is sent as a customer key instead).</summary>
    private ServerSideEncryptionMethod? EncryptionMethod => _settings.ServerSideEncryption.Method switch
    {
        S3ServerSideEncryptionSettings.S3Managed => ServerSideEncryptionMethod.AES256,
        S3ServerSideEncryptionSettings.Kms => ServerSideEncryptionMethod.AWSKMS,
        _ => null,
    };

    /// <summary>SSE-C: S3 keeps no key, so every request that writes or reads the object's bytes or metadata carries it.</summary>
    internal T WithCustomerKey<T>(T request)
        where T : AmazonWebServiceRequest
    {
        if (_customerKey is not { } k)
        {
            return request;
        }

        switch (request)
        {
            case InitiateMultipartUploadRequest r: (r.ServerSideEncryptionCustomerMethod, r.ServerSideEncryptionCustomerProvidedKey, r.ServerSideEncryptionCustomerProvidedKeyMD5) = k; break;
            case UploadPartRequest r: (r.ServerSideEncryptionCustomerMethod, r.ServerSideEncryptionCustomerProvidedKey, r.ServerSideEncryptionCustomerProvidedKeyMD5) = k; break;
            case PutObjectRequest r: (r.ServerSideEncryptionCustomerMethod, r.ServerSideEncryptionCustomerProvidedKey, r.ServerSideEncryptionCustomerProvidedKeyMD5) = k; break;
            case GetObjectRequest r: (r.ServerSideEncryptionCustomerMethod, r.ServerSideEncryptionCustomerProvidedKey, r.ServerSideEncryptionCustomerProvidedKeyMD5) = k; break;
            case GetObjectMetadataRequest r: (r.ServerSideEncryptionCustomerMethod, r.ServerSideEncryptionCustomerProvidedKey, r.ServerSideEncryptionCustomerProvidedKeyMD5) = k; break;
            default: throw new ArgumentException($"{request.GetType().Name} does not carry an SSE-C key", nameof(request));
        }

        return request;
    }

    public Task<Stream> OpenReadAsync(SnapshotName name, CancellationToken cancellationToken) =>
        OpenObjectAsync(KeyOf(name), LocationOf(name), cancellationToken);

    /// <summary>A snapshot or a segment to read, with the SSE-C key if any; missing and unreadable said as a local file would.</summary>
    private async Task<Stream> OpenObjectAsync(string key, string location, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Client.GetObjectAsync(WithCustomerKey(new GetObjectRequest { BucketName = Bucket, Key = key }), cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Missing is missing, whichever store: the same exception as a local file that is not there.
            throw new FileNotFoundException($"{location} does not exist", location, ex);
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or TimeoutException
            && !cancellationToken.IsCancellationRequested)
        {
            // Which copy could not be read and why, in words.
            throw new IOException($"reading {location} failed: {Describe(ex)}", ex);
        }
    }

    public async Task<SnapshotManifest?> ReadManifestAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Client.GetObjectAsync(WithCustomerKey(new GetObjectRequest { BucketName = Bucket, Key = KeyOf(name) + SnapshotName.ManifestExtension }), cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return SnapshotManifest.Parse(buffer.ToArray());
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes the snapshot, then its manifest. A locked object (Object Lock retention or a legal hold) is not an error:
    /// <see cref="SnapshotRetainedException"/> says until when, and the copy stays whole (object and manifest).
    /// </summary>
    public async Task DeleteAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name);
        var manifest = key + SnapshotName.ManifestExtension;
        string? objectVersion = null, manifestVersion = null;
        if (_retainFor is not null)
        {
            // Object Lock buckets are versioned, and a DELETE without a version id succeeds on a locked object: it only
            // hides it behind a delete marker, the locked bytes stay, and retention would record a deletion that did not
            // happen. So ask first, and delete the very versions asked about (S3 then refuses a locked one).
            var head = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
            ThrowIfRetained(name, head, null);
            objectVersion = head?.VersionId;
            manifestVersion = (await HeadAsync(manifest, cancellationToken).ConfigureAwait(false))?.VersionId;
        }

        try
        {
            // The snapshot first: if it is refused, its manifest stays beside it and the copy is still whole (and ours).
            await Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key, VersionId = objectVersion }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.Forbidden && ex.ErrorCode == "AccessDenied")
        {
            // A lock (set by us, by the bucket's default retention or by hand) or a missing permission: the object's
            // lock headers tell them apart; with a lock configured, the console knows the date it set.
            GetObjectMetadataResponse? head = null;
            try
            {
                head = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception)
            {
                // Not allowed to read it either: decided below from the configuration alone.
            }

            ThrowIfRetained(name, head, ex);
            if (_retainFor is { } retainFor)
            {
                throw new SnapshotRetainedException(Target, name, name.TakenAt + retainFor, legalHold: false, ex);
            }

            throw;
        }

        await Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = manifest, VersionId = manifestVersion }, cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfRetained(SnapshotName name, GetObjectMetadataResponse? head, Exception? refusal)
    {
        var until = head?.ObjectLockRetainUntilDate is { } date
            ? new DateTimeOffset(date.Kind == DateTimeKind.Local ? date.ToUniversalTime() : DateTime.SpecifyKind(date, DateTimeKind.Utc))
            : (DateTimeOffset?)null;
        var hold = head?.ObjectLockLegalHoldStatus == ObjectLockLegalHoldStatus.On;
        if (hold || until > DateTimeOffset.UtcNow)
        {
            throw new SnapshotRetainedException(Target, name, until, hold, refusal);
        }
    }

    /// <summary>The object's metadata (lock, version, size), or null when it does not exist.</summary>
    internal async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.GetObjectMetadataAsync(WithCustomerKey(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
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
            return new StorageHealth(Target, true, $"s3://{Bucket}/{Prefix} is reachable and writable{Protection}", null, now);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            return new StorageHealth(Target, false, $"s3://{Bucket}/{Prefix}: {Describe(ex)}", null, now);
        }
    }

    /// <summary>What the status page shows of the store's protection: the encryption method and KMS key id, the lock; never the SSE-C key.</summary>
    internal string Protection =>
        (_settings.ServerSideEncryption.Method is null ? string.Empty : $"; server-side encryption {_settings.ServerSideEncryption.Describe()}")
        + (_retainFor is { } retainFor ? $"; Object Lock {_settings.ObjectLock.Mode} for {Domain.Configuration.DurationText.Format(retainFor)} from each snapshot's time" : string.Empty);

    /// <summary>
    /// A small object in one PUT (a manifest, the health probe), encrypted as configured, with its Content-MD5 (S3
    /// requires one when a retention period is set; s3rver checks it) and, for a manifest, its snapshot's lock.
    /// </summary>
    internal Task<PutObjectResponse> PutSmallAsync(string key, byte[] content, CancellationToken cancellationToken, DateTimeOffset? lockUntil = null)
    {
#pragma warning disable CA5351 // Content-MD5 is S3's transport integrity check, not a security hash.
        var md5 = Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(content));
#pragma warning restore CA5351
        var request = new PutObjectRequest
        {
            BucketName = Bucket,
            Key = key,
            InputStream = new MemoryStream(content),
            UseChunkEncoding = false,
            AutoCloseStream = true,
            MD5Digest = md5,
            ServerSideEncryptionMethod = EncryptionMethod,
            ServerSideEncryptionKeyManagementServiceKeyId = EncryptionMethod == ServerSideEncryptionMethod.AWSKMS ? _settings.ServerSideEncryption.KmsKeyId : null,
        };
        if (lockUntil is { } until)
        {
            request.ObjectLockMode = ObjectLockMode.FindValue(_settings.ObjectLock.Mode);
            request.ObjectLockRetainUntilDate = until.UtcDateTime;
        }

        return Client.PutObjectAsync(WithCustomerKey(request), cancellationToken);
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
