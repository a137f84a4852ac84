using Microsoft.Extensions.Logging;

namespace Containers.Runtime;

/// <summary>
/// One <see cref="ContainerRuntime.RunAsync(Containers.Spec.ContainerSpec, ContainerRunOptions?, CancellationToken)"/> (or
/// <c>RunFromImageAsync</c>) of a container created running: feeds stdin, reads both outputs under the cap,
/// enforces the timeout with a graceful stop, and turns a cancellation into a kill that still returns the output.
/// </summary>
internal sealed class ContainerRun
{
    /// <summary>How long output is still read after a stop or kill before the run returns what it has.</summary>
    private static readonly TimeSpan DrainAfterKill = TimeSpan.FromSeconds(1);

    private readonly Container _container;
    private readonly ContainerRunOptions _options;
    private readonly ILogger _logger;
    private readonly OutputCollector _stdout;
    private readonly OutputCollector _stderr;

    public ContainerRun(Container container, ContainerRunOptions options, ILogger logger)
    {
        _container = container;
        _options = options;
        _logger = logger;
        _stdout = new OutputCollector(options.MaxOutputBytes);
        _stderr = new OutputCollector(options.MaxOutputBytes);
    }

    public async Task<ContainerResult> RunAsync(CancellationToken cancellationToken)
    {
        // The readers end when the pipes close (the process and all it started have gone), not on cancellation:
        // whatever happens, the output until then is returned.
        using var stopReading = new CancellationTokenSource();
        var reading = Task.WhenAll(
            _stdout.ReadToEndAsync(_container.Stdout, stopReading.Token),
            _stderr.ReadToEndAsync(_container.Stderr, stopReading.Token));
        var writing = WriteStdinAsync();
        using var timeout = _options.Timeout is { } limit ? new CancellationTokenSource(limit) : null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout?.Token ?? CancellationToken.None);
        try
        {
            // A run's container was created running (its process goes on to exec by itself): whether it got there
            // is asked once it has ended, when the answer is already in, which saves a wake-up per start.
            ContainerExit exit;
            var timedOut = false;
            try
            {
                exit = await _container.WaitAsync(linked.Token).ConfigureAwait(false);
                await _container.ThrowIfStartFailedAsync(cancellationToken).ConfigureAwait(false);
                await reading.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
            {
                timedOut = true;
                RuntimeLog.ContainerTimedOut(_logger, _container.Id, _options.Timeout!.Value.TotalMilliseconds);
                exit = await _container.StopAsync(_options.StopGracePeriod, cancellationToken).ConfigureAwait(false);
                await DrainAsync(reading, stopReading).ConfigureAwait(false);
            }

            await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return Result(exit, timedOut);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            RuntimeLog.ContainerRunCanceled(_logger, _container.Id);
            var exit = await _container.KillAsync(CancellationToken.None).ConfigureAwait(false);
            await DrainAsync(reading, stopReading).ConfigureAwait(false);
            await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw new ContainerRunCanceledException(_container.Id, Result(exit, timedOut: false), cancellationToken);
        }
        catch
        {
            // A failed start: the readers end with the pipes; their own errors add nothing to this one.
            await _container.KillAsync(CancellationToken.None).ConfigureAwait(false);
            await DrainAsync(reading, stopReading).ConfigureAwait(false);
            await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    /// <summary>Writes the input and closes it; a process that exits without reading it all is not an error.</summary>
    private async Task WriteStdinAsync()
    {
        var stdin = _container.Stdin;
        try
        {
            if (!_options.Stdin.IsEmpty)
            {
                await stdin.WriteAsync(_options.Stdin).ConfigureAwait(false);
            }
        }
        finally
        {
            await stdin.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits a moment for the output's end after a stop; a pipe still held open elsewhere is given up on.</summary>
    private async Task DrainAsync(Task reading, CancellationTokenSource stopReading)
    {
        try
        {
            await reading.WaitAsync(DrainAfterKill).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            RuntimeLog.ContainerOutputNotClosed(_logger, _container.Id, DrainAfterKill.TotalMilliseconds);
            await stopReading.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A read error ends that stream's output where it was; the run's result or error is what matters.
        }

        await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private ContainerResult Result(ContainerExit exit, bool timedOut)
    {
        if (_stdout.Truncated)
        {
            RuntimeLog.ContainerOutputTruncated(_logger, _container.Id, OutputStream.Stdout, _options.MaxOutputBytes);
        }

        if (_stderr.Truncated)
        {
            RuntimeLog.ContainerOutputTruncated(_logger, _container.Id, OutputStream.Stderr, _options.MaxOutputBytes);
        }

        return new ContainerResult
        {
            Exit = exit,
            Stdout = _stdout.Text,
            Stderr = _stderr.Text,
            TimedOut = timedOut,
            StdoutTruncated = _stdout.Truncated,
            StderrTruncated = _stderr.Truncated,
        };
    }
}
