using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary>
/// The exports of <c>libcontainers-shim.so</c> (src/Containers.Native). Every function returns a negative errno
/// on failure instead of touching the caller's <c>errno</c>.
/// </summary>
internal static unsafe partial class Shim
{
    private const string Library = "libcontainers-shim";

    /// <summary>Mirror of <c>struct ct_launch_result</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LaunchResult
    {
        public int Pid;
        public int PidFd;
        public int ErrorFd;
        public int FailedOp;
        public ulong Handle;
    }

    [LibraryImport(Library, EntryPoint = "ct_launch")]
    public static partial int Launch(byte* plan, uint size, int* fds, uint fdCount, LaunchFlags flags, LaunchResult* result);

    /// <summary>ct_launch's launch_flags (<c>CT_LAUNCH_*</c> in plan.h).</summary>
    [Flags]
    public enum LaunchFlags : uint
    {
        None = 0,

        /// <summary>Return once the child of a <see cref="PlanFlags.WaitForPivot"/> plan pivoted (or exec'd or exited).</summary>
        WaitForPivot = 0x1,
    }

    [LibraryImport(Library, EntryPoint = "ct_launch_free")]
    public static partial void LaunchFree(ulong handle);

    [LibraryImport(Library, EntryPoint = "ct_waitid_pidfd")]
    public static partial int WaitIdPidFd(int pidfd, int options, out int pid, out int code, out int status);

    [LibraryImport(Library, EntryPoint = "ct_pidfd_send_signal")]
    public static partial int PidFdSendSignal(int pidfd, int signal);

    [LibraryImport(Library, EntryPoint = "ct_pidfd_open")]
    public static partial int PidFdOpen(int pid);

    [LibraryImport(Library, EntryPoint = "ct_pidfd_mount_namespace")]
    public static partial int PidFdMountNamespace(int pidfd);

    [LibraryImport(Library, EntryPoint = "ct_recv_fd")]
    public static partial int ReceiveFd(int socket);

    [LibraryImport(Library, EntryPoint = "ct_epoll_ctl")]
    public static partial int EpollCtl(int epfd, int op, int fd, uint events, ulong data);

    [LibraryImport(Library, EntryPoint = "ct_epoll_wait")]
    public static partial int EpollWait(int epfd, ulong* data, int max, int timeout);

    [LibraryImport(Library, EntryPoint = "ct_init_binary")]
    public static partial int InitBinary();

    [LibraryImport(Library, EntryPoint = "ct_signal_disposition")]
    public static partial int SignalDisposition(int signal, out ulong handler, out ulong flags);

    [LibraryImport(Library, EntryPoint = "ct_plan_layout")]
    public static partial int PlanLayout(byte* buffer, int length);

    /// <summary>The shim's view of the plan layout as name/value pairs (see <c>ct_plan_layout</c>).</summary>
    public static Dictionary<string, ulong> ReadPlanLayout()
    {
        var buffer = new byte[16384];
        int n;
        fixed (byte* p = buffer)
        {
            n = PlanLayout(p, buffer.Length);
        }

        if (n < 0)
        {
            throw new InvalidOperationException($"ct_plan_layout failed: {Errno.Name(-n)}");
        }

        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in System.Text.Encoding.ASCII.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            result[line[..eq]] = ulong.Parse(line[(eq + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }
}
