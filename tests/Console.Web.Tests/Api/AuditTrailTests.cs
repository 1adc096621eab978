using System.Net;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Scheduling;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Api;

public sealed class AuditTrailTests
{
    [Fact]
    public async Task Every_mutating_action_leaves_an_audit_entry_naming_the_real_user()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1" });
        await app.WaitForFirstBackupAsync();
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var scheduler = app.Services.GetRequiredService<BackupScheduler>();
        var snapshots = app.Services.GetRequiredService<SnapshotCatalog>();
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var admin = await app.ActorAsync(Role.Admin);
        var op = await app.ActorAsync(Role.Operator);

        // Sign-in through the form, then a backup, pause and resume, a settings change, verify, protect, download.
        using var operatorHttp = await app.SignedInClientAsync(Role.Operator);
        var started = Assert.IsType<BackupStart.Started>(await runner.StartAsync("sandbox", BackupTrigger.Manual, op, CancellationToken.None));
        var record = await started.Run.Completion;
        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.Equal("test-operator", record.RequestedBy);
        await scheduler.PauseAsync("sandbox", op, CancellationToken.None);
        await scheduler.ResumeAsync("sandbox", op, CancellationToken.None);
        Assert.Empty(await scheduler.SaveAsync("sandbox", new ScheduleEdit("2h", null, 5, null, false), admin, CancellationToken.None));
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        Assert.True((await snapshots.VerifyAsync("local", name, op, CancellationToken.None)).Ok);
        await snapshots.ProtectAsync(name, op, CancellationToken.None);
        await snapshots.UnprotectAsync(name, op, CancellationToken.None);
        var download = await operatorHttp.GetAsync($"/snapshots/download/local/{record.FileName}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(record.SizeBytes, (await download.Content.ReadAsByteArrayAsync()).Length);

        // A restore begun and abandoned; the wizard's own trail names the admin.
        Assert.True((await wizard.BeginAsync("sandbox", admin, CancellationToken.None)).Ok);
        var session = await wizard.CurrentAsync("sandbox", CancellationToken.None);
        Assert.Equal("test-admin", session!.StartedBy);
        Assert.True((await wizard.AbandonAsync("sandbox", admin, CancellationToken.None)).Ok);
        Assert.All(await wizard.AuditAsync(session, CancellationToken.None), e => Assert.Equal("test-admin", e.Who));

        // Users and tokens.
        Assert.Empty(await accounts.AddUserAsync(admin, "carol", Role.Viewer, "carol-temporary-1", CancellationToken.None));
        var carol = (await app.Services.GetRequiredService<UserStore>().FindAsync("carol", CancellationToken.None))!;
        Assert.Empty(await accounts.SetRoleAsync(admin, carol.Id, Role.Operator, CancellationToken.None));
        Assert.Empty(await accounts.ResetPasswordAsync(admin, carol.Id, "carol-temporary-2", CancellationToken.None));
        Assert.Empty(await accounts.SetDisabledAsync(admin, carol.Id, true, CancellationToken.None));
        var (_, token) = await accounts.CreateTokenAsync(admin, "nightly", Role.Operator, CancellationToken.None);
        Assert.Empty(await accounts.RevokeTokenAsync(admin, token!.Record.Id, CancellationToken.None));

        // Sign-out through the layout's form (with the page's antiforgery token).
        var page = await operatorHttp.GetStringAsync("/account/change-password");
        using var signOut = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = ConsoleApp.AntiforgeryToken(page) });
        Assert.Equal(HttpStatusCode.Redirect, (await operatorHttp.PostAsync("/account/logout", signOut)).StatusCode);

        var log = (await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Take: 1000), CancellationToken.None)).Items;
        void Expect(string actor, string action, string? cluster = null) =>
            Assert.True(
                log.Any(e => e.Actor == actor && e.Action == action && e.Outcome == AuditOutcome.Succeeded && (cluster is null || e.Cluster == cluster)),
                $"no successful '{action}' by {actor} in the audit log:\n" + string.Join('\n', log.Select(e => $"{e.Actor} {e.Action} {e.Cluster} {e.Outcome}")));

        Expect("test-operator", AuditActions.SignIn);
        Expect("test-operator", AuditActions.BackupNow, "sandbox");
        Expect("test-operator", AuditActions.Pause, "sandbox");
        Expect("test-operator", AuditActions.Resume, "sandbox");
        Expect("test-admin", AuditActions.SettingsChange, "sandbox");
        Expect("test-operator", AuditActions.Verify, "sandbox");
        Expect("test-operator", AuditActions.Protect, "sandbox");
        Expect("test-operator", AuditActions.Unprotect, "sandbox");
        Expect("test-operator", AuditActions.Download, "sandbox");
        Expect("test-admin", "restore.begin", "sandbox");
        Expect("test-admin", "restore.abandon", "sandbox");
        Expect("test-admin", AuditActions.UserAdd);
        Expect("test-admin", AuditActions.UserRole);
        Expect("test-admin", AuditActions.UserResetPassword);
        Expect("test-admin", AuditActions.UserDisable);
        Expect("test-admin", AuditActions.TokenCreate);
        Expect("test-admin", AuditActions.TokenRevoke);
        Expect("test-operator", AuditActions.SignOut);
        Assert.Contains(log, e => e.Action == AuditActions.SignIn && e.Address == "127.0.0.1");

        // The filters: by action prefix, by actor, by outcome.
        var audit = app.Services.GetRequiredService<AuditLog>();
        var restoreSteps = await audit.QueryAsync(new AuditQuery(Action: AuditActions.RestorePrefix), CancellationToken.None);
        Assert.True(restoreSteps.Total >= 2);
        Assert.All(restoreSteps.Items, e => Assert.StartsWith("restore.", e.Action, StringComparison.Ordinal));
        Assert.All((await audit.QueryAsync(new AuditQuery(Actor: "test-admin"), CancellationToken.None)).Items, e => Assert.Equal("test-admin", e.Actor));
        Assert.Equal(0, (await audit.QueryAsync(new AuditQuery(Outcome: AuditOutcome.Refused), CancellationToken.None)).Total);
        Assert.Equal(0, (await records.QueryAsync(new BackupQuery("sandbox", BackupStatus.Failed), CancellationToken.None)).Total);
    }
}
