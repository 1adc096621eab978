using System.Diagnostics;

namespace Console.Web.Tests.Fixtures;

/// <summary>Runs a reference tool (zstd, age) to its end: stdout as bytes, a non-zero exit as an exception with stderr.</summary>
public static class Tool
{
    public static async Task<byte[]> RunAsync(string file, IEnumerable<string> arguments, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output, deadline.Token);
            var errors = process.StandardError.ReadToEndAsync(deadline.Token);
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin, deadline.Token);
                process.StandardInput.Close();
            }

            await Task.WhenAll(copy, errors);
            await process.WaitForExitAsync(deadline.Token);
            return process.ExitCode == 0
                ? output.ToArray()
                : throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} exited {process.ExitCode}: {await errors}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
