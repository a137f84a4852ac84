using System.Text;
using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>-e</c> and <c>--env-file</c> of <c>run</c>, <c>create</c> and <c>exec</c>, read as Docker's command line reads
/// them: the files' variables first, file by file and line by line, then <c>-e</c>'s; a later variable of a name
/// replaces an earlier one.
/// </summary>
internal static class EnvironmentOptions
{
    public static OptionSpec Env { get; } =
        OptionSpec.Value("env", 'e', "list", "Set an environment variable (NAME=VALUE, or NAME to pass the host's value)");

    public static OptionSpec EnvFile { get; } =
        OptionSpec.Value("env-file", null, "list", "Read environment variables from a file: a NAME=VALUE or NAME line each, lines starting with # ignored");

    /// <summary>
    /// The variables as <c>NAME=VALUE</c>, one per name; a bare <c>NAME</c> takes the host's value and is left out
    /// when the host has none.
    /// </summary>
    /// <exception cref="UsageException">A variable has no name, or a file's has white space in its name.</exception>
    /// <exception cref="ContainersIOException">An env file cannot be read, or is not UTF-8.</exception>
    public static List<string> Read(Invocation invocation)
    {
        var variables = new List<string>();
        foreach (var file in invocation.Values(EnvFile.Name))
        {
            var number = 0;
            foreach (var line in ReadLines(file))
            {
                number++;
                var text = line.TrimStart();
                if (text.Length > 0 && !text.StartsWith('#'))
                {
                    Add(variables, text, $"--env-file '{file}' line {number}", invocation.Path, fromFile: true);
                }
            }
        }

        foreach (var variable in invocation.Values(Env.Name))
        {
            Add(variables, variable, $"-e '{variable}'", invocation.Path, fromFile: false);
        }

        return variables;
    }

    /// <summary>Sets <paramref name="variables"/> (<c>NAME=VALUE</c>) in <paramref name="env"/>, each replacing one of its name.</summary>
    public static void Apply(List<string> env, IEnumerable<string> variables)
    {
        foreach (var variable in variables)
        {
            var name = variable[..(variable.IndexOf('=', StringComparison.Ordinal) + 1)];
            env.RemoveAll(e => e.StartsWith(name, StringComparison.Ordinal));
            env.Add(variable);
        }
    }

    /// <summary>Adds one variable; in a file, as Docker's, white space before the name is dropped and within it refused.</summary>
    private static void Add(List<string> variables, string variable, string where, string commandPath, bool fromFile)
    {
        var eq = variable.IndexOf('=', StringComparison.Ordinal);
        var name = eq < 0 ? variable : variable[..eq];
        if (name.Length == 0 || (fromFile && name.Any(char.IsWhiteSpace)))
        {
            throw new UsageException($"{where}: use NAME=VALUE, or NAME to pass the host's value{(fromFile ? " (a name has no white space)" : "")}", commandPath);
        }

        var value = eq < 0 ? System.Environment.GetEnvironmentVariable(name) : variable[(eq + 1)..];
        if (value is not null)
        {
            Apply(variables, [name + "=" + value]);
        }
    }

    private static string[] ReadLines(string file)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainersIOException($"--env-file '{file}': {e.Message}", file, e);
        }

        try
        {
            // A byte order mark is skipped, as Docker does; anything else that is not UTF-8 is an error.
            var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            return text.TrimStart('\uFEFF').Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        }
        catch (DecoderFallbackException e)
        {
            throw new ContainersIOException($"--env-file '{file}': not UTF-8 text ({e.Message})", file, e);
        }
    }
}
