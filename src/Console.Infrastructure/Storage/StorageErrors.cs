namespace Console.Infrastructure.Storage;

/// <summary>
/// What a store's failure means, for code outside Storage: which exceptions are a store failing (rather than a bug),
/// and how to say so to an operator. Keeps the S3 SDK's exception types inside this folder.
/// </summary>
internal static class StorageErrors
{
    /// <summary>A store could not do what was asked: the disk (I/O, permissions) or the bucket (S3 error, network).</summary>
    public static bool IsStorageFailure(Exception exception) =>
        exception is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or HttpRequestException;

    public static string Describe(Exception exception) => exception switch
    {
        Amazon.Runtime.AmazonServiceException or HttpRequestException => S3SnapshotStore.Describe(exception),
        _ => exception.Message,
    };
}
