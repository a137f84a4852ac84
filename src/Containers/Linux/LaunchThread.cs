namespace Containers.Linux;

/// <summary>
/// The one long-lived thread every child is cloned from. <c>PR_SET_PDEATHSIG</c> fires when the thread that
/// cloned the child exits, so cloning from a pool thread would kill children when the pool retires it.
/// </summary>
/// <remarks>
/// Both sides block without spinning (Monitor.Wait): a launch takes a clone's time, far longer than a spin would
/// wait, and spinning threads take the CPU the child and the other starts need.
/// </remarks>
internal static class LaunchThread
{
    private static readonly Queue<WorkItem> Pending = new();
    private static readonly Lazy<Thread> Thread = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Runs <paramref name="work"/> on the launch thread and returns its result.</summary>
    public static T Run<T>(Func<T> work)
    {
        _ = Thread.Value;
        var item = new WorkItem(() => work());
        lock (Pending)
        {
            Pending.Enqueue(item);
            Monitor.Pulse(Pending);
        }

        lock (item)
        {
            while (!item.Done)
            {
                Monitor.Wait(item);
            }
        }

        if (item.Error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(item.Error);
        }

        return (T)item.Result!;
    }

    private static Thread Start()
    {
        var thread = new Thread(Loop)
        {
            IsBackground = true,
            Name = "containers-launch",
        };
        thread.Start();
        return thread;
    }

    private static void Loop()
    {
        while (true)
        {
            WorkItem item;
            lock (Pending)
            {
                while (Pending.Count == 0)
                {
                    Monitor.Wait(Pending);
                }

                item = Pending.Dequeue();
            }

            try
            {
                item.Result = item.Work();
            }
            catch (Exception e)
            {
                item.Error = e;
            }

            lock (item)
            {
                item.Done = true;
                Monitor.Pulse(item);
            }
        }
    }

    private sealed class WorkItem(Func<object?> work)
    {
        public Func<object?> Work { get; } = work;

        public bool Done { get; set; }

        public object? Result { get; set; }

        public Exception? Error { get; set; }
    }
}
