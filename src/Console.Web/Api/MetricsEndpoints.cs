using Console.Infrastructure.Metrics;
using Console.Web.Access;
using OpenTelemetry.Metrics;

namespace Console.Web.Api;

/// <summary>
/// Metrics in the Prometheus text format at <c>/metrics</c> (a Viewer token, like the API), through OpenTelemetry: the
/// backup subsystem's own (<see cref="BackupMetrics"/>) beside ASP.NET Core's and the runtime's. With
/// <c>Console:Metrics:OtlpEndpoint</c> set they are also pushed over OTLP.
/// </summary>
internal static class MetricsEndpoints
{
    public const string Path = "/metrics";

    public static IServiceCollection AddConsoleMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        // Checked at start-up with the rest of the configuration (ConsoleSettingsValidator): an http(s) URL or nothing.
        var otlp = configuration["Console:Metrics:OtlpEndpoint"];
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(BackupMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter();
            if (Uri.TryCreate(otlp, UriKind.Absolute, out var collector))
            {
                metrics.AddOtlpExporter(o => o.Endpoint = collector);
            }
        });
        return services;
    }

    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint(Path).RequireAuthorization(Policies.Viewer);
        return endpoints;
    }
}
