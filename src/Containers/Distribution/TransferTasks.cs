using System.Runtime.ExceptionServices;

namespace Containers.Distribution;

/// <summary>Waiting for a set of parallel transfers, where the first failure cancels the rest.</summary>
internal static class TransferTasks
{
    /// <summary>
    /// Waits for every task; on failure rethrows the first failure that is not a cancellation, since the first
    /// failure cancelled the others and that is the error the caller needs (unless the caller itself cancelled).
    /// </summary>
    public static async Task WhenAllAsync(IReadOnlyList<Task> tasks, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null && !cancellationToken.IsCancellationRequested)
            {
                ExceptionDispatchInfo.Throw(first);
            }

            throw;
        }
    }
}
