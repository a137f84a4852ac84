namespace Containers.Images.Model;

/// <summary>The empty JSON object <c>{}</c> used as a set member in image configs.</summary>
public sealed record EmptyObject;
