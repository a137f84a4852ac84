using System.Text.Json.Serialization;

namespace Containers.Images.Model;

/// <summary>The <c>oci-layout</c> marker file of an OCI image layout.</summary>
internal sealed record OciLayoutFile
{
    public const string FileName = "oci-layout";

    public const string CurrentVersion = "1.0.0";

    [JsonPropertyName("imageLayoutVersion")]
    public required string ImageLayoutVersion { get; init; }
}
