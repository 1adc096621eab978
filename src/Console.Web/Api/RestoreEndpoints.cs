using Console.Infrastructure.Restore;
using Console.Web.Access;

namespace Console.Web.Api;

internal static class RestoreEndpoints
{
    public static IEndpointRouteBuilder MapRestoreEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A plain form post, so a multi-GB snapshot streams to staging instead of through the Blazor circuit. The form
        // carries an antiforgery token, so no other site can post a snapshot of its choosing into a restore.
        endpoints.MapPost("/restore/{cluster}/upload", UploadAsync)
            .WithMetadata(new Microsoft.AspNetCore.Antiforgery.RequireAntiforgeryTokenAttribute(true))
            .WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute())
            .RequireAuthorization(Policies.Admin);
        return endpoints;
    }

    private static async Task<IResult> UploadAsync(string cluster, HttpRequest request, RestoreWizard wizard, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Antiforgery.IAntiforgeryValidationFeature>() is { IsValid: false })
        {
            return Results.BadRequest(new { error = "upload snapshots from the Restore page (the request carried no valid antiforgery token)" });
        }

        if (!request.HasFormContentType)
        {
            return Results.BadRequest(new { error = "post the snapshot as multipart/form-data in a field named snapshot" });
        }

        var form = await request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { MultipartBodyLengthLimit = long.MaxValue }, cancellationToken);
        if (form.Files.GetFile("snapshot") is not { Length: > 0 } file)
        {
            return Results.Redirect($"/restore?error={Uri.EscapeDataString("no file was uploaded")}");
        }

        await using var content = file.OpenReadStream();
        var result = await wizard.UploadAsync(cluster, content, file.FileName, request.HttpContext.Actor(), cancellationToken);
        return Results.Redirect(result.Ok ? "/restore" : $"/restore?error={Uri.EscapeDataString(result.Message)}");
    }
}
