using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class ContainerLogTests
{
    [Fact]
    public async Task Records_are_one_json_object_per_line_as_dockers_json_file_driver_writes()
    {
        var path = Path.GetTempFileName();
        try
        {
            await using (var log = ContainerLogWriter.Open(path, ContainerLogOptions.Default))
            {
                await log.AppendAsync(OutputStream.Stdout, "hello \"world\"\n", TestContext.Current.CancellationToken);
                await log.AppendAsync(OutputStream.Stderr, "oops\n", TestContext.Current.CancellationToken);
            }

            var lines = await File.ReadAllLinesAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("{\"log\":\"hello \\u0022world\\u0022\\n\",\"stream\":\"stdout\",\"time\":\"", lines[0], StringComparison.Ordinal);

            var records = new List<ContainerLogRecord>();
            await foreach (var record in ContainerLog.ReadAsync(path, follow: false, until: null, TestContext.Current.CancellationToken))
            {
                records.Add(record);
            }

            Assert.Equal(["hello \"world\"\n", "oops\n"], records.Select(r => r.Log));
            Assert.Equal(["stdout", "stderr"], records.Select(r => r.Stream));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Following_a_log_returns_records_written_before_the_container_stopped()
    {
        var path = Path.GetTempFileName();
        try
        {
            var stopped = new TaskCompletionSource();
            var reader = Task.Run(async () =>
            {
                var seen = new List<string>();
                await foreach (var record in ContainerLog.ReadAsync(path, follow: true, stopped.Task, TestContext.Current.CancellationToken))
                {
                    seen.Add(record.Log);
                }

                return seen;
            });
            await using (var log = ContainerLogWriter.Open(path, ContainerLogOptions.Default))
            {
                await log.AppendAsync(OutputStream.Stdout, "late\n", TestContext.Current.CancellationToken);
            }

            stopped.SetResult();

            Assert.Equal(["late\n"], await reader);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
