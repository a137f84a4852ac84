using System.Runtime.InteropServices;
using System.Text;

namespace Containers.IntegrationTests.Images.Layers;

/// <summary>Reads and writes xattrs of test fixtures (no getfattr/setfattr on the test machine).</summary>
internal static class Xattrs
{
    public static void Set(string path, string name, byte[] value)
    {
        Assert.True(lsetxattr(path, name, value, (nuint)value.Length, 0) == 0, $"lsetxattr {name} on {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    public static byte[]? Get(string path, string name)
    {
        byte[] buffer = new byte[4096];
        nint length = lgetxattr(path, name, buffer, (nuint)buffer.Length);
        return length < 0 ? null : buffer[..(int)length];
    }

    public static string? GetString(string path, string name) => Get(path, name) is byte[] v ? Encoding.UTF8.GetString(v) : null;

    [DllImport("libc", SetLastError = true)]
    private static extern int lsetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint lgetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size);
}
