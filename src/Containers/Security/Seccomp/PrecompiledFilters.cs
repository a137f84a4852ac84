using Containers.Spec;

namespace Containers.Security.Seccomp;

/// <summary>
/// The programs of the ready-made profiles (<see cref="SeccompProfiles.Default"/>, which every container gets unless
/// told otherwise, and <see cref="SeccompProfiles.Sandbox"/>) for x86_64 and aarch64, compiled when this runtime was
/// built: compiling the default profile took a tenth of the CPU of a short <c>containers run</c>. The programs are
/// in <c>PrecompiledFilters.g.cs</c>, written by <c>build/gen-seccomp-filters.sh</c> with <see cref="SeccompCompiler"/>;
/// a unit test fails when the compiler's output for a profile and architecture here differs from it. A profile
/// that is not one of these objects itself (a changed copy, one read from JSON) is compiled as before.
/// </summary>
internal static partial class PrecompiledFilters
{
    /// <summary>The filter built for <paramref name="profile"/> on <paramref name="native"/>, or null when it was not built in.</summary>
    public static SeccompFilter? For(LinuxSeccomp profile, SeccompArchitecture native)
    {
        if (ReferenceEquals(profile, SeccompProfiles.Default))
        {
            return Filter(Default(native), DefaultFlags);
        }

        return SeccompProfiles.IsSandbox(profile) ? Filter(Sandbox(native), SandboxFlags) : null;
    }

    private static SeccompFilter? Filter(ReadOnlySpan<byte> program, uint flags) =>
        program.IsEmpty ? null : SeccompFilter.FromProgram(program, flags);

    private static ReadOnlySpan<byte> Default(SeccompArchitecture native) => native switch
    {
        SeccompArchitecture.X86_64 => DefaultX86_64,
        SeccompArchitecture.Aarch64 => DefaultAarch64,
        _ => default,
    };

    private static ReadOnlySpan<byte> Sandbox(SeccompArchitecture native) => native switch
    {
        SeccompArchitecture.X86_64 => SandboxX86_64,
        SeccompArchitecture.Aarch64 => SandboxAarch64,
        _ => default,
    };
}
