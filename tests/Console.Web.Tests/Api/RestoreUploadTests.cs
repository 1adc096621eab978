using System.Net;
using System.Security.Cryptography;
using Console.Domain.Access;
using Console.Domain.Restore;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Api;

public sealed class RestoreUploadTests
{
    /// <summary>A cluster the wizard can start a restore of; nothing in these tests needs it to answer.</summary>
    private static Dictionary<string, string?> Settings(long? maxUploadBytes = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Console:Clusters:0:Name"] = "up",
            ["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:9",
            ["Console:Clusters:0:Members:0:Name"] = "m1",
            ["Console:Clusters:0:Members:0:PeerUrl"] = "http://127.0.0.1:10",
            ["Console:Clusters:0:Members:0:DataDir"] = "/var/lib/etcd",
            ["Console:Clusters:0:Members:0:Control"] = "Manual",
        };
        if (maxUploadBytes is { } max)
        {
            settings["Console:Restore:MaxUploadBytes"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    private static async Task<RestoreSession> BeginAsync(ConsoleApp app)
    {
        var begun = await app.Services.GetRequiredService<RestoreWizard>().BeginAsync("up", await app.ActorAsync(Role.Admin), CancellationToken.None);
        Assert.True(begun.Ok, begun.Message);
        return begun.Session!;
    }

    /// <summary>Every file under the restore staging area (all sessions), as the disk holds it.</summary>
    private static string[] Staged(ConsoleApp app)
    {
        var root = Path.Combine(app.DataDir, "restore");
        return Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories) : [];
    }

    /// <summary>
    /// An admin's post without the Restore page's antiforgery token is refused (400); an operator's is refused for the
    /// role (403) whatever it carries.
    /// </summary>
    [Theory]
    [InlineData(Role.Admin, HttpStatusCode.BadRequest)]
    [InlineData(Role.Operator, HttpStatusCode.Forbidden)]
    public async Task A_snapshot_upload_is_refused_without_the_page_s_token_or_the_admin_role(Role role, HttpStatusCode expected)
    {
        await using var app = ConsoleApp.Start(Settings());
        await BeginAsync(app);
        using var http = await app.SignedInClientAsync(role);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[544]), "snapshot", "evil.db" } };

        var response = await http.PostAsync("/restore/up/upload", form);

