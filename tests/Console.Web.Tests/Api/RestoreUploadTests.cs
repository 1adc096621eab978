using System.Net;
using Console.Domain.Access;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Api;

public sealed class RestoreUploadTests
{
    /// <summary>
    /// An admin's post without the Restore page's antiforgery token is refused (400); an operator's is refused for the
    /// role (403) whatever it carries.
    /// </summary>
    [Theory]
    [InlineData(Role.Admin, HttpStatusCode.BadRequest)]
    [InlineData(Role.Operator, HttpStatusCode.Forbidden)]
    public async Task A_snapshot_upload_is_refused_without_the_page_s_token_or_the_admin_role(Role role, HttpStatusCode expected)
    {
        await using var app = ConsoleApp.Start();
        using var http = await app.SignedInClientAsync(role);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[544]), "snapshot", "evil.db" } };

        var response = await http.PostAsync("/restore/sandbox/upload", form);

        Assert.Equal(expected, response.StatusCode);
    }
}
