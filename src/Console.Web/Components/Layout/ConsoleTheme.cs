using Microsoft.AspNetCore.Http;
using MudBlazor;

namespace Console.Web.Components.Layout;

/// <summary>
/// The console's two palettes, and which one a browser chose. The choice lives in a cookie the server reads, so the
/// first render is already in the right colours (decision record 0020).
/// </summary>
internal static class ConsoleTheme
{
    public const string CookieName = "console-theme";

    /// <summary>The name under which Routes cascades the theme App read from the cookie.</summary>
    public const string CascadeName = "ConsoleTheme";
    public const string Light = "light";
    public const string Dark = "dark";

    /// <summary>Calm colours for long watches: slate and steel blue; status colours are the only strong ones.</summary>
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#2f5d8a",
            Secondary = "#5c6f82",
            Tertiary = "#3d7a74",
            Info = "#2b6cb0",
            Success = "#2e7d4f",
            Warning = "#a86a12",
            Error = "#c0392b",
            Background = "#f4f6f9",
            BackgroundGray = "#e9edf2",
            Surface = "#ffffff",
            AppbarBackground = "#22384f",
            AppbarText = "#f4f6f9",
            DrawerBackground = "#ffffff",
            DrawerText = "#2a3440",
            DrawerIcon = "#52606d",
            TextPrimary = "#1f2933",
            TextSecondary = "#52606d",
            LinesDefault = "#dde2e8",
            TableLines = "#e4e8ed",
            Divider = "#dde2e8",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7fa8d4",
            Secondary = "#95a6b8",
            Tertiary = "#6fb3aa",
            Info = "#64a6e8",
            Success = "#5cb884",
            Warning = "#e0a84f",
            Error = "#ef6b61",
            Background = "#14181e",
            BackgroundGray = "#1a1f26",
            Surface = "#1c222a",
            AppbarBackground = "#1a2028",
            AppbarText = "#e3e8ee",
            DrawerBackground = "#181d24",
            DrawerText = "#cfd6de",
            DrawerIcon = "#9aa5b1",
            TextPrimary = "#e3e8ee",
            TextSecondary = "#9aa5b1",
            ActionDefault = "#aab4be",
            LinesDefault = "#2c343e",
            LinesInputs = "#4a5562",
            TableLines = "#2c343e",
            Divider = "#2c343e",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"] },
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "6px" },
    };

    /// <summary>The browser's choice from its cookie: dark only when it says so, light for anything else or nothing.</summary>
    public static string NameOf(HttpContext? context) =>
        context?.Request.Cookies[CookieName] == Dark ? Dark : Light;

    public static bool IsDark(HttpContext? context) => NameOf(context) == Dark;
}