        Assert.Equal(expected, response.StatusCode);
        Assert.Empty(Staged(app));
    }

    [Fact]
    public async Task A_snapshot_over_128_MiB_streams_to_staging_when_a_restore_waits_for_it()
    {
        await using var app = ConsoleApp.Start(Settings());
        var session = await BeginAsync(app);
        using var uploader = await SnapshotUploader.SignInAsync(app);
        const long size = (129L << 20) + 12345; // over the framework's 128 MiB form limit
        using var body = new GeneratedUpload(await uploader.TokenAsync(), size);

        var response = await uploader.PostAsync("up", body);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/restore", response.Headers.Location!.OriginalString);
        var current = await app.Services.GetRequiredService<RestoreWizard>().CurrentAsync("up", CancellationToken.None);
        Assert.Equal(RestoreStep.Verify, current!.Step);
        Assert.Equal(RestoreWizard.UploadTarget, current.SnapshotTarget);
        Assert.Equal(size, current.SizeBytes);
        Assert.Equal(size, new FileInfo(current.StagedPath!).Length);
        Assert.Equal([current.StagedPath!], Staged(app));
        Assert.Equal(session.Id, current.Id);
    }

    [Fact]
    public async Task An_upload_is_refused_before_its_body_is_read_when_no_restore_waits_for_it()
    {
        await using var app = ConsoleApp.Start(Settings());
        using var uploader = await SnapshotUploader.SignInAsync(app);
        using var body = new GeneratedUpload(await uploader.TokenAsync(), 200L << 20);

        var response = await uploader.PostAsync("up", body);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("no restore of 'up' in progress", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(body.Started, "the client was asked for the body");
        Assert.Empty(Staged(app));
    }

    /// <summary>
    /// Over Console:Restore:MaxUploadBytes: a declared length is refused before the body is read; a body without one
    /// (chunked) is cut off where it passes the limit. Either way nothing is left in staging and the restore still waits.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_upload_over_the_limit_is_refused_and_leaves_nothing(bool declareLength)
    {
        await using var app = ConsoleApp.Start(Settings(maxUploadBytes: 1 << 20));
        await BeginAsync(app);
        using var uploader = await SnapshotUploader.SignInAsync(app);
        using var body = new GeneratedUpload(await uploader.TokenAsync(), 3 << 20, declareLength: declareLength);

        var response = await uploader.PostAsync("up", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Console:Restore:MaxUploadBytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(!declareLength, body.Started);
        Assert.Empty(Staged(app));
        var current = await app.Services.GetRequiredService<RestoreWizard>().CurrentAsync("up", CancellationToken.None);
        Assert.Equal(RestoreStep.Choose, current!.Step);
        Assert.Null(current.StagedPath);
    }

    [Fact]
    public async Task An_upload_larger_than_the_staging_disk_s_free_space_is_refused_before_its_body_is_read()
    {
        await using var app = ConsoleApp.Start(Settings(maxUploadBytes: long.MaxValue / 2));
        await BeginAsync(app);
        using var uploader = await SnapshotUploader.SignInAsync(app);
        var free = new DriveInfo(app.DataDir).AvailableFreeSpace;
        using var body = new GeneratedUpload(await uploader.TokenAsync(), free + (1L << 30));

        var response = await uploader.PostAsync("up", body);

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Contains("bytes free", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(body.Started);
        Assert.Empty(Staged(app));
    }

    /// <summary>
    /// Four uploads at once: one is received, the others are refused while it runs; at no time is there more than one
    /// file in staging. A later upload replaces the first one's file.
    /// </summary>
    [Fact]
    public async Task Parallel_uploads_to_one_restore_leave_one_staged_file_and_a_new_upload_replaces_the_old()
    {
        await using var app = ConsoleApp.Start(Settings());
        await BeginAsync(app);
        using var uploader = await SnapshotUploader.SignInAsync(app);
        var token = await uploader.TokenAsync();
        var release = new TaskCompletionSource();
        var bodies = Enumerable.Range(0, 4).Select(_ => new GeneratedUpload(token, 30L << 20, holdAfterFirstChunk: release.Task)).ToList();
        try
        {
            var posts = bodies.Select(b => uploader.PostAsync("up", b)).ToList();
            await Eventually.ValueAsync(() => Task.FromResult(posts.Count(p => p.IsCompleted)), n => n == 3, TimeSpan.FromSeconds(60));
            Assert.Single(Staged(app)); // the running upload's partial file only
            release.SetResult();
            var responses = await Task.WhenAll(posts);

            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Redirect);
            Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
            foreach (var refused in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            {
                Assert.Contains("another upload for this restore is still running", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            var wizard = app.Services.GetRequiredService<RestoreWizard>();
            var first = (await wizard.CurrentAsync("up", CancellationToken.None))!;
            Assert.Equal([first.StagedPath!], Staged(app));

            using var second = new GeneratedUpload(token, 5L << 20);
            Assert.Equal(HttpStatusCode.Redirect, (await uploader.PostAsync("up", second)).StatusCode);
            var replaced = (await wizard.CurrentAsync("up", CancellationToken.None))!;
            Assert.Equal(5L << 20, replaced.SizeBytes);
            Assert.Equal([replaced.StagedPath!], Staged(app));
        }
        finally
        {
            release.TrySetResult();
            bodies.ForEach(b => b.Dispose());
        }
    }

    /// <summary>An upload whose connection is lost midway leaves no file, and the restore takes the next upload.</summary>
    [Fact]
    public async Task An_aborted_upload_leaves_no_file_and_frees_the_restore_for_the_next_one()
    {
        await using var app = ConsoleApp.Start(Settings());
        await BeginAsync(app);
        using var uploader = await SnapshotUploader.SignInAsync(app);
        var token = await uploader.TokenAsync();
        var hold = new TaskCompletionSource();
        using var aborted = new GeneratedUpload(token, 20L << 20, holdAfterFirstChunk: hold.Task);
        var post = uploader.PostAsync("up", aborted);
        await Eventually.ValueAsync(() => Task.FromResult(Staged(app).Length), n => n == 1, TimeSpan.FromSeconds(30));

        // The client fails while sending: the connection closes with the body incomplete.
        hold.SetException(new IOException("the client went away"));
        await Assert.ThrowsAsync<HttpRequestException>(() => post);

        await Eventually.ValueAsync(() => Task.FromResult(Staged(app).Length), n => n == 0, TimeSpan.FromSeconds(30));
        var response = await Eventually.ValueAsync(() => uploader.PostAsync("up", new GeneratedUpload(token, 1L << 20)), r => r.StatusCode != HttpStatusCode.Conflict, TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Single(Staged(app));
    }

    /// <summary>
    /// A file with a valid footer over garbage makes etcdctl panic with a goroutine dump: the wizard shows the panic's
    /// one line, the log keeps the whole output.
    /// </summary>
    [Fact]
    public async Task A_snapshot_that_makes_etcdctl_panic_is_refused_with_one_line_and_the_log_has_the_rest()
    {
        var logs = new LogSink();
        await using var app = ConsoleApp.Start(Settings(), logs: logs);
        await BeginAsync(app);
        var garbage = RandomNumberGenerator.GetBytes(512 * 64);
        var file = garbage.Concat(SHA256.HashData(garbage)).ToArray(); // size % 512 == 32 and a matching footer
        using var uploader = await SnapshotUploader.SignInAsync(app);
        using var body = new GeneratedUpload(await uploader.TokenAsync(), 0, payload: file);
        Assert.Equal(HttpStatusCode.Redirect, (await uploader.PostAsync("up", body)).StatusCode);

        var verify = await app.Services.GetRequiredService<RestoreWizard>().VerifyAsync("up", await app.ActorAsync(Role.Admin), CancellationToken.None);

        Assert.False(verify.Ok);
        Assert.DoesNotContain('\n', verify.Message);
        Assert.Contains("panic: cannot open database", verify.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("goroutine", verify.Message, StringComparison.Ordinal);
        Assert.Contains("goroutine 1 [running]", logs.Text, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Verify, verify.Session!.Step);
    }
}
