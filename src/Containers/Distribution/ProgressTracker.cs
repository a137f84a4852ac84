using Containers.Images.Model;

namespace Containers.Distribution;

/// <summary>Turns per-blob byte counts into <see cref="TransferProgress"/> reports with the running total.</summary>
internal sealed class ProgressTracker(IProgress<TransferProgress>? progress, long totalBytes)
{
    private readonly Dictionary<string, long> _done = new(StringComparer.Ordinal);
    private long _transferred;

    public void Report(TransferPhase phase, Descriptor blob, long completed)
    {
        if (progress is null)
        {
            return;
        }

        long transferred;
        lock (_done)
        {
            if (phase is TransferPhase.Downloading or TransferPhase.Uploading)
            {
                string key = blob.Digest.ToString();
                _transferred += completed - _done.GetValueOrDefault(key);
                _done[key] = completed;
            }

            transferred = _transferred;
        }

        progress.Report(new TransferProgress(phase, blob.Digest.ToString(), completed, blob.Size, transferred, totalBytes));
    }
}
