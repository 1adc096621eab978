using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Api;

public sealed partial class AccessControlTests
{
    [Fact]
    public async Task Every_page_and_endpoint_refuses_an_anonymous_caller()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Cluster(etcd));
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.Address };

        // Every endpoint the app maps, so a page or endpoint added later is checked without anyone listing it here.
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var open = new List<string>();
        var refused = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                open.Add(pattern);
                continue;
            }

            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                var url = Sample(endpoint.RoutePattern);
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("");
                }

                using var response = await http.SendAsync(request);
                var toLogin = response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("/account/login", StringComparison.Ordinal) == true;
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized || toLogin, $"{method} {url} answered {(int)response.StatusCode} to an anonymous caller");
                refused.Add($"{method} {pattern}");
            }
        }

        // Open on purpose: liveness, the sign-in form, and styles and scripts (static files carry no data).
        Assert.All(open, p => Assert.True(p is "/healthz" or "/account/login" || IsStaticFile(p), $"{p} admits anonymous callers"));
        Assert.Contains("/healthz", open);
        Assert.Contains("/account/login", open);
        foreach (var expected in new[]
        {
            "GET /", "GET /backups", "GET /backups/{Id:long}", "GET /snapshots", "GET /restore", "GET /settings", "GET /users", "GET /audit",
            "GET /account/change-password", "GET /api/clusters", "POST /api/clusters/{name}/backups", "GET /api/backups", "GET /api/backups/{id:long}",
            "GET /snapshots/download/{target}/{file}", "POST /restore/{cluster}/upload", "POST /account/logout", "GET /_blazor", "GET /_blazor/negotiate", "POST /restore",
            "GET /hangfire/{**path}",
        })
        {
            Assert.Contains(expected, refused);
        }
    }

    [Fact]
    public async Task The_hangfire_dashboard_is_for_admins_only()
    {
        await using var app = ConsoleApp.Start();
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.Address };

        var refused = await anonymous.GetAsync("/hangfire/recurring");

        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Contains("/account/login", refused.Headers.Location!.ToString(), StringComparison.Ordinal);
        foreach (var role in new[] { Role.Viewer, Role.Operator })
        {
            using var client = await app.SignedInClientAsync(role);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/hangfire")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/hangfire/recurring")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/hangfire/recurring/trigger", new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "backup-schedule-tick" }))).StatusCode);
        }

        using var admin = await app.SignedInClientAsync(Role.Admin);
        var page = await admin.GetAsync("/hangfire/recurring");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(Console.Infrastructure.Scheduling.BackupScheduler.TickJobId, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // An admin made Viewer loses the dashboard at once: the changed role ends the session, back to the sign-in form.
        var users = app.Services.GetRequiredService<UserStore>();
        var adminUser = await users.FindAsync("test-admin", CancellationToken.None);
        await users.SetRoleAsync(adminUser!.Id, Role.Viewer, CancellationToken.None);
        var demoted = await admin.GetAsync("/hangfire/recurring");
        Assert.Equal(HttpStatusCode.Redirect, demoted.StatusCode);
        Assert.Contains("/account/login", demoted.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_viewer_cannot_start_a_backup_through_the_api_or_a_direct_call_and_nothing_runs()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary());
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var admin = await app.ActorAsync(Role.Admin);
        var viewer = await app.ActorAsync(Role.Viewer);

        // The API: a configured viewer token, a viewer token made on the Users page, and a signed-in viewer's cookie.
        var (_, made) = await accounts.CreateTokenAsync(admin, "dashboard-2", Role.Viewer, CancellationToken.None);
        foreach (var token in new[] { TestTokens.Viewer, made!.Token })
        {
            using var client = new HttpClient { BaseAddress = app.Address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/clusters/test/backups", null)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/backups")).StatusCode);
        }

        // A signed-in browser's cookie is not accepted by the API at all (tokens only), so no page can post there for it.
        using (var cookie = await app.SignedInClientAsync(Role.Viewer))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await cookie.PostAsync("/api/clusters/test/backups", null)).StatusCode);
        }

        using (var cookie = await app.SignedInClientAsync(Role.Operator))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await cookie.PostAsync("/api/clusters/test/backups", null)).StatusCode);
        }

        // The service behind the button: refused, also when the caller claims a role the database does not give it.
        await Assert.ThrowsAsync<AccessDeniedException>(() => runner.StartAsync("test", BackupTrigger.Manual, viewer, CancellationToken.None));
        await Assert.ThrowsAsync<AccessDeniedException>(() => runner.StartAsync("test", BackupTrigger.Manual, viewer with { Role = Role.Admin }, CancellationToken.None));

        Assert.Null(runner.RunningFor("test"));
        Assert.Equal(0, (await records.QueryAsync(new BackupQuery("test"), CancellationToken.None)).Total);
        var refusals = await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Actor: "test-viewer", Action: AuditActions.BackupNow), CancellationToken.None);
        Assert.Equal(2, refusals.Items.Count(e => e.Outcome == AuditOutcome.Refused && e.Cluster == "test"));

        // The same call by an operator starts a backup: the refusals above were about the role, nothing else.
        var started = Assert.IsType<BackupStart.Started>(await runner.StartAsync("test", BackupTrigger.Manual, await app.ActorAsync(Role.Operator), CancellationToken.None));
        Assert.Equal("test-operator", (await records.GetAsync(started.Run.RecordId, CancellationToken.None))!.RequestedBy);
    }

    [Fact]
    public async Task An_operator_cannot_restore_and_a_demoted_admin_loses_the_right_at_once()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Cluster(etcd));
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var op = await app.ActorAsync(Role.Operator);

        await Assert.ThrowsAsync<AccessDeniedException>(() => wizard.BeginAsync("test", op, CancellationToken.None));
        Assert.Null(await wizard.CurrentAsync("test", CancellationToken.None));
        using (var cookie = await app.SignedInClientAsync(Role.Operator))
        {
            var page = await cookie.GetAsync("/restore");
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.StartsWith("/account/denied", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        // An admin made Operator by another admin: the open session's claim says Admin, the database does not.
        var first = await app.ActorAsync(Role.Admin);
        Assert.Empty(await accounts.AddUserAsync(first, "bob", Role.Admin, "bob-temporary-password", CancellationToken.None));
        var bobUser = await app.Services.GetRequiredService<UserStore>().FindAsync("bob", CancellationToken.None);
        Assert.Empty(await accounts.SetRoleAsync(first, bobUser!.Id, Role.Operator, CancellationToken.None));
        var bobAsHeWas = AccountService.ActorOf(bobUser);
        Assert.Equal(Role.Admin, bobAsHeWas.Role);
        await Assert.ThrowsAsync<AccessDeniedException>(() => wizard.BeginAsync("test", bobAsHeWas, CancellationToken.None));
        Assert.Null(await wizard.CurrentAsync("test", CancellationToken.None));
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_even_against_the_right_one_until_an_admin_resets_it()
    {
        await using var app = ConsoleApp.Start();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var (name, password) = await app.UserAsync(Role.Operator);

        for (var attempt = 1; attempt < LockoutPolicy.Default.MaxFailures; attempt++)
        {
            Assert.Equal(SignInStatus.Failed, (await accounts.SignInAsync(name, "wrong-password-" + attempt, "127.0.0.1", CancellationToken.None)).Status);
        }

        Assert.Equal(SignInStatus.LockedOut, (await accounts.SignInAsync(name, "wrong-password-5", "127.0.0.1", CancellationToken.None)).Status);
        var locked = await accounts.SignInAsync(name, password, "127.0.0.1", CancellationToken.None);
        Assert.Equal(SignInStatus.LockedOut, locked.Status);

        // Through the sign-in form as well: no cookie (the page's answer is the same as for a wrong password).
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address };
        var form = await ConsoleApp.SignInAsync(http, name, password);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await http.GetAsync("/")).StatusCode);

        var audit = await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Actor: name, Action: AuditActions.SignIn), CancellationToken.None);
        Assert.Equal(5, audit.Items.Count(e => e.Outcome == AuditOutcome.Failed));
        Assert.Equal(2, audit.Items.Count(e => e.Outcome == AuditOutcome.Refused && e.Detail!.StartsWith("locked until", StringComparison.Ordinal)));

        // An admin sets a temporary password: unlocked, and the user must choose a new one.
        var user = await app.Services.GetRequiredService<UserStore>().FindAsync(name, CancellationToken.None);
        Assert.Empty(await accounts.ResetPasswordAsync(await app.ActorAsync(Role.Admin), user!.Id, "temporary-password-1", CancellationToken.None));
        var after = await accounts.SignInAsync(name, "temporary-password-1", "127.0.0.1", CancellationToken.None);
        Assert.Equal(SignInStatus.Succeeded, after.Status);
        Assert.True(after.User!.MustChangePassword);
    }

    [Fact]
    public async Task A_locked_out_admin_is_recovered_by_the_reset_setting_for_one_start()
    {
        using var data = new TestDirectory("reset-admin");
        var firstLogs = new LogSink();
        await using (var first = ConsoleApp.Start(dataDir: data.Path, logs: firstLogs))
        {
            var accounts = first.Services.GetRequiredService<AccountService>();
            for (var attempt = 0; attempt < LockoutPolicy.Default.MaxFailures; attempt++)
            {
                await accounts.SignInAsync("admin", "not-the-password", null, CancellationToken.None);
            }

            Assert.Equal(SignInStatus.LockedOut, (await accounts.SignInAsync("admin", firstLogs.OneTimePassword(), null, CancellationToken.None)).Status);
        }

        var logs = new LogSink();
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Auth:ResetAdminPassword"] = "true" }, data.Path, logs);
        var reset = logs.OneTimePassword();
        Assert.NotEqual(firstLogs.OneTimePassword(), reset);
        var signIn = await app.Services.GetRequiredService<AccountService>().SignInAsync("admin", reset, null, CancellationToken.None);
        Assert.Equal(SignInStatus.Succeeded, signIn.Status);
        Assert.True(signIn.User!.MustChangePassword);
        Assert.Equal(Role.Admin, signIn.User.Role);
        await app.DisposeAsync();

        // Left in place, the setting does not reset again at the next start (that would undo the new password).
        var thirdLogs = new LogSink();
        await using var third = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Auth:ResetAdminPassword"] = "true" }, data.Path, thirdLogs);
        Assert.DoesNotContain("one-time password", thirdLogs.Text, StringComparison.Ordinal);
        Assert.Contains("is still set", thirdLogs.Text, StringComparison.Ordinal);
        Assert.Equal(SignInStatus.Succeeded, (await third.Services.GetRequiredService<AccountService>().SignInAsync("admin", reset, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task One_address_gets_twenty_sign_in_posts_a_minute_and_then_429()
    {
        await using var app = ConsoleApp.Start();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address };

        var answers = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 22; attempt++)
        {
            answers.Add((await ConsoleApp.SignInAsync(http, "nobody-" + attempt, "not-a-password")).StatusCode);
        }

        Assert.All(answers.Take(20), a => Assert.Equal(HttpStatusCode.OK, a));
        Assert.All(answers.Skip(20), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/account/login")).StatusCode);
        var failures = await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.SignIn), CancellationToken.None);
        Assert.Equal(20, failures.Total);
    }

    [Fact]
    public async Task Wrong_passwords_sent_in_parallel_cannot_share_a_count_and_get_past_the_lockout()
    {
        await using var app = ConsoleApp.Start();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var (name, password) = await app.UserAsync(Role.Operator);

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => accounts.SignInAsync(name, "wrong-password-" + i, null, CancellationToken.None))));

        Assert.Equal(LockoutPolicy.Default.MaxFailures - 1, results.Count(r => r.Status == SignInStatus.Failed));
        Assert.Equal(12 - (LockoutPolicy.Default.MaxFailures - 1), results.Count(r => r.Status == SignInStatus.LockedOut));
        Assert.Equal(SignInStatus.LockedOut, (await accounts.SignInAsync(name, password, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_wrong_current_password_on_the_change_form_counts_towards_lockout()
    {
        await using var app = ConsoleApp.Start();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var (name, password) = await app.UserAsync(Role.Viewer);
        var user = await app.Services.GetRequiredService<UserStore>().FindAsync(name, CancellationToken.None);

        for (var attempt = 0; attempt < LockoutPolicy.Default.MaxFailures; attempt++)
        {
            var (errors, changed) = await accounts.ChangePasswordAsync(user!.Id, "guess-" + attempt, "a-new-password-123", "a-new-password-123", null, CancellationToken.None);
            Assert.Null(changed);
            Assert.NotEmpty(errors);
        }

        Assert.Equal(SignInStatus.LockedOut, (await accounts.SignInAsync(name, password, null, CancellationToken.None)).Status);
        var (stillLocked, _) = await accounts.ChangePasswordAsync(user!.Id, password, "a-new-password-123", "a-new-password-123", null, CancellationToken.None);
        Assert.Contains("locked until", Assert.Single(stillLocked), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_locked_account_answers_the_sign_in_form_exactly_like_an_unknown_name_or_a_wrong_password()
    {
        await using var app = ConsoleApp.Start();
        var accounts = app.Services.GetRequiredService<AccountService>();
        var (name, password) = await app.UserAsync(Role.Operator);
        var (other, _) = await app.UserAsync(Role.Viewer);
        for (var attempt = 0; attempt < LockoutPolicy.Default.MaxFailures; attempt++)
        {
            await accounts.SignInAsync(name, "wrong-password-" + attempt, "127.0.0.1", CancellationToken.None);
        }

        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address };
        var locked = LoginError(await (await ConsoleApp.SignInAsync(http, name, password)).Content.ReadAsStringAsync());
        var unknown = LoginError(await (await ConsoleApp.SignInAsync(http, "nobody-by-this-name", password)).Content.ReadAsStringAsync());
        var wrong = LoginError(await (await ConsoleApp.SignInAsync(http, other, "not-the-password")).Content.ReadAsStringAsync());

        Assert.Equal(unknown, locked);
        Assert.Equal(unknown, wrong);
        Assert.Equal(HttpStatusCode.Redirect, (await http.GetAsync("/")).StatusCode);

        // The audit log still knows the real reason.
        var audit = await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Actor: name, Action: AuditActions.SignIn, Outcome: AuditOutcome.Refused), CancellationToken.None);
        Assert.Contains(audit.Items, e => e.Detail!.StartsWith("locked until", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_endpoint_refusing_an_authenticated_caller_leaves_a_refused_audit_entry()
    {
        await using var app = ConsoleApp.Start(TestTokens.Settings());
        const string file = "prod_20260101T000000.000Z.db";
        using var viewerToken = new HttpClient { BaseAddress = app.Address };
        viewerToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Viewer);

        Assert.Equal(HttpStatusCode.Forbidden, (await viewerToken.PostAsync("/api/clusters/prod/backups", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewerToken.GetAsync($"/snapshots/download/local/{file}")).StatusCode);
        using (var viewerCookie = await app.SignedInClientAsync(Role.Viewer))
        {
            var page = await viewerCookie.GetAsync("/users");
            Assert.StartsWith("/account/denied", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        var refused = (await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Outcome: AuditOutcome.Refused), CancellationToken.None)).Items;
        Assert.Contains(refused, e => e is { Actor: "token:dashboard", Action: AuditActions.BackupNow, Cluster: "prod", Address: "127.0.0.1" });
        Assert.Contains(refused, e => e is { Actor: "token:dashboard", Action: AuditActions.Download, Cluster: "prod", Subject: "local/" + file, Address: "127.0.0.1" });
        Assert.Contains(refused, e => e is { Actor: "test-viewer", Action: "GET /users", Cluster: null, Address: "127.0.0.1" });
        Assert.Equal(3, refused.Count);
    }

    [Fact]
    public async Task A_bearer_token_opens_the_api_and_the_download_but_no_page_hub_or_form()
    {
        await using var app = ConsoleApp.Start();
        var (_, made) = await app.Services.GetRequiredService<AccountService>().CreateTokenAsync(await app.ActorAsync(Role.Admin), "all-powerful", Role.Admin, CancellationToken.None);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", made!.Token);

        var admitted = new List<string>();
        foreach (var (method, pattern, url) in GuardedRequests(app))
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new StringContent("");
            }

            using var response = await http.SendAsync(request);
            var refused = response.StatusCode == HttpStatusCode.Unauthorized
                || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("/account/login", StringComparison.Ordinal) == true);
            var forTokens = pattern.StartsWith("/api/", StringComparison.Ordinal) || pattern.StartsWith("/snapshots/download/", StringComparison.Ordinal) || pattern == "/metrics";
            Assert.True(forTokens != refused, $"{method} {url} answered {(int)response.StatusCode} to an admin's bearer token");
            if (!refused)
            {
                admitted.Add($"{method} {pattern}");
            }
        }

        Assert.Contains("GET /api/clusters", admitted);
        Assert.Contains("GET /metrics", admitted);
        Assert.Contains("GET /snapshots/download/{target}/{file}", admitted);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("10.0.0.0/8")]
    public async Task A_forged_forwarded_address_neither_escapes_the_sign_in_limit_nor_reaches_the_audit_log(string? knownProxy)
    {
        await using var app = ConsoleApp.Start(knownProxy is null ? null : new Dictionary<string, string?> { ["Console:Auth:KnownProxies:0"] = knownProxy });
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address };

        var answers = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 25; attempt++)
        {
            http.DefaultRequestHeaders.Remove("X-Forwarded-For");
            http.DefaultRequestHeaders.Add("X-Forwarded-For", $"203.0.113.{attempt + 1}");
            answers.Add((await ConsoleApp.SignInAsync(http, "nobody-" + attempt, "not-a-password")).StatusCode);
        }

        Assert.All(answers.Take(20), a => Assert.Equal(HttpStatusCode.OK, a));
        Assert.All(answers.Skip(20), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
        var entries = (await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.SignIn), CancellationToken.None)).Items;
        Assert.Equal(20, entries.Count);
        Assert.All(entries, e => Assert.Equal("127.0.0.1", e.Address));
    }

    [Fact]
    public async Task A_configured_proxy_forwards_the_callers_address_to_the_limit_and_the_audit_log()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Auth:KnownProxies:0"] = "10.0.0.0/8", ["Console:Auth:KnownProxies:1"] = "127.0.0.1" });
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address };

        var sent = new List<string>();
        for (var attempt = 0; attempt < 25; attempt++)
        {
            var address = $"203.0.113.{attempt + 1}";
            sent.Add(address);
            http.DefaultRequestHeaders.Remove("X-Forwarded-For");
            http.DefaultRequestHeaders.Add("X-Forwarded-For", address);
            Assert.Equal(HttpStatusCode.OK, (await ConsoleApp.SignInAsync(http, "nobody-" + attempt, "not-a-password")).StatusCode);
        }

        var entries = (await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.SignIn), CancellationToken.None)).Items;
        Assert.Equal(sent.Order(), entries.Select(e => e.Address!).Order());
    }

    [Fact]
    public async Task A_five_thousand_character_cluster_name_gets_404_and_every_audit_entry_stays_bounded()
    {
        await using var app = ConsoleApp.Start(TestTokens.Settings());
        var huge = new string('a', 5_000);
        using var operatorToken = new HttpClient { BaseAddress = app.Address };
        operatorToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
        using var viewerToken = new HttpClient { BaseAddress = app.Address };
        viewerToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Viewer);

        var notFound = await operatorToken.PostAsync($"/api/clusters/{huge}/backups", null);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.True((await notFound.Content.ReadAsStringAsync()).Length < 1_000, "the 404 echoes the whole name back");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewerToken.PostAsync($"/api/clusters/{huge}/backups", null)).StatusCode);

        var entries = (await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(), CancellationToken.None)).Items;
        Assert.Contains(entries, e => e is { Actor: "token:dashboard", Outcome: AuditOutcome.Refused } && e.Cluster!.Contains("[truncated", StringComparison.Ordinal));
        Assert.All(entries, e => Assert.True((e.Cluster?.Length ?? 0) <= AuditLog.NameLimit && (e.Subject?.Length ?? 0) <= AuditLog.SubjectLimit && (e.Detail?.Length ?? 0) <= AuditLog.DetailLimit, $"unbounded audit entry: {e.Action} {e.Cluster?.Length} {e.Subject?.Length} {e.Detail?.Length}"));
    }

    /// <summary>Every route the app maps that is not open to anonymous callers, with a sample URL, per HTTP method.</summary>
    private static IEnumerable<(string Method, string Pattern, string Url)> GuardedRequests(ConsoleApp app)
    {
        foreach (var endpoint in app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                continue;
            }

            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                yield return (method, "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/'), Sample(endpoint.RoutePattern));
            }
        }
    }

    private static string LoginError(string html) =>
        LoginErrorPattern().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new InvalidOperationException("the sign-in page shows no error");

    [GeneratedRegex("data-testid=\"login-error\">([^<]*)<")]
    private static partial Regex LoginErrorPattern();

    private static string Sample(RoutePattern pattern) =>
        "/" + ParameterPattern().Replace((pattern.RawText ?? "").TrimStart('/'), m => m.Value.Contains(":int", StringComparison.Ordinal) || m.Value.Contains(":long", StringComparison.Ordinal) ? "1" : "test");

    private static bool IsStaticFile(string pattern) => StaticFilePattern().IsMatch(pattern);

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex ParameterPattern();

    [GeneratedRegex(@"\.(css|js|mjs|map|woff2?|ttf|svg|png|ico|json|gz|br|txt)$")]
    private static partial Regex StaticFilePattern();
}
