using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Clusters;

public sealed class ValueTypeTests
{
    [Theory]
    [InlineData("prod")]
    [InlineData("eu-west-1")]
    [InlineData("k8s-2")]
    [InlineData("0day")]
    public void Cluster_names_that_are_safe_in_urls_and_file_names_parse(string text)
    {
        Assert.True(ClusterName.TryParse(text, out var name, out _));
        Assert.Equal(text, name.Value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    [InlineData("-prod")]
    [InlineData("Prod")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a_b")]
    public void Unsafe_cluster_names_are_refused_with_a_reason(string? text)
    {
        Assert.False(ClusterName.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Cluster_names_longer_than_63_characters_are_refused() =>
        Assert.False(ClusterName.TryParse(new string('a', 64), out _, out _));

    [Theory]
    [InlineData("http://127.0.0.1:2379", "http://127.0.0.1:2379/")]
    [InlineData("https://etcd-0.etcd:2379/", "https://etcd-0.etcd:2379/")]
    [InlineData("https://[::1]:2379", "https://[::1]:2379/")]
    public void Etcd_urls_are_normalised(string text, string expected)
    {
        Assert.True(EtcdUrl.TryParse(text, out var url, out _));
        Assert.Equal(expected, url.ToString());
    }

    [Theory]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(5 * 1024 * 1024 + 512 * 1024, "5.5 MiB")]
    [InlineData(2L * 1024 * 1024 * 1024, "2.0 GiB")]
    public void Byte_sizes_read_in_binary_units(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));

    [Fact]
    public void Credentials_never_print_the_password() =>
        Assert.DoesNotContain("s3cret", new EtcdCredentials("root", "s3cret").ToString(), StringComparison.Ordinal);

    [Fact]
    public void Settings_records_never_print_secrets()
    {
        var settings = new Console.Domain.Configuration.ConsoleSettings
        {
            Clusters = [new() { Name = "a", Auth = new() { User = "root", Password = "etcd-pass-1" } }],
            Storage = new() { S3 = new() { Bucket = "b", AccessKeyId = "AKIA-ID-1", SecretAccessKey = "s3-secret-1", SessionToken = "sess-1" } },
        };

        var printed = settings.Clusters[0].Auth.ToString() + settings.Storage.S3.ToString() + settings.Storage.ToString();

        foreach (var secret in new[] { "etcd-pass-1", "AKIA-ID-1", "s3-secret-1", "sess-1" })
        {
            Assert.DoesNotContain(secret, printed, StringComparison.Ordinal);
        }

        Assert.Contains("User = root", printed, StringComparison.Ordinal);
        Assert.Contains("Bucket = b", printed, StringComparison.Ordinal);
    }
}
