using System.Net;
using Console.Domain.Access;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Api;

public sealed class RestoreUploadTests
{
    [Fact]
    public async Task A_snapshot_upload_without_the_page_s_antiforgery_token_is_refused()
    {
        await using var app = ConsoleApp.Start();
        using var http = await app.SignedInClientAsync(Role.Admin);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[544]), "snapshot", "evil.db" } };

        var response = await http.PostAsync("/restore/sandbox/upload", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_operator_cannot_upload_a_snapshot_into_a_restore()
    {
        await using var app = ConsoleApp.Start();
        using var http = await app.SignedInClientAsync(Role.Operator);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[544]), "snapshot", "evil.db" } };

        var response = await http.PostAsync("/restore/sandbox/upload", form);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
