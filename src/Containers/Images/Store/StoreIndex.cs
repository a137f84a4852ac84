using Containers.Images.Model;

namespace Containers.Images.Store;

/// <summary>The store's <c>index.json</c>: the entries that could be read, and the raw JSON of those that could not.</summary>
internal sealed record StoreIndex(ImageIndex Index, IReadOnlyList<UnreadableEntry> Unreadable)
{
    public IReadOnlyList<Descriptor> Manifests => Index.Manifests;

    /// <summary>The same index with other readable entries; unreadable ones stay.</summary>
    public StoreIndex WithManifests(IReadOnlyList<Descriptor> manifests) => this with { Index = Index with { Manifests = manifests } };
}

/// <summary>An index entry this version cannot read, kept verbatim, with why it was refused.</summary>
internal sealed record UnreadableEntry(string Json, string Reason);
