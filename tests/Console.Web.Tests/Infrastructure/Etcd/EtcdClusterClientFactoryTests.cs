using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Etcd;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Etcd;

public sealed class EtcdClusterClientFactoryTests
{
    private static readonly ClusterSpec Spec = new(ClusterName.Parse("prod"), [new Uri("http://10.0.0.1:2379")], null, null, []);

    [Fact]
    public void Pausing_or_editing_backups_keeps_the_client_a_running_backup_uses()
    {
        using var factory = new EtcdClusterClientFactory(Options.Create(new ConsoleSettings()));
        var client = factory.For(Spec);

        var paused = factory.For(Spec with { Backup = BackupPolicy.Default with { Paused = true, Interval = TimeSpan.FromHours(2) } });
        var sameEndpointsNewList = factory.For(Spec with { Endpoints = [new Uri("http://10.0.0.1:2379")] });

        Assert.Same(client, paused);
        Assert.Same(client, sameEndpointsNewList);
    }

    [Fact]
    public void Changed_connection_settings_get_a_new_client()
    {
        using var factory = new EtcdClusterClientFactory(Options.Create(new ConsoleSettings()));
        var client = factory.For(Spec);

        Assert.NotSame(client, factory.For(Spec with { Endpoints = [new Uri("http://10.0.0.2:2379")] }));
        Assert.NotSame(factory.For(Spec), factory.For(Spec with { Credentials = new EtcdCredentials("root", "pw") }));
    }
}
