namespace Containers.IntegrationTests.Support;

/// <summary>
/// What a state directory holds besides its events journal (<c>events.jsonl</c> and its rotated file, which every
/// runtime on it appends to): the containers' entries, which a failed or deleted container must not leave.
/// </summary>
internal static class StateEntries
{
    public static string[] Of(string stateDirectory) =>
        [.. Directory.EnumerateFileSystemEntries(stateDirectory).Where(e => !Path.GetFileName(e).StartsWith("events.jsonl", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
}
