using System.Collections.Immutable;
using System.Text.Json;

namespace Containers.Spec;

/// <summary>
/// The spec's writer for the state directory's <c>config.json</c>: the generator's serialization code, except for the
/// few types whose generated code asks the serializer for a <see cref="System.Text.Json.Serialization.Metadata.JsonTypeInfo"/>
/// (the namespace type's converter; the nullable numbers of the seccomp profile every container has; the sections
/// kept as <see cref="JsonElement"/>), written here by hand in the generator's order and form. Creating one such
/// metadata object starts the reflection stack of a native binary, which was the largest single cost left in writing
/// a container's spec. A test holds the output to the serializer's byte for byte, for a spec with every field set.
/// </summary>
internal sealed partial class SpecJsonContext
{
    private void WriteSpec(Utf8JsonWriter writer, ContainerSpec spec)
    {
        writer.WriteStartObject();
        if (spec.OciVersion is { } version)
        {
            writer.WriteString(PropName_ociVersion, version);
        }

        if (spec.Process is { } process)
        {
            writer.WritePropertyName(PropName_process);
            ProcessSpecSerializeHandler(writer, process);
        }

        if (spec.Root is { } root)
        {
            writer.WritePropertyName(PropName_root);
            RootSpecSerializeHandler(writer, root);
        }

        if (spec.Hostname is { } hostname)
        {
            writer.WriteString(PropName_hostname, hostname);
        }

        if (spec.Domainname is { } domainname)
        {
            writer.WriteString(PropName_domainname, domainname);
        }

        writer.WritePropertyName(PropName_mounts);
        ImmutableArrayMountSpecSerializeHandler(writer, spec.Mounts);
        if (spec.Linux is { } linux)
        {
            writer.WritePropertyName(PropName_linux);
            WriteLinux(writer, linux);
        }

        if (spec.Hooks is { } hooks)
        {
            writer.WritePropertyName(PropName_hooks);
            HooksSerializeHandler(writer, hooks);
        }

        WriteElement(writer, PropName_solaris, spec.Solaris);
        WriteElement(writer, PropName_windows, spec.Windows);
        WriteElement(writer, PropName_vm, spec.Vm);
        WriteElement(writer, PropName_zos, spec.Zos);
        WriteElement(writer, PropName_freebsd, spec.FreeBsd);
        if (spec.Annotations is { } annotations)
        {
            writer.WritePropertyName(PropName_annotations);
            ImmutableSortedDictionaryStringStringSerializeHandler(writer, annotations);
        }

        writer.WriteEndObject();
    }

    private void WriteLinux(Utf8JsonWriter writer, LinuxSpec linux)
    {
        writer.WriteStartObject();
        writer.WritePropertyName(PropName_namespaces);
        WriteNamespaces(writer, linux.Namespaces);
        writer.WritePropertyName(PropName_uidMappings);
        ImmutableArrayLinuxIdMappingSerializeHandler(writer, linux.UidMappings);
        writer.WritePropertyName(PropName_gidMappings);
        ImmutableArrayLinuxIdMappingSerializeHandler(writer, linux.GidMappings);
        writer.WritePropertyName(PropName_maskedPaths);
        ImmutableArrayStringSerializeHandler(writer, linux.MaskedPaths);
        writer.WritePropertyName(PropName_readonlyPaths);
        ImmutableArrayStringSerializeHandler(writer, linux.ReadonlyPaths);
        if (linux.Sysctl is { } sysctl)
        {
            writer.WritePropertyName(PropName_sysctl);
            ImmutableSortedDictionaryStringStringSerializeHandler(writer, sysctl);
        }

        if (linux.Resources is { } resources)
        {
            writer.WritePropertyName(PropName_resources);
            LinuxResourcesSerializeHandler(writer, resources);
        }

        if (linux.CgroupsPath is { } cgroupsPath)
        {
            writer.WriteString(PropName_cgroupsPath, cgroupsPath);
        }

        writer.WritePropertyName(PropName_devices);
        ImmutableArrayLinuxDeviceSerializeHandler(writer, linux.Devices);
        if (linux.NetDevices is { } netDevices)
        {
            writer.WritePropertyName(PropName_netDevices);
            ImmutableSortedDictionaryStringLinuxNetDeviceSerializeHandler(writer, netDevices);
        }

        if (linux.Seccomp is { } seccomp)
        {
            writer.WritePropertyName(PropName_seccomp);
            WriteSeccomp(writer, seccomp);
        }

        if (linux.RootfsPropagation is { } propagation)
        {
            writer.WriteString(PropName_rootfsPropagation, propagation);
        }

        if (linux.MountLabel is { } mountLabel)
        {
            writer.WriteString(PropName_mountLabel, mountLabel);
        }

        if (linux.IntelRdt is { } intelRdt)
        {
            writer.WritePropertyName(PropName_intelRdt);
            LinuxIntelRdtSerializeHandler(writer, intelRdt);
        }

        if (linux.MemoryPolicy is { } memoryPolicy)
        {
            writer.WritePropertyName(PropName_memoryPolicy);
            LinuxMemoryPolicySerializeHandler(writer, memoryPolicy);
        }

        if (linux.Personality is { } personality)
        {
            writer.WritePropertyName(PropName_personality);
            LinuxPersonalitySerializeHandler(writer, personality);
        }

        if (linux.TimeOffsets is { } timeOffsets)
        {
            writer.WritePropertyName(PropName_timeOffsets);
            ImmutableSortedDictionaryStringLinuxTimeOffsetSerializeHandler(writer, timeOffsets);
        }

        writer.WriteEndObject();
    }

