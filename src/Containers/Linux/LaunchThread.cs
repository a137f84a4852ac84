using System.Collections.Concurrent;

namespace Containers.Linux;

/// <summary>
/// The one long-lived thread every child is cloned from. <c>PR_SET_PDEATHSIG</c> fires when the thread that
/// cloned the child exits, so cloning from a pool thread would kill children when the pool retires it.
/// </summary>
internal static class LaunchThread
{
    private static readonly BlockingCollection<WorkItem> Queue = new();
    private static readonly Lazy<Thread> Thread = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Runs <paramref name="work"/> on the launch thread and returns its result.</summary>
    public static T Run<T>(Func<T> work)
    {
        _ = Thread.Value;
        var item = new WorkItem(() => work());
        Queue.Add(item);
        // Not disposed: Set() on the launch thread may still be running when Wait() returns.
        item.Done.Wait();
        if (item.Error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(item.Error);
        }

        return (T)item.Result!;
    }

    private static Thread Start()
    {
        var thread = new Thread(() =>
        {
            foreach (var item in Queue.GetConsumingEnumerable())
            {
                try
                {
                    item.Result = item.Work();
                }
                catch (Exception e)
                {
                    item.Error = e;
                }

                item.Done.Set();
            }
        })
        {
            IsBackground = true,
            Name = "containers-launch",
        };
        thread.Start();
        return thread;
    }

    private sealed class WorkItem(Func<object?> work)
    {
        public Func<object?> Work { get; } = work;

        public ManualResetEventSlim Done { get; } = new();

        public object? Result { get; set; }

        public Exception? Error { get; set; }
    }
}
