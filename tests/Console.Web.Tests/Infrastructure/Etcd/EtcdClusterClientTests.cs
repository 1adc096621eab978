using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace Console.Web.Tests.Infrastructure.Etcd;

public sealed class EtcdClusterClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Status_reports_version_leader_and_revision_of_a_single_member()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);

        var status = await client.StatusAsync(etcd.Endpoints[0], CancellationToken.None);

        Assert.StartsWith("3.", status.Version, StringComparison.Ordinal);
        Assert.NotEqual(0UL, status.MemberId);
        Assert.Equal(status.MemberId, status.Leader);
        Assert.True(status.DbSize > 0);
        Assert.False(status.IsLearner);
        Assert.Empty(await client.ListAlarmsAsync(etcd.Endpoints[0], CancellationToken.None));
    }

    [Fact]
    public async Task Key_count_matches_what_etcdctl_wrote_and_respects_the_prefix()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        for (var i = 0; i < 25; i++)
        {
            etcd.Etcdctl("put", $"/a/{i}", "x");
        }

        etcd.Etcdctl("put", "/b/1", "y");
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);

        Assert.Equal(26, await client.CountKeysAsync(etcd.Endpoints[0], string.Empty, CancellationToken.None));
        Assert.Equal(25, await client.CountKeysAsync(etcd.Endpoints[0], "/a/", CancellationToken.None));
        Assert.Equal("y", await client.GetAsync(etcd.Endpoints[0], "/b/1", CancellationToken.None));
    }

    [Fact]
    public async Task Member_list_of_a_three_member_cluster_names_every_member_with_its_urls()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);

        var members = await client.ListMembersAsync(etcd.Endpoints[1], CancellationToken.None);

        Assert.Equal(["m1", "m2", "m3"], members.Select(m => m.Name).Order());
        foreach (var process in etcd.Members)
        {
            var member = Assert.Single(members, m => m.Name == process.Layout.Name);
            Assert.Equal(process.Layout.ClientUrl.ToString().TrimEnd('/'), Assert.Single(member.ClientUrls));
            Assert.Equal(process.Layout.PeerUrl.ToString().TrimEnd('/'), Assert.Single(member.PeerUrls));
        }

        var statuses = await Task.WhenAll(etcd.Endpoints.Select(e => client.StatusAsync(e, CancellationToken.None)));
        Assert.Single(statuses.Select(s => s.Leader).Distinct());
        Assert.Contains(statuses, s => s.MemberId == s.Leader);
    }

    [Fact]
    public async Task Auth_enabled_cluster_answers_after_authenticating_and_refuses_wrong_or_missing_credentials()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(auth: true);
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);

        var status = await client.StatusAsync(etcd.Endpoints[0], CancellationToken.None);
        Assert.NotEqual(0UL, status.Leader);
        await client.PutAsync(etcd.Endpoints[0], "/auth/check", "1", CancellationToken.None);
        Assert.Equal(1, await client.CountKeysAsync(etcd.Endpoints[0], "/auth/", CancellationToken.None));

        using var wrong = new EtcdClusterClient(etcd.Spec(credentials: new EtcdCredentials("root", "not-the-password")), Timeout);
        var refused = await Assert.ThrowsAsync<EtcdException>(() => wrong.CountKeysAsync(etcd.Endpoints[0], string.Empty, CancellationToken.None));
        Assert.Equal(EtcdErrorKind.AuthFailed, refused.Kind);
        Assert.Contains("wrong user name or password", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", refused.Message, StringComparison.Ordinal);

        using var anonymous = new EtcdClusterClient(etcd.Spec() with { Credentials = null }, Timeout);
        var missing = await Assert.ThrowsAsync<EtcdException>(() => anonymous.CountKeysAsync(etcd.Endpoints[0], string.Empty, CancellationToken.None));
        Assert.Equal(EtcdErrorKind.AuthFailed, missing.Kind);
        Assert.Contains("requires authentication", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_auth_token_is_renewed_and_the_call_succeeds()
    {
        // Simple tokens live --auth-token-ttl seconds after their last use; a cheap bcrypt keeps the probes fast.
        await using var etcd = await TestEtcdCluster.StartAsync(auth: true, extraArguments: ["--auth-token-ttl=1", "--bcrypt-cost=4"]);
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);
        await client.PutAsync(etcd.Endpoints[0], "/ttl/a", "1", CancellationToken.None);

        // Tokens issued after the client's last call expire no earlier than the client's. Each probe is used once
        // (a use would extend it), so the first one etcd rejects proves the client's token has expired too.
        using var channel = GrpcChannel.ForAddress(etcd.Endpoints[0]);
        var auth = new Auth.AuthClient(channel);
        var kv = new KV.KVClient(channel);
        var probes = new Queue<string>();
        for (var i = 0; i < 100; i++)
        {
            probes.Enqueue((await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = TestEtcdCluster.RootPassword })).Token);
        }

        var rejected = await Eventually.ValueAsync(
            async () =>
            {
                var probe = probes.Count > 0 ? probes.Dequeue() : throw new InvalidOperationException("every probe token was used before one expired");
                try
                {
                    await kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("/ttl/a") }, new Metadata { { "token", probe } });
                    return null;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
                {
                    return ex.Status.Detail;
                }
            },
            detail => detail is not null,
            TimeSpan.FromSeconds(30));
        Assert.Contains("invalid auth token", rejected, StringComparison.Ordinal);

        Assert.Equal(1, await client.CountKeysAsync(etcd.Endpoints[0], "/ttl/", CancellationToken.None));
        await client.PutAsync(etcd.Endpoints[0], "/ttl/b", "2", CancellationToken.None);
        Assert.Equal("2", await client.GetAsync(etcd.Endpoints[0], "/ttl/b", CancellationToken.None));
    }

    [Fact]
    public async Task Tls_member_requiring_client_certificates_answers_with_one_and_gives_a_tls_error_without()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(tls: true);
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);

        var status = await client.StatusAsync(etcd.Endpoints[0], CancellationToken.None);
        Assert.NotEqual(0UL, status.Leader);

        using var withoutCertificate = new EtcdClusterClient(etcd.Spec(withClientCertificate: false), Timeout);
        var error = await Assert.ThrowsAsync<EtcdException>(() => withoutCertificate.StatusAsync(etcd.Endpoints[0], CancellationToken.None));
        Assert.Equal(EtcdErrorKind.Tls, error.Kind);
        Assert.Contains("client certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_member_is_refused_when_its_certificate_is_not_signed_by_the_configured_ca()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(tls: true);
        using var otherCa = new TestDirectory("other-ca");
        var other = TestCertificates.Create(otherCa.Path);
        var spec = etcd.Spec() with { Tls = new TlsSpec(other.CaFile, etcd.Certificates!.ClientCertFile, etcd.Certificates.ClientKeyFile) };
        using var client = new EtcdClusterClient(spec, Timeout);

        var error = await Assert.ThrowsAsync<EtcdException>(() => client.StatusAsync(etcd.Endpoints[0], CancellationToken.None));

        Assert.Equal(EtcdErrorKind.Tls, error.Kind);
        Assert.Contains("TLS handshake", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_down_endpoint_gives_an_unreachable_error_that_names_it()
    {
        var port = FreePorts.Pick(1)[0];
        var endpoint = new Uri($"http://127.0.0.1:{port}");
        var spec = new ClusterSpec(ClusterName.Parse("down"), [endpoint], null, null, []);
        using var client = new EtcdClusterClient(spec, Timeout);

        var error = await Assert.ThrowsAsync<EtcdException>(() => client.StatusAsync(endpoint, CancellationToken.None));

        Assert.Equal(EtcdErrorKind.Unreachable, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paused_member_fails_on_the_deadline_instead_of_hanging()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var client = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromMilliseconds(500));
        await client.StatusAsync(etcd.Endpoints[0], CancellationToken.None);
        etcd.Members[0].Pause();
        try
        {
            var error = await Assert.ThrowsAsync<EtcdException>(() => client.StatusAsync(etcd.Endpoints[0], CancellationToken.None));
            Assert.Equal(EtcdErrorKind.DeadlineExceeded, error.Kind);
            Assert.Contains("deadline exceeded", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            etcd.Members[0].Resume();
        }
    }
}
