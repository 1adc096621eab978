using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Console.Domain.Access;
using Console.Infrastructure.Access;
using Console.Web.Tests.Fixtures;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class SecretsTests(Browser browser)
{
    [Fact]
    public async Task Passwords_keys_and_tokens_appear_in_no_log_line_no_rendered_page_and_no_stored_file()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(auth: true);
        await using var s3 = await S3rver.StartAsync();
        var settings = s3.ConfigurationKeys();
        foreach (var (key, value) in TestTokens.Cluster(etcd).Concat(TestTokens.Settings()))
        {
            settings[key] = value;
        }

        settings["Console:Clusters:0:Auth:User"] = "root";
        settings["Console:Clusters:0:Auth:Password"] = TestEtcdCluster.RootPassword;
        settings["Console:Clusters:0:Backup:Enabled"] = "true";
        settings["Console:Clusters:0:Backup:Interval"] = "1h";
        settings["Console:Clusters:0:Backup:Targets:0"] = "local";
        settings["Console:Clusters:0:Backup:Targets:1"] = "s3";

        // SSE-C: the key goes with every request for an object (s3rver ignores it) and must show nowhere else.
        var customerKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        settings["Console:Storage:S3:ServerSideEncryption:Method"] = "SSE-C";
        settings["Console:Storage:S3:ServerSideEncryption:CustomerKey"] = customerKey;
        // Alert channels: a webhook whose path and query carry its token, and SMTP with a password; both sent through.
        using var receiver = new AlertReceiver();
        using var smtp = new SmtpSink();
        const string HookToken = "hook-token-in-the-path-5c1e";
        const string SmtpPassword = "smtp-password-for-alerts-3b9d";
        settings["Console:Alerts:Channels:0:Name"] = "ops";
        settings["Console:Alerts:Channels:0:Kind"] = "webhook";
        settings["Console:Alerts:Channels:0:Url"] = receiver.Url(HookToken);
        settings["Console:Alerts:Channels:1:Name"] = "mail";
        settings["Console:Alerts:Channels:1:Kind"] = "email";
        settings["Console:Alerts:Channels:1:Smtp:Host"] = "127.0.0.1";
        settings["Console:Alerts:Channels:1:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Console:Alerts:Channels:1:Smtp:User"] = "alerts";
        settings["Console:Alerts:Channels:1:Smtp:Password"] = SmtpPassword;
        settings["Console:Alerts:Channels:1:Smtp:From"] = "console@example.com";
        settings["Console:Alerts:Channels:1:Smtp:To:0"] = "oncall@example.com";
        settings["Console:Alerts:Channels:1:Smtp:StartTls"] = "false";
        var logs = new LogSink();
        await using var app = ConsoleApp.Start(settings, logs: logs);
        var accounts = app.Services.GetRequiredService<AccountService>();

        // A backup through the API with a bearer token, to both targets, with etcd's password in use (after the
        // first scheduled one, which the console takes at start).
        await app.WaitForFirstBackupAsync("test");
        using var api = new HttpClient { BaseAddress = app.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
        var accepted = await api.PostAsync("/api/clusters/test/backups", null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var record = await Eventually.ValueAsync(() => api.GetFromJsonAsync<JsonElement>($"/api/backups/{id}"), r => r.GetProperty("status").GetString() != "Running", TimeSpan.FromSeconds(60));
        Assert.Equal("Succeeded", record.GetProperty("status").GetString());

        // People: an admin signs in, adds a user who signs in and chooses a password, and makes a token that is used.
        var (adminName, adminPassword) = await app.UserAsync(Role.Admin);
        using var adminHttp = await app.SignedInClientAsync(Role.Admin);
        var admin = await app.ActorAsync(Role.Admin);
        const string DaveFirst = "dave-temporary-password-7";
        const string DaveChosen = "dave-chose-this-password-9";
        Assert.Empty(await accounts.AddUserAsync(admin, "dave", Role.Operator, DaveFirst, CancellationToken.None));
        using (var dave = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address })
        {
            await ConsoleApp.SignInAsync(dave, "dave", DaveFirst);
            var form = await dave.GetStringAsync("/account/change-password");
            using var change = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = ConsoleApp.AntiforgeryToken(form),
                ["_handler"] = "change-password",
                ["Input.Current"] = DaveFirst,
                ["Input.New"] = DaveChosen,
                ["Input.Confirm"] = "a-different-confirmation",
            });
            var refused = await (await dave.PostAsync("/account/change-password", change)).Content.ReadAsStringAsync();
            Assert.Contains("the two new passwords differ", refused, StringComparison.Ordinal);
            Assert.DoesNotContain(DaveChosen, refused, StringComparison.Ordinal);
            Assert.DoesNotContain(DaveFirst, refused, StringComparison.Ordinal);
        }

        var alerts = app.Services.GetRequiredService<Console.Infrastructure.Alerts.AlertService>();
        Assert.True((await alerts.SendTestAsync("ops", admin, CancellationToken.None)).Delivered);
        Assert.True((await alerts.SendTestAsync("mail", admin, CancellationToken.None)).Delivered);
        Assert.Single(receiver.Received);
        Assert.Single(smtp.Mails);

        var (_, made) = await accounts.CreateTokenAsync(admin, "nightly", Role.Viewer, CancellationToken.None);
        using (var viaToken = new HttpClient { BaseAddress = app.Address })
        {
            viaToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", made!.Token);
            Assert.True((await viaToken.GetAsync("/api/clusters")).IsSuccessStatusCode);
        }

        // Every page and API read, as the server renders it for an admin, then as the browser shows it once live.
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("GET") != false)
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(p => !p.StartsWith("/_", StringComparison.Ordinal) && !p.Contains('.', StringComparison.Ordinal) && !p.Contains("**", StringComparison.Ordinal) && !p.StartsWith("/snapshots/download", StringComparison.Ordinal) && p != "/healthz")
            .Select(p => p.Replace("{Id:long}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{id:long}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
            .Distinct()
            .ToList();
        Assert.Contains("/settings", routes);
        Assert.Contains("/users", routes);
        Assert.Contains("/api/clusters", routes);
        var rendered = new Dictionary<string, string>();
        foreach (var route in routes)
        {
            using var response = await (route.StartsWith("/api/", StringComparison.Ordinal) || route == "/metrics" ? api : adminHttp).GetAsync(route);
            rendered["server " + route] = await response.Content.ReadAsStringAsync();
        }

        await using (var session = await browser.OpenAsync(app, "settings", Role.Admin))
        {
            var page = session.Page;
            await Microsoft.Playwright.Assertions.Expect(page.Locator("[data-testid=effective-config]").First).ToContainTextAsync("root");
            foreach (var route in routes.Where(r => !r.StartsWith("/api/", StringComparison.Ordinal) && !r.StartsWith("/account/", StringComparison.Ordinal) && r != "/metrics"))
            {
                await page.GotoAsync(new Uri(app.Address, route.TrimStart('/')).ToString());
                await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
                await page.WaitForLoadStateAsync(Microsoft.Playwright.LoadState.NetworkIdle);
                rendered["browser " + route] = await page.ContentAsync();
            }
        }

        // Files the console wrote: its databases (with their write-ahead logs), snapshots' manifests, the sandbox.
        var stored = Directory.EnumerateFiles(app.DataDir, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".db", StringComparison.Ordinal) || f.Contains("console", StringComparison.Ordinal) || f.Contains("scheduler", StringComparison.Ordinal))
            .ToDictionary(f => f, f => Encoding.Latin1.GetString(File.ReadAllBytes(f)));
        Assert.Contains(stored.Keys, f => f.EndsWith("console.db", StringComparison.Ordinal));

        var secrets = new Dictionary<string, string>
        {
            ["etcd password"] = TestEtcdCluster.RootPassword,
            ["S3 access key id"] = s3.Settings.AccessKeyId!,
            ["S3 secret access key"] = s3.Settings.SecretAccessKey!,
            ["S3 SSE-C customer key"] = customerKey,
            ["configured operator token"] = TestTokens.Operator,
            ["configured viewer token"] = TestTokens.Viewer,
            ["key ring's key-encryption key"] = TestTokens.KeyEncryptionKey,
            ["token made on the Users page"] = made.Token,
            [$"{adminName}'s password"] = adminPassword,
            ["dave's temporary password"] = DaveFirst,
            ["dave's refused new password"] = DaveChosen,
            ["webhook URL's token"] = HookToken,
            ["SMTP password"] = SmtpPassword,
        };
        Assert.True(logs.Lines.Count > 50, "the log capture saw too little to mean anything");
        Assert.True(rendered.Count >= 15, $"only {rendered.Count} pages were rendered");
        foreach (var (what, secret) in secrets)
        {
            var logged = logs.Lines.FirstOrDefault(l => l.Contains(secret, StringComparison.Ordinal));
            Assert.True(logged is null, $"the {what} is in the log: {logged}");
            foreach (var (page, html) in rendered)
            {
                Assert.False(html.Contains(secret, StringComparison.Ordinal), $"the {what} is rendered in {page}");
            }

            foreach (var (file, content) in stored)
            {
                Assert.False(content.Contains(secret, StringComparison.Ordinal), $"the {what} is stored in {file}");
            }
        }

        // The one exception, asked for: the first admin's one-time password is printed once (and must be changed).
        Assert.Single(logs.Lines, l => l.Contains("one-time password", StringComparison.Ordinal));
    }
}
