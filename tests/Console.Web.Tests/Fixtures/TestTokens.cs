using System.Security.Cryptography;
using System.Text;

namespace Console.Web.Tests.Fixtures;

/// <summary>API tokens for tests and the configuration entries (sha256 only) that admit them.</summary>
public static class TestTokens
{
    public const string Operator = "operator-token-for-tests";
    public const string Viewer = "viewer-token-for-tests";

    /// <summary>
    /// The key ring's key-encryption key of test consoles (required on PostgreSQL, shared by replicas): base64 of 32
    /// fixed bytes, a secret the secrets test looks for.
    /// </summary>
    public static readonly string KeyEncryptionKey = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("key-encryption-key-for-tests")));

    public static string Sha256(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Configuration keys (":"-separated) for both tokens, and the key ring's key-encryption key.</summary>
    public static Dictionary<string, string?> Settings(string separator = ":") => new()
    {
        [$"Console{separator}Auth{separator}ApiTokens{separator}0{separator}Name"] = "ci",
        [$"Console{separator}Auth{separator}ApiTokens{separator}0{separator}Sha256"] = Sha256(Operator),
        [$"Console{separator}Auth{separator}ApiTokens{separator}0{separator}Role"] = "Operator",
        [$"Console{separator}Auth{separator}ApiTokens{separator}1{separator}Name"] = "dashboard",
        [$"Console{separator}Auth{separator}ApiTokens{separator}1{separator}Sha256"] = Sha256(Viewer),
        [$"Console{separator}Auth{separator}ApiTokens{separator}1{separator}Role"] = "Viewer",
        [$"Console{separator}DataProtection{separator}KeyEncryptionKey"] = KeyEncryptionKey,
    };

    public static Dictionary<string, string?> Cluster(TestEtcdCluster etcd, string name = "test", string separator = ":")
    {
        var settings = new Dictionary<string, string?> { [$"Console{separator}Clusters{separator}0{separator}Name"] = name };
        for (var i = 0; i < etcd.Endpoints.Count; i++)
        {
            settings[$"Console{separator}Clusters{separator}0{separator}Endpoints{separator}{i}"] = etcd.Endpoints[i].ToString().TrimEnd('/');
        }

        return settings;
    }
}
