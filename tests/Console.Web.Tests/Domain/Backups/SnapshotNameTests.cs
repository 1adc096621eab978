using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

public sealed class SnapshotNameTests
{
    [Fact]
    public void Names_carry_the_cluster_and_a_utc_timestamp_and_parse_back()
    {
        var takenAt = new DateTimeOffset(2026, 11, 21, 7, 5, 9, 123, TimeSpan.FromHours(2));

        var name = SnapshotName.For(ClusterName.Parse("eu-prod"), takenAt);

        Assert.Equal("eu-prod_20261121T050509.123Z.db", name.FileName);
        Assert.Equal("eu-prod_20261121T050509.123Z.db.json", name.ManifestFileName);
        Assert.Equal("eu-prod_20261121T050509.123Z.db.part", name.PartialFileName);
        Assert.True(SnapshotName.TryParse(name.FileName, out var parsed));
        Assert.Equal(name, parsed);
        Assert.Equal(takenAt, parsed.TakenAt);
    }

    [Fact]
    public void A_lexical_sort_is_chronological()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var names = Enumerable.Range(0, 50)
            .Select(i => SnapshotName.For(ClusterName.Parse("prod"), start.AddMinutes(i * 37.3)))
            .ToList();

        Assert.Equal(names.Select(n => n.FileName), names.Select(n => n.FileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(SnapshotCodec.Zstd, "prod_20261121T050509.123Z.db.zst")]
    [InlineData(SnapshotCodec.Age, "prod_20261121T050509.123Z.db.age")]
    [InlineData(SnapshotCodec.Zstd | SnapshotCodec.Age, "prod_20261121T050509.123Z.db.zst.age")]
    public void A_sealed_copy_says_its_codec_in_its_name_and_parses_back_with_it(SnapshotCodec codec, string fileName)
    {
        var name = SnapshotName.For(ClusterName.Parse("prod"), new DateTimeOffset(2026, 11, 21, 5, 5, 9, 123, TimeSpan.Zero), codec);

        Assert.Equal(fileName, name.FileName);
        Assert.Equal("prod_20261121T050509.123Z.db", name.RawFileName);
        Assert.Equal(fileName + ".json", name.ManifestFileName);
        Assert.True(SnapshotName.TryParse(fileName, out var parsed));
        Assert.Equal(name, parsed);
        Assert.True(SnapshotName.IsPartial(fileName + ".part"));
    }

    [Theory]
    [InlineData("prod_20261121T050509.123Z.db.part")]
    [InlineData("prod_20261121T050509.123Z.db.age.zst")]
    [InlineData("prod_20261121T050509.123Z.db.gz")]
    [InlineData("prod_20261121T050509.123Z.db.zst.json")]
    [InlineData("prod_20261121T050509Z.db")]
    [InlineData("prod-20261121T050509.123Z.db")]
    [InlineData("Prod_20261121T050509.123Z.db")]
    [InlineData("prod_20261399T050509.123Z.db")]
    [InlineData("notes.txt")]
    [InlineData("")]
    public void Files_that_are_not_ours_do_not_parse(string fileName) => Assert.False(SnapshotName.TryParse(fileName, out _));

    [Theory]
    [InlineData("prod_20261121T050509.123Z.db.part", true)]
    [InlineData("prod_20261121T050509.123Z.db", false)]
    [InlineData("download.part", false)]
    public void Only_our_partial_files_count_as_leftovers(string fileName, bool ours) => Assert.Equal(ours, SnapshotName.IsPartial(fileName));
}
