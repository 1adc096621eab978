using Bunit;
using Bunit.Diffing;
using Bunit.Rendering;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.JSInterop;
using Radzen;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// bunit 1.9.8 (the version this machine's NuGet copy has) predates .NET 8: its stock TestContext builds a JS runtime
/// that implements the removed IJSUnmarshalledRuntime, and its renderer does not answer RendererInfo. This context
/// registers bunit's web services by hand with a loose JS runtime and a renderer that reports interactive server
/// rendering, which is what our components run under.
/// </summary>
public sealed class ComponentTestContext : TestContextBase
{
    public ComponentTestContext()
    {
        Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        Services.AddSingleton<IJSRuntime, LooseJsRuntime>();
        Services.AddSingleton<HtmlComparer>();
        Services.AddSingleton(sp => new BunitHtmlParser(sp.GetRequiredService<ITestRenderer>(), sp.GetRequiredService<HtmlComparer>(), this));
        Services.AddSingleton<IRenderedComponentActivator>(sp => new RenderedComponentActivator(sp));
        Services.AddSingleton<ITestRenderer>(sp => new InteractiveRenderer(sp.GetRequiredService<IRenderedComponentActivator>(), Services, sp.GetRequiredService<ILoggerFactory>()));
        Services.AddSingleton<NavigationManager>(sp => new FakeNavigationManager(sp.GetRequiredService<ITestRenderer>()));
        Services.AddSingleton<INavigationInterception, NoNavigationInterception>();
        Services.AddRadzenComponents();
    }

    public IRenderedComponent<TComponent> Render<TComponent>(Action<ComponentParameterCollectionBuilder<TComponent>> parameters)
        where TComponent : IComponent
    {
        var collection = new ComponentParameterCollectionBuilder<TComponent>(parameters).Build();
        return (IRenderedComponent<TComponent>)Renderer.RenderComponent<TComponent>(collection);
    }

    private sealed class InteractiveRenderer(IRenderedComponentActivator activator, TestServiceProvider services, ILoggerFactory loggerFactory)
        : TestRenderer(activator, services, loggerFactory)
    {
        protected override RendererInfo RendererInfo { get; } = new("Server", isInteractive: true);
    }

    private sealed class NoNavigationInterception : INavigationInterception
    {
        public Task EnableNavigationInterceptionAsync() => Task.CompletedTask;
    }

    /// <summary>Answers every JS call with an empty result, as a browser with nothing to say would.</summary>
    private sealed class LooseJsRuntime : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) => ValueTask.FromResult(Empty<TValue>());

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) => ValueTask.FromResult(Empty<TValue>());

        private static TValue Empty<TValue>()
        {
            var type = typeof(TValue);
            if (type == typeof(IJSObjectReference))
            {
                return (TValue)(object)new NullObjectReference();
            }

            return type.IsClass && type != typeof(string) && type.GetConstructor(Type.EmptyTypes) is not null
                ? (TValue)Activator.CreateInstance(type)!
                : default!;
        }

        private sealed class NullObjectReference : IJSObjectReference
        {
            public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) => ValueTask.FromResult(Empty<TValue>());

            public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) => ValueTask.FromResult(Empty<TValue>());

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
