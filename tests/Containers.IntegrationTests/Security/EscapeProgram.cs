using System.Diagnostics;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>
/// The escape suite's attack program (<c>escape.c</c>), compiled once per test run with <c>gcc -static</c> into a
/// directory every user can read, and a marker file the chroot attack looks for to tell the container's root
/// from the host's.
/// </summary>
internal static class EscapeProgram
{
    /// <summary>Where the program's directory is bound in a container (read-only).</summary>
    public const string Directory = "/escape";

    /// <summary>The program's path in a container.</summary>
    public const string Path = Directory + "/escape";

    private static readonly Lazy<string> Built = new(Build);

    /// <summary>The host directory holding <c>escape</c> (and a setuid-root copy, <c>escape-suid</c>, when built as root).</summary>
    public static string HostDirectory => Built.Value;

    /// <summary>A default container that runs the program with <paramref name="attacks"/>, the program and marker bound in.</summary>
    public static ContainerSpec Spec(params string[] attacks) => WithProgram(ContainerSpec.For([Path, .. attacks]));

    /// <summary>Binds the program's directory and the chroot attack's marker into <paramref name="spec"/>.</summary>
    public static ContainerSpec WithProgram(ContainerSpec spec) =>
        spec.WithMount(new MountSpec { Destination = Directory, Type = "bind", Source = HostDirectory, Options = ["rbind", "ro"] })
            .WithBindMount(System.IO.Path.Combine(HostDirectory, "marker"), "/escape-marker", readOnly: true);

    /// <summary>The outcome of <paramref name="attack"/> run on the host itself, outside any container.</summary>
    public static string RunOnHost(string attack)
    {
        var program = Process.Start(new ProcessStartInfo(System.IO.Path.Combine(HostDirectory, "escape"), new[] { attack }) { RedirectStandardOutput = true })!;
        var output = program.StandardOutput.ReadToEnd();
        program.WaitForExit();
        return Outcomes(output).GetValueOrDefault(attack) ?? "";
    }

    /// <summary>Reads the program's "attack outcome" lines.</summary>
    public static Dictionary<string, string> Outcomes(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);

    /// <summary>Asserts each attack's outcome, naming every one that differs (not only the first).</summary>
    public static void AssertOutcomes(IReadOnlyDictionary<string, string> expected, ContainerResult result)
    {
        Assert.True(result.ExitCode == 0, $"escape exited {result.ExitCode}: {result.Stderr}");
        var actual = Outcomes(result.Stdout);
        var wrong = expected.Where(e => actual.GetValueOrDefault(e.Key) != e.Value)
            .Select(e => $"{e.Key}: expected {e.Value}, got {actual.GetValueOrDefault(e.Key) ?? "(nothing)"}").ToList();
        Assert.True(wrong.Count == 0, string.Join("; ", wrong) + "\nall outcomes:\n" + result.Stdout);
    }

    private static string Build()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers need Linux");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("containers-escape-").FullName;
        // Built once per test process and bound into many containers: it goes when the process does.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.Directory.Delete(directory, recursive: true);
        File.SetUnixFileMode(directory, (UnixFileMode)0x1ed);
        var output = System.IO.Path.Combine(directory, "escape");
        var gcc = Process.Start(new ProcessStartInfo("gcc", ["-static", "-O1", "-o", output, System.IO.Path.Combine(AppContext.BaseDirectory, "Security", "escape.c")])
        {
            RedirectStandardError = true,
        })!;
        var errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.True(gcc.ExitCode == 0, $"gcc -static escape.c failed (install gcc and libc6-dev): {errors}");
        File.SetUnixFileMode(output, (UnixFileMode)0x1ed);
        File.WriteAllText(System.IO.Path.Combine(directory, "marker"), "the container's root\n");
        File.SetUnixFileMode(System.IO.Path.Combine(directory, "marker"), (UnixFileMode)0x1a4);
        if (Environment.IsPrivilegedProcess)
        {
            // A setuid-root copy: under no_new_privs, running it as another user must not make it root.
            var suid = System.IO.Path.Combine(directory, "escape-suid");
            File.Copy(output, suid);
            File.SetUnixFileMode(suid, (UnixFileMode)0x9ed); // 04755
        }

        return directory;
    }
}
