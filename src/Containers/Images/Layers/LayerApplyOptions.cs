namespace Containers.Images.Layers;

/// <summary>How <see cref="LayerApplier"/> writes entries.</summary>
/// <param name="Rootless">Owners go to <c>user.rootlesscontainers</c>, devices become empty files.</param>
internal sealed record LayerApplyOptions(bool Rootless)
{
    /// <summary>The xattr overlayfs reads to mark a directory opaque in this store.</summary>
    public string OpaqueXattr => Rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
}
