using Console.Web.Components.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Console.Web;

/// <summary>
/// The answer to a request that failed with an unhandled exception, logged once (with the exception) under the
/// request id the caller is shown: a browser gets an error page, everything else (the API, downloads fetched by
/// scripts, the Blazor hub) a problem+json body. Both say what failed in the exception's words, which our code writes
/// without secrets (the audit log keeps the same words); neither carries a stack trace.
/// </summary>
internal static partial class ErrorResponses
{
    private const string Title = "The request failed";

    /// <summary>
    /// In every environment: the framework's developer page would show stack traces, and tests must see what users see.
    /// The middleware's own log line is suppressed, since <see cref="WriteAsync"/> writes the one line.
    /// </summary>
    public static WebApplication UseConsoleErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteAsync, SuppressDiagnosticsCallback = _ => true });

        // A browser that asks for an address with no page gets the console's "Page not found" (inside the layout, with
        // the menu), not the browser's own error screen; the API keeps its bare 404s and problem details.
        app.UseWhen(
            context => HttpMethods.IsGet(context.Request.Method) && WantsPage(context.Request),
            branch => branch.UseStatusCodePagesWithReExecute(NotFoundPath, createScopeForStatusCodePages: true));
        return app;
    }

    private static async Task WriteAsync(HttpContext context)
    {
        var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ErrorResponses).FullName!);
        LogFailed(logger, failure, context.Request.Method, context.Request.Path.Value ?? "", context.TraceIdentifier);

        var detail = failure?.Message is { Length: > 0 } message ? message : "an unexpected error";
        var result = WantsPage(context.Request)
            ? (IResult)new RazorComponentResult<ErrorPage>(new { RequestId = context.TraceIdentifier, Detail = detail }) { StatusCode = StatusCodes.Status500InternalServerError }
            : TypedResults.Problem(detail, statusCode: StatusCodes.Status500InternalServerError, title: Title, extensions: new Dictionary<string, object?> { ["requestId"] = context.TraceIdentifier });
        await result.ExecuteAsync(context);
    }

    public const string NotFoundPath = "/not-found";

    /// <summary>A browser asking for a document; the API and the Blazor hub never get HTML.</summary>
    private static bool WantsPage(HttpRequest request) =>
        !request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        && !request.Path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase)
        && request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed (request id {RequestId})")]
    private static partial void LogFailed(ILogger logger, Exception? exception, string method, string path, string requestId);
}
