using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// A few network namespaces made ahead of time, loopback already up, so that a start joins one with <c>setns</c>
/// instead of paying for <c>CLONE_NEWNET</c> on its own path (the kernel's per-namespace setup is the largest
/// single cost of a start with a new network namespace). One long-lived thread keeps the pool filled in the
/// background; each namespace is made by a cloned child (the .NET process never unshares: that would move
/// one of its threads, and every child that thread clones later, into the namespace).
/// </summary>
/// <remarks>
/// <para>A namespace is handed out once, as an fd of <c>/proc/PID/ns/net</c> that keeps it alive; it goes away
/// when that fd is closed and the last process in it has ended. The fd is for a child to join before it execs:
/// import it into the plan, <see cref="PlanBuilder.SetNs"/> it with <see cref="CloneFlags.NewNet"/> as an early op,
/// and leave <see cref="CloneFlags.NewNet"/> out of the clone flags and <see cref="PlanBuilder.LoopbackUp"/> out of
/// the ops.</para>
/// <para>The namespaces belong to the user namespace of the process that owns the pool. A child that creates a
/// new user namespace has no <c>CAP_SYS_ADMIN</c> over them and cannot join them after its clone: such starts
/// (rootless ones, and root ones with an id mapping) make their own. Without <c>CAP_SYS_ADMIN</c> the filler's
/// first clone fails; it then stops, <see cref="Failure"/> says why, and <see cref="TryTake"/> returns null.</para>
/// </remarks>
/// <example>
/// <code>
/// await using var pool = new NetworkNamespacePool(capacity: 4);
/// pool.Start();
/// using SafeFileHandle? netns = pool.TryTake();   // null: none ready, create one with CLONE_NEWNET
/// </code>
/// </example>
internal sealed class NetworkNamespacePool : IAsyncDisposable
{
    // The child brings lo up in its new namespace, reports that it got that far, and waits: while it waits the
    // parent opens its /proc/PID/ns/net, then releases it and it exits (a plan without EXEC ends with exit 0).
    private static readonly Plan HolderPlan = new PlanBuilder(CloneFlags.NewNet)
        .LoopbackUp()
        .WaitForParent("hold the network namespace until it is opened", announce: true)
        .Build();

    private readonly Channel<SafeFileHandle> _ready = Channel.CreateUnbounded<SafeFileHandle>(
        new UnboundedChannelOptions { SingleWriter = true });

    private readonly SemaphoreSlim _free;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _filler;
    private int _count;

    /// <summary>Prepares a pool of at most <paramref name="capacity"/> namespaces; nothing is made before <see cref="Start"/>.</summary>
    public NetworkNamespacePool(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _free = new SemaphoreSlim(capacity, capacity);
    }

    /// <summary>The most namespaces kept ready.</summary>
    public int Capacity { get; }

    /// <summary>Namespaces ready to be taken now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Why the filler stopped (it stops at its first failure), or null while it runs.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Starts the thread that fills the pool and refills it after each take.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (_filler is not null)
        {
            return;
        }

        _filler = new Thread(Fill) { IsBackground = true, Name = "containers-netns-pool" };
        _filler.Start();
    }

    /// <summary>
    /// Takes a ready namespace without waiting: the caller owns the returned fd. Null when none is ready (or the
    /// filler has stopped): the start then makes its own namespace.
    /// </summary>
    public SafeFileHandle? TryTake()
    {
        if (!_ready.Reader.TryRead(out var netns))
        {
            return null;
        }

        Taken();
        return netns;
    }

    /// <summary>Takes a namespace, waiting for the filler to make one if none is ready.</summary>
    /// <exception cref="ContainersException">The filler stopped: <see cref="Failure"/> is the inner exception.</exception>
    public async Task<SafeFileHandle> TakeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var netns = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Taken();
            return netns;
        }
        catch (ChannelClosedException e)
        {
            throw new ContainersException("the network namespace pool has stopped: " + (Failure?.Message ?? "it was disposed"), Failure ?? e);
        }
    }

    /// <summary>Stops the filler and closes the namespaces nobody took.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_filler is not null)
        {
            // The filler notices between two namespaces; making one takes about a millisecond.
            await Task.Run(_filler.Join).ConfigureAwait(false);
        }

        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var netns))
        {
            Interlocked.Decrement(ref _count);
            netns.Dispose();
        }

        _stop.Dispose();
        _free.Dispose();
    }

    private void Taken()
    {
        Interlocked.Decrement(ref _count);
        _free.Release();
    }

    private void Fill()
    {
        var stop = _stop.Token;
        try
        {
            while (true)
            {
                _free.Wait(stop);
                var netns = Create(stop);
                if (stop.IsCancellationRequested)
                {
                    netns.Dispose();
                    return;
                }

                Interlocked.Increment(ref _count);
                _ready.Writer.TryWrite(netns);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Failure = e;
            _ready.Writer.TryComplete(e);
        }
    }

    private static SafeFileHandle Create(CancellationToken cancellationToken)
    {
        var child = ChildProcess.Launch(HolderPlan);
        try
        {
            child.WaitForSetupAsync(cancellationToken).GetAwaiter().GetResult();

            // The child waits for us and is not reaped before we release it, so this pid is still that child.
            var netns = File.OpenHandle($"/proc/{child.Pid}/ns/net", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            child.Continue();
            child.WaitAsync(cancellationToken).GetAwaiter().GetResult();
            return netns;
        }
        finally
        {
            child.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
