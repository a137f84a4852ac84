// Runs an untrusted shell snippet in the sandbox preset and prints what became of it.
//   dotnet run --project samples/Sandbox -- 'echo hi from $(id -u); cat /etc/shadow; touch /usr/x; sleep 60'
using Containers.Runtime;
using Containers.Security;

var snippet = args.Length > 0 ? string.Join(' ', args) : "id; cat /proc/self/status | grep ^Cap; touch /usr/x; echo done";
var sandbox = SandboxProfile.For(new SandboxOptions { Timeout = TimeSpan.FromSeconds(5), MaxOutputBytes = 64 << 10 }, "/bin/sh", "-c", snippet);

await using var runtime = await ContainerRuntime.OpenAsync();
var result = await runtime.RunAsync(sandbox.Spec, sandbox.RunOptions);

Console.WriteLine($"--- stdout{(result.StdoutTruncated ? " (truncated)" : "")}\n{result.Stdout}");
Console.WriteLine($"--- stderr{(result.StderrTruncated ? " (truncated)" : "")}\n{result.Stderr}");
Console.WriteLine($"exit code: {result.ExitCode?.ToString() ?? "-"}, signal: {result.Signal?.ToString() ?? "-"}, timed out: {result.TimedOut}");
Console.WriteLine($"limits not applied by this runtime yet: {string.Join(", ", sandbox.LimitsNotApplied)}");
return result.ExitCode ?? 128 + (result.Signal ?? 0);
