using Containers.Runtime;
using Containers.Spec;

// A container on the host's own /usr, /bin, /lib and /etc (read-only): no image needed. It prints its pid, its
// hostname, every process it can see and its network interfaces: pid 1, its own name, only itself, only loopback.
await using var runtime = await ContainerRuntime.OpenAsync();
var spec = ContainerSpec.For("/bin/sh", "-c", """
    echo "pid:      $$"
    echo "hostname: $(hostname)"
    echo "processes (ps -e):"; ps -e -o pid,comm
    echo "/proc:    $(ls /proc | grep -E '^[0-9]+$' | tr '\n' ' ')"
    echo "network interfaces (/proc/net/dev):"; tail -n +3 /proc/net/dev | cut -d: -f1
    """).WithHostname("quickstart");

var result = await runtime.RunAsync(spec);
Console.Write(result.Stdout);
Console.Error.Write(result.Stderr);
Console.WriteLine($"exit code: {result.ExitCode}");
return result.ExitCode ?? 128 + (result.Signal ?? 0);
