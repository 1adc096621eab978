using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>How the ledger's rows become spans: a table of cases (the end-to-end behaviour is in the other Capture tests).</summary>
public sealed class CaptureWindowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static BaseSnapshot Base(long revision, int second) => new($"cap_{revision}.db", revision, T0.AddSeconds(second));

    private static DeltaSegmentRecord Segment(long first, long last, DeltaSegmentStatus status = DeltaSegmentStatus.Ok) =>
        new("cap", first, last, T0.AddSeconds(first), T0.AddSeconds(last), $"cap_{first:D19}-{last:D19}.delta", "none", last - first + 1, "", 0, "", 0, ["local"], status, status == DeltaSegmentStatus.Ok ? null : "sha256 differs");

    public static TheoryData<string, BaseSnapshot[], DeltaSegmentRecord[], long?, string> Cases => new()
    {
        { "a base alone", [Base(10, 5)], [], null, "10-10" },
        { "contiguous from the base", [Base(10, 5)], [Segment(11, 20), Segment(21, 30)], null, "10-30" },
        { "overlap at the base (watch from its revision)", [Base(10, 5)], [Segment(10, 20), Segment(21, 30)], null, "10-30" },
        { "overlap between segments", [Base(10, 5)], [Segment(11, 20), Segment(15, 30)], null, "10-30" },
        { "a gap ends the span", [Base(10, 5)], [Segment(11, 20), Segment(23, 30)], null, "10-20" },
        { "a damaged segment ends the span before it", [Base(10, 5)], [Segment(11, 20), Segment(21, 25, DeltaSegmentStatus.Damaged), Segment(26, 30)], null, "10-20" },
        { "a gap right after the base", [Base(10, 5)], [Segment(12, 20)], null, "10-10" },
        { "a later base inside the span adds nothing", [Base(10, 5), Base(15, 16)], [Segment(11, 20)], null, "10-20" },
        { "a base after a break starts a new span", [Base(10, 5), Base(40, 41)], [Segment(11, 20), Segment(40, 50)], 50, "10-20 40-50" },
        { "a base after a gap bridges it", [Base(10, 5), Base(22, 23)], [Segment(11, 20), Segment(23, 30)], null, "10-20 22-30" },
        { "segments all below the base", [Base(30, 31)], [Segment(11, 20), Segment(21, 30)], null, "30-30" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Spans_follow_the_segments_from_each_base(string why, BaseSnapshot[] bases, DeltaSegmentRecord[] segments, long? durable, string expected)
    {
        var state = durable is { } d ? new ContinuousState("cap", d, T0.AddSeconds(d), "r", null, T0) : null;
        var spans = DeltaHistory.Spans(bases, segments, state);
        Assert.True(expected == string.Join(' ', spans.Select(s => $"{s.FromRevision}-{s.ToRevision}")), $"{why}: {string.Join(' ', spans.Select(s => $"{s.FromRevision}-{s.ToRevision}"))}");
    }

    [Fact]
    public void The_span_reaching_the_durable_revision_ends_at_the_durable_time_which_progress_advanced()
    {
        var later = T0.AddMinutes(10);
        var spans = DeltaHistory.Spans([Base(10, 5)], [Segment(11, 20)], new ContinuousState("cap", 20, later, "r", null, later));
        var span = Assert.Single(spans);
        Assert.Equal((T0.AddSeconds(5), later), (span.FromTime, span.ToTime));

        // A durable revision the segments do not reach (a segment lost) does not stretch the span's time.
        var unreached = Assert.Single(DeltaHistory.Spans([Base(10, 5)], [Segment(11, 20)], new ContinuousState("cap", 30, later, "r", null, later)));
        Assert.Equal(T0.AddSeconds(20), unreached.ToTime);
    }
}