    private static void WriteNamespaces(Utf8JsonWriter writer, ImmutableArray<LinuxNamespace> namespaces)
    {
        writer.WriteStartArray();
        foreach (var entry in namespaces)
        {
            writer.WriteStartObject();
            // As NamespaceTypeJsonConverter writes it.
            writer.WriteString(PropName_type, entry.Type.ToOciName());
            if (entry.Path is { } path)
            {
                writer.WriteString(PropName_path, path);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private void WriteSeccomp(Utf8JsonWriter writer, LinuxSeccomp seccomp)
    {
        writer.WriteStartObject();
        if (seccomp.DefaultAction is { } defaultAction)
        {
            writer.WriteString(PropName_defaultAction, defaultAction);
        }

        if (seccomp.DefaultErrnoRet is { } defaultErrno)
        {
            writer.WriteNumber(PropName_defaultErrnoRet, defaultErrno);
        }

        writer.WritePropertyName(PropName_architectures);
        ImmutableArrayStringSerializeHandler(writer, seccomp.Architectures);
        writer.WritePropertyName(PropName_flags);
        ImmutableArrayStringSerializeHandler(writer, seccomp.Flags);
        if (seccomp.ListenerPath is { } listenerPath)
        {
            writer.WriteString(PropName_listenerPath, listenerPath);
        }

        if (seccomp.ListenerMetadata is { } listenerMetadata)
        {
            writer.WriteString(PropName_listenerMetadata, listenerMetadata);
        }

        writer.WritePropertyName(PropName_syscalls);
        writer.WriteStartArray();
        foreach (var syscall in seccomp.Syscalls)
        {
            WriteSyscall(writer, syscall);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private void WriteSyscall(Utf8JsonWriter writer, LinuxSyscall syscall)
    {
        writer.WriteStartObject();
        writer.WritePropertyName(PropName_names);
        ImmutableArrayStringSerializeHandler(writer, syscall.Names);
        if (syscall.Action is { } action)
        {
            writer.WriteString(PropName_action, action);
        }

        if (syscall.ErrnoRet is { } errno)
        {
            writer.WriteNumber(PropName_errnoRet, errno);
        }

        writer.WritePropertyName(PropName_args);
        writer.WriteStartArray();
        foreach (var arg in syscall.Args)
        {
            writer.WriteStartObject();
            writer.WriteNumber(PropName_index, arg.Index);
            writer.WriteNumber(PropName_value, arg.Value);
            if (arg.ValueTwo is { } valueTwo)
            {
                writer.WriteNumber(PropName_valueTwo, valueTwo);
            }

            if (arg.Op is { } op)
            {
                writer.WriteString(PropName_op, op);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteElement(Utf8JsonWriter writer, JsonEncodedText name, JsonElement? element)
    {
        if (element is { } value)
        {
            writer.WritePropertyName(name);
            value.WriteTo(writer);
        }
    }
}
