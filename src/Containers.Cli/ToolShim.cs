using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Containers.Runtime;

namespace Containers.Cli;

/// <summary>
/// Where the .NET tool finds the library's native shim. The tool package is one set of assemblies for every
/// machine, so it carries <c>libcontainers-shim.so</c> for each architecture under <c>runtimes/RID/native/</c>; the
/// host reads native assets of a project reference only from the application's own folder, so the one of the
/// machine's architecture is loaded from there by name. The native binary has the shim linked in and never asks.
/// </summary>
internal static class ToolShim
{
    private const string Library = "libcontainers-shim";

    /// <summary>Registers the resolver for the library's imports (once, before the first command runs).</summary>
    public static void Register()
    {
        // False in the native binary (constant-folded there, so this code is not even compiled into it).
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            return;
        }

        var rid = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "linux-x64",
            Architecture.Arm64 => "linux-arm64",
            _ => null,
        };
        if (rid is null)
        {
            return;
        }

        var path = Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", Library + ".so");
        if (File.Exists(path))
        {
            NativeLibrary.SetDllImportResolver(typeof(ContainerRuntime).Assembly, (name, _, _) =>
                name == Library ? NativeLibrary.Load(path) : IntPtr.Zero);
        }
    }
}
