using Containers.Linux;

namespace Containers.Images.Layers;

/// <summary>How <see cref="LayerApplier"/> writes entries.</summary>
/// <param name="Rootless">Owners go to <c>user.rootlesscontainers</c>, devices become empty files.</param>
/// <param name="SubordinateIds">
/// Rootless only: the caller's subordinate ranges. Owners they hold are left in <see cref="LayerApplier.Owners"/> to
/// be given for real (<see cref="ForeignOwners.GiveAsync"/>) instead of being recorded in the xattr.
/// </param>
internal sealed record LayerApplyOptions(bool Rootless, SubordinateIds? SubordinateIds = null)
{
    /// <summary>The xattr overlayfs reads to mark a directory opaque in this store.</summary>
    public string OpaqueXattr => Rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
}
