using System.Runtime.CompilerServices;
using Bunit;

namespace Console.Web.Tests.Components;

/// <summary>
/// bUnit waits one second by default for a render to satisfy WaitForAssertion/WaitForState. Pages here render after a
/// database query on a thread-pool thread; on a busy two-core machine (the suite runs real etcd, PostgreSQL and Chromium
/// beside them) that second was seen to run out. A wait ends as soon as its condition holds, so a longer one costs
/// nothing when the page is quick and only turns a slow machine's pass into a pass instead of a failure.
/// </summary>
internal static class BunitDefaults
{
    [ModuleInitializer]
    internal static void WaitLonger() => BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(15);
}

/// <summary>
/// A page that hears live updates (the scheduler, the poller, progress) can re-render between finding a button and
/// clicking it; the found element then carries an event handler id the renderer has already dropped. Finding and
/// clicking on the renderer's dispatcher leaves no room for a render in between.
/// </summary>
internal static class LivePageClicks
{
    internal static Task ClickAsync<T>(this IRenderedComponent<T> page, string selector) where T : Microsoft.AspNetCore.Components.IComponent =>
        page.InvokeAsync(() => page.Find(selector).Click());
}
