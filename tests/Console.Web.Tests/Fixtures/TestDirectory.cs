namespace Console.Web.Tests.Fixtures;

/// <summary>A fresh directory under the system temp dir, deleted on dispose.</summary>
public sealed class TestDirectory : IDisposable
{
    public TestDirectory(string? name = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "etcd-console-tests", $"{name ?? "t"}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process we started may still hold a file for a moment; the temp dir is cleaned eventually.
        }
    }
}
