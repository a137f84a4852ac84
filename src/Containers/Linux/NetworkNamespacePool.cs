using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// A few network namespaces made ahead of time, loopback already up, so that a start joins one with <c>setns</c>
/// instead of paying for <c>CLONE_NEWNET</c> on its own path (the kernel's per-namespace setup is the largest
/// single cost of a start with a new network namespace). One long-lived thread keeps the pool filled in the
/// background. It makes each namespace itself: it unshares into a new one, brings loopback up, opens the namespace
/// and returns to the namespace it came from with <c>setns</c>. A thread's network namespace is its own, so no other
/// thread of the process ever is in a pooled namespace, and this thread clones no children. A refill thus costs the
/// kernel's namespace setup and nothing else: no child to clone, wait for and reap, and no wake-up of another thread
/// (it competes with the starts for the CPUs).
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
/// first unshare fails; it then stops, <see cref="Failure"/> says why, and <see cref="TryTake"/> returns null. It
/// stops the same way if it cannot return to its own namespace, so it never makes a namespace inside another.</para>
/// </remarks>
/// <example>
/// <code>
/// await using var pool = new NetworkNamespacePool(capacity: 4);
/// pool.Start();
/// using SafeFileHandle? netns = pool.TryTake();   // null: none ready, create one with CLONE_NEWNET
/// // ... launch the child that joins it ...
/// if (netns is not null) pool.Replenish();
/// </code>
/// </example>
internal sealed class NetworkNamespacePool : IAsyncDisposable
{
    private const int AF_INET = 2;
    private const int SOCK_DGRAM = 2;
    private const int SIOCGIFFLAGS = 0x8913;
    private const int SIOCSIFFLAGS = 0x8914;
    private const short IFF_UP = 0x1;
    private const short IFF_RUNNING = 0x40;

    private readonly Channel<SafeFileHandle> _ready = Channel.CreateUnbounded<SafeFileHandle>(
        new UnboundedChannelOptions { SingleWriter = true });

    // Free places, counted under _gate; the filler sleeps in Monitor.Wait (a SemaphoreSlim spun in sched_yield
    // first, about 50 calls per refill on a machine with two CPUs).
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private int _free;
    private Thread? _filler;
    private int _count;

    /// <summary>Prepares a pool of at most <paramref name="capacity"/> namespaces; nothing is made before <see cref="Start"/>.</summary>
    public NetworkNamespacePool(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _free = capacity;
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
    /// filler has stopped): the start then makes its own namespace. The filler makes its replacement once the
    /// caller says <see cref="Replenish"/>, which it must do exactly once for each namespace it got here.
    /// </summary>
    /// <remarks>
    /// A start calls <see cref="Replenish"/> once its child no longer sets up its mounts: the kernel's namespace
    /// setup keeps a CPU busy in the kernel, and the pivot's detach of the old root waits for every CPU to pass
    /// through the scheduler. The pool's other namespaces serve the starts meanwhile.
    /// </remarks>
    public SafeFileHandle? TryTake()
    {
        if (!_ready.Reader.TryRead(out var netns))
        {
            return null;
        }

        Interlocked.Decrement(ref _count);
        return netns;
    }

    /// <summary>Lets the filler replace a namespace taken with <see cref="TryTake"/>.</summary>
    public void Replenish()
    {
        lock (_gate)
        {
            _free++;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Takes a namespace, waiting for the filler to make one if none is ready.</summary>
    /// <exception cref="ContainersException">The filler stopped: <see cref="Failure"/> is the inner exception.</exception>
    public async Task<SafeFileHandle> TakeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var netns = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Decrement(ref _count);
            Replenish();
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
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

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
    }

    private void Fill()
    {
        var stop = _stop.Token;
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    while (_free == 0)
                    {
                        stop.ThrowIfCancellationRequested();
                        Monitor.Wait(_gate);
                    }

                    _free--;
                }

                var netns = Create();
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

    /// <summary>
    /// Makes a namespace on this thread and returns to the thread's own: the new namespace's fd, or an error (and
    /// then this thread is home again, or the error says it is not). The way home is opened each time, so that
    /// between refills the pool holds no fd but its namespaces'.
    /// </summary>
    private static SafeFileHandle Create()
    {
        using var home = LibC.OpenReadOnly("/proc/thread-self/ns/net");
        if (LibC.unshare((int)CloneFlags.NewNet) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new ContainersException(
                $"making a network namespace failed: unshare(CLONE_NEWNET): {Errno.Name(errno)}" + (errno == Errno.EPERM ? " (needs CAP_SYS_ADMIN)" : ""));
        }

        SafeFileHandle? netns = null;
        Exception? failure = null;
        try
        {
            LoopbackUp();
            netns = LibC.OpenReadOnly("/proc/thread-self/ns/net");
        }
        catch (Exception e) when (e is ContainersException or IOException or UnauthorizedAccessException)
        {
            failure = e;
        }

        if (LibC.setns((int)home.DangerousGetHandle(), (int)CloneFlags.NewNet) < 0)
        {
            netns?.Dispose();
            throw new ContainersException($"returning the network namespace pool's thread to its namespace failed: setns: {Errno.Name(Marshal.GetLastPInvokeError())}", failure);
        }

        return netns ?? throw new ContainersException($"preparing a new network namespace failed: {failure!.Message}", failure);
    }

    /// <summary>Sets <c>lo</c> of this thread's network namespace up (a new namespace has it down).</summary>
    private static unsafe void LoopbackUp()
    {
        var fd = LibC.socket(AF_INET, SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new ContainersException($"bringing loopback up failed: socket: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            // struct ifreq: the name in 16 bytes, then ifr_flags (a short) at the start of a 24-byte union.
            var request = stackalloc byte[40];
            new Span<byte>(request, 40).Clear();
            request[0] = (byte)'l';
            request[1] = (byte)'o';
            if (LibC.ioctl(fd, SIOCGIFFLAGS, request) < 0)
            {
                throw new ContainersException($"bringing loopback up failed: SIOCGIFFLAGS: {Errno.Name(Marshal.GetLastPInvokeError())}");
            }

            *(short*)(request + 16) |= IFF_UP | IFF_RUNNING;
            if (LibC.ioctl(fd, SIOCSIFFLAGS, request) < 0)
            {
                throw new ContainersException($"bringing loopback up failed: SIOCSIFFLAGS: {Errno.Name(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
