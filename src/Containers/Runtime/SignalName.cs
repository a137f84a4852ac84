using System.Globalization;

namespace Containers.Runtime;

/// <summary>Signal names as Docker and the OCI image config write them (<c>SIGTERM</c>, <c>TERM</c>, <c>15</c>, <c>SIGRTMIN+3</c>) and their Linux numbers.</summary>
internal static class SignalName
{
    private const int RtMin = 34;
    private const int RtMax = 64;

    private static readonly string[] Names =
        ["", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
         "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"];

    /// <summary>The number of <paramref name="signal"/>, or null when it names no Linux signal.</summary>
    public static int? TryParse(string signal)
    {
        if (int.TryParse(signal, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number is > 0 and <= RtMax ? number : null;
        }

        var bare = signal.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? signal[3..] : signal;
        var index = Array.FindIndex(Names, n => n.Length > 0 && string.Equals(n, bare, StringComparison.OrdinalIgnoreCase));
        if (index > 0)
        {
            return index;
        }

        return Realtime(bare, "RTMIN", RtMin, +1) ?? Realtime(bare, "RTMAX", RtMax, -1);
    }

    private static int? Realtime(string bare, string name, int basis, int direction)
    {
        if (!bare.StartsWith(name, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = bare[name.Length..];
        if (rest.Length == 0)
        {
            return basis;
        }

        var sign = direction > 0 ? '+' : '-';
        return rest[0] == sign && int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset) && offset <= RtMax - RtMin
            ? basis + (direction * offset)
            : null;
    }
}
