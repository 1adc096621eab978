using Console.Web.Backups;

namespace Console.Web.Components.Pages.Backups;

/// <summary>Periods in words, for the chart and filter choices.</summary>
internal static class PeriodText
{
    public static string Last(DashboardPeriod period) => period switch
    {
        DashboardPeriod.Day => "last 24 hours",
        DashboardPeriod.Week => "last 7 days",
        DashboardPeriod.Quarter => "last 90 days",
        _ => "last 30 days",
    };
}
