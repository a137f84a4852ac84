namespace Containers.Spec;

/// <summary>One rule of the devices cgroup's allowlist (<c>linux.resources.devices[]</c>), applied in order.</summary>
public sealed record LinuxDeviceCgroup
{
    /// <summary>Whether the rule allows (true) or denies the access (<c>allow</c>).</summary>
    public bool Allow { get; init; }

    /// <summary>The device type (<c>type</c>): <c>a</c> (all), <c>c</c> or <c>b</c>; null means all.</summary>
    public string? Type { get; init; }

    /// <summary>The major number (<c>major</c>); null means all.</summary>
    public long? Major { get; init; }

    /// <summary>The minor number (<c>minor</c>); null means all.</summary>
    public long? Minor { get; init; }

    /// <summary>The access (<c>access</c>): some of <c>r</c>, <c>w</c>, <c>m</c>.</summary>
    public string? Access { get; init; }
}
