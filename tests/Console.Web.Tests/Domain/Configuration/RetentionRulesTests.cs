using Console.Domain.Backups;
using Console.Domain.Configuration;
using Microsoft.Extensions.Configuration;

namespace Console.Web.Tests.Domain.Configuration;

/// <summary>Backup:Retention's GFS and per-target keys, from configuration text through the binder to the cluster's policy.</summary>
public sealed class RetentionRulesTests
{
    private static ConsoleSettings Bind(Dictionary<string, string?> retention)
    {
        var values = new Dictionary<string, string?>
        {
            ["Console:Clusters:0:Name"] = "prod",
            ["Console:Clusters:0:Endpoints:0"] = "http://10.0.0.1:2379",
        };
        foreach (var (key, value) in retention)
        {
            values[$"Console:Clusters:0:Backup:Retention:{key}"] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Console").Get<ConsoleSettings>()!;
    }

    [Fact]
    public void Gfs_keys_and_target_overrides_reach_the_policy_of_each_target()
    {
        var settings = Bind(new()
        {
            ["Count"] = "7", ["MaxAge"] = "30d", ["Hourly"] = "24", ["Daily"] = "7", ["Weekly"] = "4", ["Monthly"] = "12", ["Yearly"] = "0",
            ["Targets:s3:Count"] = "1", ["Targets:s3:Hourly"] = "0", ["Targets:s3:Yearly"] = "5",
            ["Targets:local:MaxAge"] = "2d",
        });

        Assert.Empty(ConsoleSettingsValidator.Validate(settings, _ => true));
        var backup = ClusterSpecParser.Parse(settings.Clusters[0]).Backup;

        Assert.Equal(new RetentionPolicy(7, TimeSpan.FromDays(30), 24, 7, 4, 12, 0), backup.Retention);
        Assert.Equal(new RetentionPolicy(1, TimeSpan.FromDays(30), 0, 7, 4, 12, 5), backup.RetentionFor("s3"));
        Assert.Equal(new RetentionPolicy(7, TimeSpan.FromDays(2), 24, 7, 4, 12, 0), backup.RetentionFor("local"));
        Assert.Equal("keep newest 7, at most 30d old; 24 hourly, 7 daily, 4 weekly, 12 monthly", backup.Retention.ToString());
    }

    [Fact]
    public void Without_gfs_keys_the_policy_is_as_before()
    {
        var backup = ClusterSpecParser.Parse(Bind([]).Clusters[0]).Backup;

        Assert.Equal(RetentionPolicy.Default, backup.Retention);
        Assert.Equal(RetentionPolicy.Default, backup.RetentionFor("s3"));
        Assert.Empty(backup.TargetRetention);
    }

    [Fact]
    public void Every_problem_is_listed_with_its_key()
    {
        var settings = Bind(new()
        {
            ["Hourly"] = "-1", ["Yearly"] = "-3",
            ["Targets:local:Count"] = "-2", ["Targets:local:MaxAge"] = "soon", ["Targets:s3:Daily"] = "-7",
        });

        var errors = ConsoleSettingsValidator.Validate(settings, _ => true);

        Assert.Equal(
            [
                "Console:Clusters:0 ('prod'):Backup:Retention:Hourly: must not be negative (was -1); 0 or unset turns the slot off.",
                "Console:Clusters:0 ('prod'):Backup:Retention:Yearly: must not be negative (was -3); 0 or unset turns the slot off.",
                "Console:Clusters:0 ('prod'):Backup:Retention:Targets:local:Count: must not be negative (was -2).",
                "Console:Clusters:0 ('prod'):Backup:Retention:Targets:local:MaxAge: 'soon' is not a duration such as 7d or 12h.",
                "Console:Clusters:0 ('prod'):Backup:Retention:Targets:s3:Daily: must not be negative (was -7); 0 or unset turns the slot off.",
            ],
            errors.Where(e => e.Contains(":Retention:", StringComparison.Ordinal)));
    }
}
