using System.Globalization;
using Containers.Distribution;

namespace Containers.Cli.Commands;

/// <summary>
/// Shows <see cref="TransferProgress"/> of a pull or push through <see cref="ProgressDisplay"/>: a bar per blob and
/// phase with the transfer speed, or plain lines with each blob's size and a total at the end; nothing when quiet.
/// </summary>
internal static class TransferProgressDisplay
{
    public static async Task<T> RunAsync<T>(bool quiet, Func<IProgress<TransferProgress>?, Task<T>> work)
    {
        if (quiet)
        {
            return await work(null).ConfigureAwait(false);
        }

        long transferred = 0;
        bool reported = false;
        var result = await ProgressDisplay.RunAsync<TransferProgress, T>(
            work,
            p =>
            {
                transferred = p.TransferredBytes;
                reported = true;
                return new ProgressStep(Describe(p.Phase), p.Item, p.Completed, p.Total, $"({Size(p.Total)})");
            },
            transferSpeed: true).ConfigureAwait(false);
        if (ProgressDisplay.Plain && reported)
        {
            Console.Error.WriteLine($"transferred {Size(transferred)}");
        }

        return result;
    }

    private static string Describe(TransferPhase phase) => phase switch
    {
        TransferPhase.Downloading => "downloading",
        TransferPhase.Applying => "unpacking",
        TransferPhase.Uploading => "uploading",
        _ => "exists",
    };

    private static string Size(long bytes) => bytes >= 1 << 20
        ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";
}
