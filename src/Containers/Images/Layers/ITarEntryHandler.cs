namespace Containers.Images.Layers;

/// <summary>Receives the entries of a tar stream as <see cref="TarStreamParser"/> decodes them.</summary>
internal interface ITarEntryHandler
{
    /// <summary>An entry's header; for a regular file its data follows through <see cref="Data"/>.</summary>
    void BeginEntry(TarEntry entry);

    /// <summary>The next piece of the current regular file's content.</summary>
    void Data(ReadOnlySpan<byte> data);

    /// <summary>The current entry is complete (all its data was delivered).</summary>
    void EndEntry();
}
