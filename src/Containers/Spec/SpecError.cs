namespace Containers.Spec;

/// <summary>One problem in a <see cref="ContainerSpec"/>, located by its path in <c>config.json</c>.</summary>
/// <param name="JsonPath">Where the problem is, in <c>config.json</c> terms, for example <c>process.args</c> or
/// <c>linux.namespaces[2].type</c>.</param>
/// <param name="Message">What is wrong and what to do about it.</param>
public sealed record SpecError(string JsonPath, string Message)
{
    /// <summary>The error as <c>path: message</c>.</summary>
    public override string ToString() => $"{JsonPath}: {Message}";
}
