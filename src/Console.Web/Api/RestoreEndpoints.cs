using Console.Infrastructure.Restore;
using Console.Web.Access;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Console.Web.Api;

internal static class RestoreEndpoints
{
    public static IEndpointRouteBuilder MapRestoreEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A plain form post, so a multi-GB snapshot streams to staging instead of through the Blazor circuit. The
        // framework's antiforgery check is off here because it reads (and buffers) the whole form before the endpoint
        // runs: the endpoint refuses what it cannot use before reading the body, then checks the token itself from the
        // form's first field (or the RequestVerificationToken header) before it reads the file.
        endpoints.MapPost("/restore/{cluster}/upload", UploadAsync)
            .DisableAntiforgery()
            .WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute())
            .RequireAuthorization(Policies.Admin);
        return endpoints;
    }

    private static async Task<IResult> UploadAsync(string cluster, HttpContext context, RestoreWizard wizard, IAntiforgery antiforgery, IOptions<AntiforgeryOptions> antiforgeryOptions, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary) is not { Length: > 0 } boundary)
        {
            return Refuse(request, StatusCodes.Status400BadRequest, "post the snapshot as multipart/form-data in a field named snapshot");
        }

        var start = await wizard.StartUploadAsync(cluster, request.ContentLength, context.Actor(), cancellationToken);
        if (start.Upload is not { } upload)
        {
            return Refuse(request, StatusOf(start.Outcome), start.Message);
        }

        await using (upload)
        {
            var reader = new MultipartReader(boundary.ToString(), request.Body);
            var options = antiforgeryOptions.Value;
            var section = await reader.ReadNextSectionAsync(cancellationToken);
            if (FieldName(section) == options.FormFieldName && options.HeaderName is { } header)
            {
                // The page's form puts its token first; hand it to the framework's check as the header it reads first.
                request.Headers[header] = await section!.ReadAsStringAsync(cancellationToken);
                section = await reader.ReadNextSectionAsync(cancellationToken);
            }

            if (options.HeaderName is null || string.IsNullOrEmpty(request.Headers[options.HeaderName]) || !await antiforgery.IsRequestValidAsync(context))
            {
                return Refuse(request, StatusCodes.Status400BadRequest, "upload snapshots from the Restore page (the request carried no valid antiforgery token)");
            }

            if (section?.AsFileSection() is not { Name: "snapshot", FileStream: { } content } file || string.IsNullOrEmpty(file.FileName))
            {
                return Refuse(request, StatusCodes.Status400BadRequest, "no file was uploaded (post it in a field named snapshot)");
            }

            var answer = await upload.ReceiveAsync(content, Path.GetFileName(file.FileName), cancellationToken);
            return answer.Outcome == UploadOutcome.Accepted ? Results.Redirect("/restore") : Refuse(request, StatusOf(answer.Outcome), answer.Message);
        }
    }

    private static string? FieldName(MultipartSection? section) =>
        section is not null && ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFormDisposition()
            ? HeaderUtilities.RemoveQuotes(disposition.Name).ToString()
            : null;

    private static int StatusOf(UploadOutcome outcome) => outcome switch
    {
        UploadOutcome.NoRestoreWaiting or UploadOutcome.AlreadyUploading => StatusCodes.Status409Conflict,
        UploadOutcome.TooLarge => StatusCodes.Status413PayloadTooLarge,
        UploadOutcome.NoSpace => StatusCodes.Status507InsufficientStorage,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>A browser's form post gets the Restore page back with the message; automation gets the status and the error.</summary>
    private static IResult Refuse(HttpRequest request, int status, string message) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)
            ? Results.Redirect($"/restore?error={Uri.EscapeDataString(message)}")
            : Results.Json(new { error = message }, statusCode: status);
}
