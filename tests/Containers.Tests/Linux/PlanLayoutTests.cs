using System.Buffers.Binary;
using Containers.Linux;

namespace Containers.Tests.Linux;

public sealed class PlanLayoutTests
{
    private readonly Dictionary<string, ulong> _shim = Shim.ReadPlanLayout();

    [Fact]
    public void The_encoder_uses_the_header_and_op_layout_of_plan_h()
    {
        var expected = new Dictionary<string, ulong>
        {
            ["magic"] = PlanLayout.Magic,
            ["version"] = PlanLayout.Version,
            ["header.size"] = PlanLayout.HeaderSize,
            ["header.magic"] = PlanLayout.HeaderMagic,
            ["header.version"] = PlanLayout.HeaderVersion,
            ["header.plan_size"] = PlanLayout.HeaderPlanSize,
            ["header.header_size"] = PlanLayout.HeaderHeaderSize,
            ["header.op_size"] = PlanLayout.HeaderOpSize,
            ["header.op_count"] = PlanLayout.HeaderOpCount,
            ["header.flags"] = PlanLayout.HeaderFlags,
            ["header.cgroup_slot"] = PlanLayout.HeaderCgroupSlot,
            ["header.clone_flags"] = PlanLayout.HeaderCloneFlags,
            ["op.size"] = PlanLayout.OpSize,
            ["op.code"] = PlanLayout.OpCode,
            ["op.flags"] = PlanLayout.OpFlags,
            ["op.stage"] = PlanLayout.OpStage,
            ["op.s"] = PlanLayout.OpStrings,
            ["op.n"] = PlanLayout.OpNumbers,
            ["report.size"] = PlanLayout.ReportSize,
            ["report.error"] = PlanLayout.ReportError,
            ["report.pid"] = PlanLayout.ReportPid,
            ["report.ready"] = PlanLayout.ReportReady,
            ["report.status"] = PlanLayout.ReportStatus,
            ["slot.sync"] = (ulong)PlanFd.Sync.Slot,
            ["slot.init"] = (ulong)PlanFd.Init.Slot,
            ["slot.status"] = (ulong)PlanFd.Status.Slot,
            ["slot.first_import"] = PlanLayout.SlotFirstImport,
            ["result.size"] = PlanLayout.LaunchResultSize,
            ["result.handle"] = PlanLayout.LaunchResultHandle,
            ["flag.fork_like"] = (ulong)PlanFlags.ForkLike,
            ["flag.no_pdeathsig"] = (ulong)PlanFlags.NoParentDeathSignal,
            ["flag.wait_pivot"] = (ulong)PlanFlags.WaitForPivot,
            ["launch.wait_pivot"] = (ulong)Shim.LaunchFlags.WaitForPivot,
            ["f.recursive"] = (ulong)PlanOpFlags.Recursive,
            ["f.source_in_root"] = (ulong)PlanOpFlags.SourceInRoot,
            ["f.parents"] = (ulong)PlanOpFlags.Parents,
            ["f.optional"] = (ulong)PlanOpFlags.Optional,
            ["f.exist_ok"] = (ulong)PlanOpFlags.ExistOk,
            ["f.foreground"] = (ulong)PlanOpFlags.Foreground,
            ["f.announce"] = (ulong)PlanOpFlags.Announce,
            ["f.via_init"] = (ulong)PlanOpFlags.ViaInit,
            ["f.keep"] = (ulong)PlanOpFlags.Keep,
            ["f.init_status"] = (ulong)PlanOpFlags.InitStatus,
            ["f.missing_ok"] = (ulong)PlanOpFlags.MissingOk,
            ["f.set_mode"] = (ulong)PlanOpFlags.SetMode,
            ["f.mask"] = (ulong)PlanOpFlags.Mask,
            ["f.file_or_missing"] = (ulong)PlanOpFlags.FileOrMissing,
        };

        foreach (var (name, value) in expected)
        {
            Assert.True(_shim.TryGetValue(name, out var actual), $"the shim does not report '{name}'");
            Assert.True(value == actual, $"{name}: encoder {value}, plan.h {actual}");
        }

        Assert.Equal(PlanLayout.LaunchResultSize, System.Runtime.InteropServices.Marshal.SizeOf<Shim.LaunchResult>());
    }

