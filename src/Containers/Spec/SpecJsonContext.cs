using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Containers.Spec;

/// <summary>
/// Source-generated (reflection-free, trimming-safe) JSON metadata for <c>config.json</c>: camelCase names as in the
/// OCI spec, nulls and empty lists left out, required constructor values and non-null fields enforced on read.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    WriteIndented = true,
    IndentSize = 2)]
[JsonSerializable(typeof(ContainerSpec))]
internal sealed partial class SpecJsonContext : JsonSerializerContext
{
    /// <summary>The metadata every read and write of a spec uses: the generated one, leaving out empty collections.</summary>
    // A static property of this class would be initialised before the generated Default, so it is built on first use.
    public static JsonTypeInfo<ContainerSpec> Spec => field ??= Create(writeIndented: true);

    /// <summary>As <see cref="Spec"/>, written on one line.</summary>
    public static JsonTypeInfo<ContainerSpec> CompactSpec => field ??= Create(writeIndented: false);

    /// <summary>
    /// Writes <paramref name="spec"/> as <c>JsonSerializer.Serialize(writer, spec, Default.ContainerSpec)</c> would
    /// (compact when the writer is; empty lists kept), without creating any <see cref="JsonTypeInfo"/> for a spec
    /// that sets no cgroup limits, hooks or other nullable numbers: creating one looks up the type's polymorphism
    /// attributes, which in a native binary starts the reflection stack (its assembly binder, metadata reader), the
    /// largest single cost of writing a container's <c>config.json</c>. The generator's handlers write every type but
    /// the few that would ask for one (SpecJsonContext.Writer.cs); a test holds the output to the serializer's byte
    /// for byte.
    /// </summary>
    internal static void WriteFast(Utf8JsonWriter writer, ContainerSpec spec) => Default.WriteSpec(writer, spec);

    private static JsonTypeInfo<ContainerSpec> Create(bool writeIndented) =>
        (JsonTypeInfo<ContainerSpec>)new JsonSerializerOptions(Default.Options)
        {
            TypeInfoResolver = Default.WithAddedModifier(OmitEmptyCollections),
            WriteIndented = writeIndented,
        }.GetTypeInfo(typeof(ContainerSpec));

    // runc and the spec's examples omit empty lists and maps; writing them would only add noise.
    private static void OmitEmptyCollections(JsonTypeInfo typeInfo)
    {
        foreach (var property in typeInfo.Properties)
        {
            if (property.PropertyType != typeof(string) && typeof(ICollection).IsAssignableFrom(property.PropertyType))
            {
                property.ShouldSerialize = static (_, value) => value is not ICollection { Count: 0 };
            }
        }
    }
}
