using Console.Domain.Access;

namespace Console.Web.Tests.Fixtures;

/// <summary>Actors for tests of the engine: the system kind passes every role check, recorded under its name.</summary>
public static class TestActors
{
    public static Actor Of(string name) => Actor.System(name);
}
