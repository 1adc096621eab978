using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Console.Domain.Access;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Api;

public sealed partial class ErrorResponsesTests
{
    [Fact]
    public async Task A_download_while_S3_is_down_answers_what_failed_as_a_problem_or_a_page_and_logs_it_once()
    {
        await using var s3 = await S3rver.StartAsync();
        var logs = new LogSink();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(s3.ConfigurationKeys()).ToDictionary(), logs: logs);
        using var browser = await app.SignedInClientAsync(Role.Operator);
        s3.Kill();
        const string file = "prod_20260101T000000.000Z.db";
        const string url = $"/snapshots/download/s3/{file}";

        // Automation (a token, no HTML accepted): a problem body that names the store and the failure.
        using var api = new HttpClient { BaseAddress = app.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
        using var problemResponse = await api.GetAsync(url);
        Assert.Equal(HttpStatusCode.InternalServerError, problemResponse.StatusCode);
        Assert.Equal("application/problem+json", problemResponse.Content.Headers.ContentType?.MediaType);
        var body = await problemResponse.Content.ReadAsStringAsync();
        using var problem = JsonDocument.Parse(body);
        var detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains($"s3://{S3rver.Bucket}/etcd/prod/{file}", detail, StringComparison.Ordinal);
        Assert.Contains("reach", detail, StringComparison.Ordinal);
        Assert.Equal(500, problem.RootElement.GetProperty("status").GetInt32());
        var apiRequestId = problem.RootElement.GetProperty("requestId").GetString()!;
        AssertNothingInternal(body);

        // A browser: an HTML page with the same words and the request id to quote.
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        using var pageResponse = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, pageResponse.StatusCode);
        Assert.Equal("text/html", pageResponse.Content.Headers.ContentType?.MediaType);
        var html = await pageResponse.Content.ReadAsStringAsync();
        Assert.Contains("<html", html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(detail), html, StringComparison.Ordinal);
        var pageRequestId = RequestIdPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("the error page shows no request id:\n" + html);
        AssertNothingInternal(html);

        // Each failure is logged once, with its exception, under the request id the caller was given.
        foreach (var requestId in new[] { apiRequestId, pageRequestId })
        {
            var line = Assert.Single(logs.Lines, l => l.Contains(requestId, StringComparison.Ordinal));
            Assert.StartsWith("Error ", line, StringComparison.Ordinal);
            Assert.Contains("Exception", line, StringComparison.Ordinal);
        }

        Assert.Equal(2, logs.Lines.Count(l => (l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal)) && l.Contains(file, StringComparison.Ordinal)));
        Assert.Equal(2, logs.Lines.Count(l => (l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal)) && l.Contains("Exception", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_download_of_a_snapshot_no_store_holds_answers_404_from_the_bucket_and_the_disk_alike()
    {
        await using var s3 = await S3rver.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(s3.ConfigurationKeys()).ToDictionary());
        using var api = new HttpClient { BaseAddress = app.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
        const string file = "prod_20260101T000000.000Z.db";

        foreach (var target in new[] { "s3", "local" })
        {
            using var response = await api.GetAsync($"/snapshots/download/{target}/{file}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    private static void AssertNothingInternal(string body)
    {
        Assert.DoesNotContain("S3RVER", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Console.", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }

    [GeneratedRegex("data-testid=\"request-id\">([^<]+)<")]
    private static partial Regex RequestIdPattern();
}
