namespace Containers.FuzzTests;

/// <summary>Byte-level damage: bit flips, truncation, appended or zeroed bytes.</summary>
internal static class ByteMutator
{
    public static byte[] Mutate(byte[] data, Random random, out string what)
    {
        byte[] copy = (byte[])data.Clone();
        switch (random.Next(5))
        {
            case 0 when copy.Length > 0:
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips; i++)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                what = $"{flips} bits flipped";
                return copy;
            case 1:
                int length = random.Next(copy.Length + 1);
                what = $"truncated to {length} bytes";
                return copy[..length];
            case 2:
                byte[] extra = new byte[random.Next(1, 2048)];
                random.NextBytes(extra);
                what = $"{extra.Length} random bytes appended";
                return [.. copy, .. extra];
            case 3 when copy.Length > 0:
                int start = random.Next(copy.Length);
                int count = Math.Min(copy.Length - start, random.Next(1, 1024));
                Array.Clear(copy, start, count);
                what = $"{count} bytes zeroed at {start}";
                return copy;
            default:
                what = "emptied";
                return [];
        }
    }
}
