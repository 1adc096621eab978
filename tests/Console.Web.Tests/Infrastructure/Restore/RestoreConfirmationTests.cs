using Console.Domain.Backups;
using Console.Domain.Restore;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Restore;

/// <summary>
/// Every typed confirmation of the wizard, on a real sandbox: anything but the exact phrase (one letter short, empty,
/// another case, padded) does nothing — the persisted session is byte-for-byte the same, nothing outside changed, and
/// the answer says what to type.
/// </summary>
public sealed class RestoreConfirmationTests
{
    /// <summary>Near misses of <paramref name="phrase"/>: what a hurried operator types.</summary>
    private static IEnumerable<string?> NearMisses(string phrase) =>
    [
        null,
        string.Empty,
        " ",
        phrase[..^1],
        phrase[1..],
        phrase.ToUpperInvariant(),
        char.ToUpperInvariant(phrase[0]) + phrase[1..],
        phrase + " ",
        " " + phrase,
    ];

    [Fact]
    public async Task A_wrong_phrase_at_any_typed_confirmation_changes_nothing_and_says_what_to_type()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1", ["Console:Sandbox:SeedKeys"] = "5" });
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        var who = TestActors.Of("test");
        await app.WaitForFirstBackupAsync();
        await client.PutAsync(spec.Endpoints[0], "/state", "live", CancellationToken.None);
        var backup = await runner.RunAsync("sandbox", BackupTrigger.Manual, who, CancellationToken.None);
        await wizard.BeginAsync("sandbox", who, CancellationToken.None);
        await wizard.ChooseAsync("sandbox", "local", backup.FileName!, who, CancellationToken.None);
        Assert.True((await wizard.VerifyAsync("sandbox", who, CancellationToken.None)).Ok);
        Assert.True((await wizard.ConfirmPlanAsync("sandbox", who, CancellationToken.None)).Ok);
        var plan = wizard.PlanOf((await wizard.CurrentAsync("sandbox", CancellationToken.None))!)!;

        async Task<string> StateAsync() => (await wizard.CurrentAsync("sandbox", CancellationToken.None))!.ToJson();
        async Task<long> SafetySnapshotsAsync() => (await records.QueryAsync(new BackupQuery("sandbox", Trigger: BackupTrigger.PreRestore), CancellationToken.None)).Total;
        async Task RefusedAsync(string expected, Func<string?, Task<WizardResult>> confirm, Func<Task> nothingHappened)
        {
            foreach (var typed in NearMisses(expected))
            {
                var before = await StateAsync();
                var result = await confirm(typed);
                Assert.False(result.Ok, $"'{typed}' was taken for '{expected}': {result.Message}");
                Assert.Contains("nothing was done", result.Message, StringComparison.Ordinal);
                Assert.Contains($"\"{expected}\"", result.Message, StringComparison.Ordinal);
                Assert.Equal(before, await StateAsync());
                await nothingHappened();
            }
        }

        // 4 · Safety snapshot: "Go on without" with anything but the phrase takes no snapshot and stays put.
        await RefusedAsync(RestorePhrases.ProceedWithoutSafetySnapshot, typed => wizard.ProceedWithoutSafetySnapshotAsync("sandbox", typed, who, CancellationToken.None), async () =>
        {
            Assert.Equal(0, await SafetySnapshotsAsync());
            Assert.Null(await runner.SuspendedBecauseAsync("sandbox", CancellationToken.None));
        });
        Assert.Equal(RestoreStep.SafetySnapshot, (await wizard.CurrentAsync("sandbox", CancellationToken.None))!.Step);
        Assert.True((await wizard.TakeSafetySnapshotAsync("sandbox", who, CancellationToken.None)).Ok);
        Assert.Equal(1, await SafetySnapshotsAsync());

        // 5 · Stop members: the cluster name exactly; otherwise every member keeps serving. (Backups are suspended from
        // this step on, typed or not: the session in the database says so to every replica, decision record 0024.)
        await RefusedAsync("sandbox", typed => wizard.StopMembersAsync("sandbox", typed, who, CancellationToken.None), async () =>
        {
            Assert.Equal("live", await client.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));
        });
        Assert.True((await wizard.StopMembersAsync("sandbox", "sandbox", who, CancellationToken.None)).Ok);

        // 6 · Restore data: "restore <cluster>" exactly; otherwise no data dir is moved and nothing is restored.
        await RefusedAsync(RestorePhrases.RestoreData("sandbox"), typed => wizard.RestoreDataAsync("sandbox", typed, who, CancellationToken.None), () =>
        {
            Assert.All(plan.Members, m => Assert.False(Directory.Exists(m.AsideDir), $"{m.AsideDir} exists"));
            Assert.All(plan.Members, m => Assert.False(Directory.Exists(m.RestoreDir), $"{m.RestoreDir} exists"));
            Assert.All(plan.Members, m => Assert.True(Directory.Exists(m.DataDir)));
            return Task.CompletedTask;
        });
        Assert.Equal(RestoreStep.RestoreData, (await wizard.CurrentAsync("sandbox", CancellationToken.None))!.Step);
        Assert.True((await wizard.AbandonAsync("sandbox", who, CancellationToken.None)).Ok);
    }
}
