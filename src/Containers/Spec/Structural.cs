using System.Collections.Immutable;
using System.Text.Json;

namespace Containers.Spec;

/// <summary>
/// Value equality for the spec's collections, so two specs with the same content are equal as records should be
/// (<see cref="ImmutableArray{T}"/> and immutable dictionaries compare by reference on their own).
/// </summary>
internal static class Structural
{
    public static ImmutableArray<T> OrEmpty<T>(ImmutableArray<T> value) => value.IsDefault ? [] : value;

    public static ImmutableSortedDictionary<string, TValue> OrEmpty<TValue>(ImmutableSortedDictionary<string, TValue>? value) =>
        value ?? ImmutableSortedDictionary<string, TValue>.Empty;

    public static int FindIndex<T>(ImmutableArray<T> items, Func<T, bool> match)
    {
        for (int i = 0; i < items.Length; i++)
        {
            if (match(items[i]))
            {
                return i;
            }
        }

        return -1;
    }

    public static bool Equal<T>(ImmutableArray<T> left, ImmutableArray<T> right) =>
        OrEmpty(left).AsSpan().SequenceEqual(OrEmpty(right).AsSpan());

    public static bool Equal<TValue>(ImmutableSortedDictionary<string, TValue> left, ImmutableSortedDictionary<string, TValue> right) =>
        ReferenceEquals(left, right) || (left.Count == right.Count && left.All(
            entry => right.TryGetValue(entry.Key, out var value) && EqualityComparer<TValue>.Default.Equals(entry.Value, value)));

    /// <summary>Content equality for a section this model keeps as raw JSON (another platform's).</summary>
    public static bool Equal(JsonElement? left, JsonElement? right) =>
        left is { } l ? right is { } r && JsonElement.DeepEquals(l, r) : right is null;

    public static int Hash<T>(ImmutableArray<T> items)
    {
        var hash = new HashCode();
        foreach (var item in OrEmpty(items))
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    public static int Hash<TValue>(ImmutableSortedDictionary<string, TValue> items)
    {
        var hash = new HashCode();
        foreach (var (key, value) in items)
        {
            hash.Add(key);
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}
