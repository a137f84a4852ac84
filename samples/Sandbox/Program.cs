// Runs an untrusted shell snippet in the sandbox preset and prints what became of it.
//   dotnet run --project samples/Sandbox -- 'echo hi from $(id -u); cat /etc/shadow; touch /usr/x; sleep 60'
// As root it runs with the preset's memory, task and CPU limits (256 MiB, 128 tasks, one CPU); a host that cannot
// apply them (cgroup v1 for a user that is not root) refuses it, and --no-limits runs it without them on purpose.
using Containers.Runtime;
using Containers.Security;

var noLimits = args.Length > 0 && args[0] == "--no-limits";
args = noLimits ? args[1..] : args;
var snippet = args.Length > 0 ? string.Join(' ', args) : "id; cat /proc/self/status | grep ^Cap; touch /usr/x; echo done";
var options = new SandboxOptions { Timeout = TimeSpan.FromSeconds(5), MaxOutputBytes = 64 << 10 };
var sandbox = SandboxProfile.For(noLimits ? options.WithoutLimits() : options, "/bin/sh", "-c", snippet);

await using var runtime = await ContainerRuntime.OpenAsync();
var result = await runtime.RunAsync(sandbox.Spec, sandbox.RunOptions);

Console.WriteLine($"--- stdout{(result.StdoutTruncated ? " (truncated)" : "")}\n{result.Stdout}");
Console.WriteLine($"--- stderr{(result.StderrTruncated ? " (truncated)" : "")}\n{result.Stderr}");
Console.WriteLine($"exit code: {result.ExitCode?.ToString() ?? "-"}, signal: {result.Signal?.ToString() ?? "-"}, out of memory: {result.OomKilled}, timed out: {result.TimedOut}");
return result.ExitCode ?? 128 + (result.Signal ?? 0);
