using Console.Domain.Access;
using Console.Domain.Backups;

namespace Console.Infrastructure.Drills;

/// <summary>
/// TEMPORARY (branch i17-display): stands in for the drill service built on branch i17-drill, so the pages that show
/// drills start. Drop this file and its registration when merging the real service.
/// </summary>
internal sealed class UnavailableDrills : IRestoreDrills
{
    public DrillProgress? Current => null;

    public event Action? Changed
    {
        add { }
        remove { }
    }

    public Task<DrillRequest> RequestAsync(SnapshotName name, string target, Actor by, CancellationToken cancellationToken) =>
        Task.FromResult(new DrillRequest(false, "drills are not available in this build"));
}