    [Fact]
    public void Every_op_code_matches_plan_h_and_none_is_missing()
    {
        var shimOps = _shim.Where(kv => kv.Key.StartsWith("op.", StringComparison.Ordinal) && char.IsUpper(kv.Key[3]))
            .ToDictionary(kv => kv.Key[3..], kv => kv.Value);
        var names = new Dictionary<PlanOpCode, string>
        {
            [PlanOpCode.Mount] = "MOUNT", [PlanOpCode.Bind] = "BIND", [PlanOpCode.MakeDirectory] = "MKDIR",
            [PlanOpCode.MakeNode] = "MKNOD", [PlanOpCode.Symlink] = "SYMLINK", [PlanOpCode.PivotRoot] = "PIVOT_ROOT",
            [PlanOpCode.UnmountDetach] = "UMOUNT_DETACH", [PlanOpCode.MakePrivate] = "MAKE_PRIVATE",
            [PlanOpCode.SetHostname] = "SETHOSTNAME", [PlanOpCode.SetRlimit] = "SETRLIMIT", [PlanOpCode.SetGroups] = "SETGROUPS",
            [PlanOpCode.SetResGid] = "SETRESGID", [PlanOpCode.SetResUid] = "SETRESUID", [PlanOpCode.Umask] = "UMASK",
            [PlanOpCode.Prctl] = "PRCTL", [PlanOpCode.WriteFile] = "WRITE_FILE", [PlanOpCode.Dup2] = "DUP2",
            [PlanOpCode.CloseRange] = "CLOSE_RANGE", [PlanOpCode.SetSid] = "SETSID", [PlanOpCode.SetCtty] = "SETCTTY",
            [PlanOpCode.OpenPty] = "OPEN_PTY", [PlanOpCode.WaitFd] = "WAIT_FD", [PlanOpCode.ChangeDirectory] = "CHDIR",
            [PlanOpCode.SetNs] = "SETNS", [PlanOpCode.Exec] = "EXEC", [PlanOpCode.Root] = "ROOT", [PlanOpCode.Fork] = "FORK",
            [PlanOpCode.MountSetAttr] = "MOUNT_SETATTR", [PlanOpCode.Seccomp] = "SECCOMP", [PlanOpCode.CapSet] = "CAPSET",
            [PlanOpCode.LoopbackUp] = "LOOPBACK_UP", [PlanOpCode.FsMount] = "FSMOUNT", [PlanOpCode.CheckFs] = "CHECK_FS",
            [PlanOpCode.Chown] = "CHOWN", [PlanOpCode.OpenSend] = "OPEN_SEND", [PlanOpCode.Rename] = "RENAME", [PlanOpCode.Unlink] = "UNLINK",
            [PlanOpCode.TmpfsFiles] = "TMPFS_FILES", [PlanOpCode.CgroupJoin] = "CGROUP_JOIN", [PlanOpCode.Unshare] = "UNSHARE",
        };

        Assert.Equal(Enum.GetValues<PlanOpCode>().Length, names.Count);
        Assert.Equal(shimOps.Count, names.Count);
        foreach (var (code, name) in names)
        {
            Assert.True(shimOps.TryGetValue(name, out var value), $"plan.h has no CT_OP_{name}");
            Assert.Equal((ulong)code, value);
        }
    }

