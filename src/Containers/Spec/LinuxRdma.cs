namespace Containers.Spec;

/// <summary>RDMA limits for one device (a value of <c>linux.resources.rdma</c>, keyed by device name).</summary>
public sealed record LinuxRdma
{
    /// <summary>The most HCA handles the container may open (<c>hcaHandles</c>).</summary>
    public uint? HcaHandles { get; init; }

    /// <summary>The most HCA objects the container may create (<c>hcaObjects</c>).</summary>
    public uint? HcaObjects { get; init; }
}
