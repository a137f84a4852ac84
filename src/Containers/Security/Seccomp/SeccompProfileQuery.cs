using Containers.Spec;

namespace Containers.Security.Seccomp;

/// <summary>Questions about what a profile does with a system call, answered from the profile itself (not its filter).</summary>
internal static class SeccompProfileQuery
{
    /// <summary>
    /// Whether <paramref name="profile"/> lets <paramref name="name"/> run for some arguments: its rule without
    /// conditions allows it, or a rule with conditions does, or no rule names it and the default action allows.
    /// </summary>
    public static bool MayAllow(LinuxSeccomp profile, string name)
    {
        var rules = profile.Syscalls.Where(s => s.Names.Contains(name)).ToList();
        if (rules.Any(r => r.Args.Length > 0 && Runs(r.Action, r.ErrnoRet)))
        {
            return true;
        }

        var plain = rules.FirstOrDefault(r => r.Args.Length == 0);
        return plain is not null ? Runs(plain.Action, plain.ErrnoRet) : Runs(profile.DefaultAction, profile.DefaultErrnoRet);
    }

    /// <summary>Whether <paramref name="profile"/> may send <paramref name="name"/> to a notify listener.</summary>
    public static bool MayNotify(LinuxSeccomp profile, string name)
    {
        var rules = profile.Syscalls.Where(s => s.Names.Contains(name)).ToList();
        return rules.Any(r => r.Action == "SCMP_ACT_NOTIFY")
            || (!rules.Any(r => r.Args.Length == 0) && profile.DefaultAction == "SCMP_ACT_NOTIFY");
    }

    private static bool Runs(string action, uint? errnoRet) => SeccompAction.Runs(SeccompAction.FromOci(action, errnoRet));
}