    [Fact]
    public void A_plan_lays_out_ops_strings_and_lists_by_offset()
    {
        var plan = new PlanBuilder(CloneFlags.NewPid | CloneFlags.NewUts)
            .SetHostname("box")
            .Exec("/bin/sh", ["sh", "-c", "true"], ["A=1"])
            .Build();
        var bytes = plan.Bytes.Span;

        Assert.Equal(PlanLayout.Magic, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes[PlanLayout.HeaderPlanSize..]));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes[PlanLayout.HeaderOpCount..]));
        Assert.Equal((ulong)(CloneFlags.NewPid | CloneFlags.NewUts), BinaryPrimitives.ReadUInt64LittleEndian(bytes[PlanLayout.HeaderCloneFlags..]));
        Assert.Equal(["sethostname", "exec /bin/sh"], plan.Stages);

        var exec = bytes.Slice(PlanLayout.HeaderSize + PlanLayout.OpSize, PlanLayout.OpSize);
        Assert.Equal((uint)PlanOpCode.Exec, BinaryPrimitives.ReadUInt32LittleEndian(exec));
        Assert.Equal("exec /bin/sh", ReadString(bytes, BinaryPrimitives.ReadUInt32LittleEndian(exec[PlanLayout.OpStage..])));
        Assert.Equal("/bin/sh", ReadString(bytes, BinaryPrimitives.ReadUInt32LittleEndian(exec[PlanLayout.OpStrings..])));
        var argv = (int)BinaryPrimitives.ReadUInt32LittleEndian(exec[(PlanLayout.OpStrings + 4)..]);
        Assert.Equal(0, argv % 4);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes[argv..]));
        Assert.Equal("-c", ReadString(bytes, BinaryPrimitives.ReadUInt32LittleEndian(bytes[(argv + 8)..])));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(exec[(PlanLayout.OpStrings + 12)..])); // no PATH given
    }

    [Fact]
    public void The_first_imported_fd_takes_the_slot_after_the_launchers_own()
    {
        var builder = new PlanBuilder();
        Assert.Equal(PlanLayout.SlotFirstImport, builder.ImportFd().Slot);
        Assert.Equal(PlanLayout.SlotFirstImport + 1, builder.ImportFd().Slot);
    }

    [Fact]
    public void An_exec_through_containers_init_carries_its_role_and_the_signals_to_forward()
    {
        var keeper = new PlanBuilder()
            .ExecThroughInit("sh", ["sh"], [], null, InitRole.Init, [15, 2], foreground: true)
            .Build();
        var exec = keeper.Bytes.Span.Slice(PlanLayout.HeaderSize, PlanLayout.OpSize);

        Assert.True(keeper.UsesInitBinary);
        Assert.True(keeper.KeepsProgram);
        Assert.Equal((uint)(PlanOpFlags.ViaInit | PlanOpFlags.Keep | PlanOpFlags.InitStatus | PlanOpFlags.Foreground),
            BinaryPrimitives.ReadUInt32LittleEndian(exec[PlanLayout.OpFlags..]));
        Assert.Equal((1UL << 14) | (1UL << 1), BinaryPrimitives.ReadUInt64LittleEndian(exec[PlanLayout.OpNumbers..]));

        var inPlace = new PlanBuilder().ExecThroughInit("sh", ["sh"], [], null, InitRole.ExecOnly).Build();
        Assert.True(inPlace.UsesInitBinary);
        Assert.False(inPlace.KeepsProgram);
        Assert.Throws<ArgumentException>(() => new PlanBuilder().ExecThroughInit("sh", ["sh"], [], null, InitRole.ExecOnly, [15]));
    }

    [Fact]
    public void Strings_with_NUL_are_rejected_before_anything_runs()
    {
        var error = Assert.Throws<ArgumentException>(() => new PlanBuilder().SetHostname("a\0b"));
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
    }

    private static string ReadString(ReadOnlySpan<byte> plan, uint offset)
    {
        var rest = plan[(int)offset..];
        return System.Text.Encoding.UTF8.GetString(rest[..rest.IndexOf((byte)0)]);
    }
}
