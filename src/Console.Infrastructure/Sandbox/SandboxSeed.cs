using System.Globalization;
using Console.Infrastructure.Etcd;

namespace Console.Infrastructure.Sandbox;

/// <summary>Sample keys shaped like a small Kubernetes control plane, so the sandbox has something worth backing up.</summary>
internal static class SandboxSeed
{
    private static readonly string[] Kinds = ["namespaces", "configmaps/default", "secrets/default", "services/specs/default", "deployments/default", "pods/default"];

    public static async Task WriteAsync(EtcdClusterClient client, Uri endpoint, int count, CancellationToken cancellationToken)
    {
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var kind = Kinds[i % Kinds.Length];
            var name = string.Create(CultureInfo.InvariantCulture, $"sample-{i:D4}");
            var value = string.Create(CultureInfo.InvariantCulture, $"{{\"kind\":\"{kind}\",\"metadata\":{{\"name\":\"{name}\",\"uid\":\"{Guid.NewGuid()}\"}},\"data\":{{\"index\":{i}}}}}");
            await client.PutAsync(endpoint, $"/registry/{kind}/{name}", value, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }
}
