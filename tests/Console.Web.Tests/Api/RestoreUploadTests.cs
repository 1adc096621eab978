using System.Net;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Api;

public sealed class RestoreUploadTests
{
    [Fact]
    public async Task A_snapshot_upload_without_the_page_s_antiforgery_token_is_refused()
    {
        await using var app = ConsoleApp.Start();
        using var http = new HttpClient { BaseAddress = app.Address };
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[544]), "snapshot", "evil.db" } };

        var response = await http.PostAsync("/restore/sandbox/upload", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
