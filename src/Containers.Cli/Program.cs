namespace Containers.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("containers: no commands yet");
        return args.Length == 0 ? 125 : 125;
    }
}
