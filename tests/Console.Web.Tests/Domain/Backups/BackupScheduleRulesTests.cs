using Console.Domain.Backups;

namespace Console.Web.Tests.Domain.Backups;

/// <summary>Each problem names the field it is about, so the Settings form shows it there and start-up names its key.</summary>
public sealed class BackupScheduleRulesTests
{
    public static TheoryData<string?, string?, int?, string?, ScheduleField, string> Cases => new()
    {
        { "10s", null, null, null, ScheduleField.Interval, "shorter than one minute" },
        { "soon", null, null, null, ScheduleField.Interval, "'soon' is not a duration" },
        { null, "* * * * * *", null, null, ScheduleField.Cron, "fires more often than once a minute" },
        { null, "99 99 * * *", null, null, ScheduleField.Cron, "is not a valid cron expression" },
        { "1h", "0 * * * *", null, null, ScheduleField.Schedule, "not both" },
        { null, null, null, null, ScheduleField.Schedule, "no schedule" },
        { "1h", null, -1, null, ScheduleField.RetentionCount, "must not be negative" },
        { "1h", null, null, "-1d", ScheduleField.RetentionMaxAge, "must be positive" },
        { "1h", null, null, "often", ScheduleField.RetentionMaxAge, "'often' is not a duration" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_problem_names_its_field(string? interval, string? cron, int? count, string? maxAge, ScheduleField field, string words)
    {
        var problem = Assert.Single(BackupScheduleRules.Check(enabled: true, interval, cron, count, maxAge));

        Assert.Equal(field, problem.Field);
        Assert.Contains(words, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_up_names_the_configuration_key_of_the_field()
    {
        var messages = BackupScheduleRules.Validate("Console:Clusters:0:Backup", enabled: true, "10s", null, -1, "-1d");

        Assert.Equal(3, messages.Count);
        Assert.StartsWith("Console:Clusters:0:Backup:Interval: ", messages[0], StringComparison.Ordinal);
        Assert.StartsWith("Console:Clusters:0:Backup:Retention:Count: ", messages[1], StringComparison.Ordinal);
        Assert.StartsWith("Console:Clusters:0:Backup:Retention:MaxAge: ", messages[2], StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_schedule_has_no_problem() =>
        Assert.Empty(BackupScheduleRules.Check(enabled: true, "6h", null, 24, "7d"));
}
