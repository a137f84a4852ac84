using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Containers.IntegrationTests.Support;

/// <summary>A logger factory that keeps every event with its id and structured fields, to check what a run logged.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<CapturedEvent> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    internal sealed record CapturedEvent(string Category, LogLevel Level, EventId Id, IReadOnlyDictionary<string, object?> Fields, string Message);

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    fields[key] = value;
                }
            }

            owner.Events.Enqueue(new CapturedEvent(category, logLevel, eventId, fields, formatter(state, exception)));
        }
    }
}
