using System.Globalization;

namespace Console.Bench;

/// <summary>CPU seconds (user + system) from /proc/PID/stat: a process's own, and that of its reaped children.</summary>
internal readonly record struct CpuTime(double Own, double Children)
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on

    public static CpuTime Of(string pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // The command name (field 2) may hold spaces; fields after its closing parenthesis start at field 3.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture) / TicksPerSecond;
        return new CpuTime(Field(14) + Field(15), Field(16) + Field(17));
    }

    public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.Own - b.Own, a.Children - b.Children);
}
