namespace Containers.Images.Model;

/// <summary>A lease file (<c>leases/NAME.json</c>): the image a container uses, and the container's own directory.</summary>
/// <param name="Image">The image's manifest digest.</param>
/// <param name="Holder">The container's own directory; the lease ends when it is gone.</param>
internal sealed record ImageLease(Digest Image, string Holder);
