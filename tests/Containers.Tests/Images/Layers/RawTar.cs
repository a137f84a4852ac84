using System.Text;

namespace Containers.Tests.Images.Layers;

/// <summary>Writes tar headers byte by byte, for malformed archives TarWriter refuses to produce.</summary>
internal sealed class RawTar
{
    private readonly MemoryStream _buffer = new();

    public RawTar Entry(string name, char type, byte[]? data = null, string linkName = "", string mode = "0000644",
        long? sizeOverride = null, string devMajor = "0000000", string devMinor = "0000000", bool corruptChecksum = false)
    {
        byte[] header = new byte[512];
        Put(header, 0, name, 100);
        Put(header, 100, mode, 8);
        Put(header, 108, "0000000", 8);
        Put(header, 116, "0000000", 8);
        Put(header, 124, Convert.ToString(sizeOverride ?? data?.Length ?? 0, 8).PadLeft(11, '0'), 12);
        Put(header, 136, "00000000000", 12);
        header[156] = (byte)type;
        Put(header, 157, linkName, 100);
        Put(header, 257, "ustar", 6);
        Put(header, 263, "00", 2);
        Put(header, 329, devMajor, 8);
        Put(header, 337, devMinor, 8);
        for (int i = 148; i < 156; i++)
        {
            header[i] = (byte)' ';
        }

        int sum = header.Sum(b => b) + (corruptChecksum ? 1 : 0);
        Put(header, 148, Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", 8);
        _buffer.Write(header);
        if (data is not null)
        {
            _buffer.Write(data);
            _buffer.Write(new byte[(512 - (data.Length % 512)) % 512]);
        }

        return this;
    }

    public RawTar Pax(params (string Key, string Value)[] records)
    {
        var body = new StringBuilder();
        foreach (var (key, value) in records)
        {
            string record = $" {key}={value}\n";
            int length = Encoding.UTF8.GetByteCount(record);
            int total = length + length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            if (total.ToString(System.Globalization.CultureInfo.InvariantCulture).Length != length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length)
            {
                total++;
            }

            body.Append(total.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(record);
        }

        return Entry("PaxHeaders/x", 'x', Encoding.UTF8.GetBytes(body.ToString()));
    }

    public RawTar Raw(byte[] bytes)
    {
        _buffer.Write(bytes);
        return this;
    }

    public byte[] End(bool trailer = true)
    {
        if (trailer)
        {
            _buffer.Write(new byte[1024]);
        }

        return _buffer.ToArray();
    }

    private static void Put(byte[] header, int offset, string value, int length)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Array.Copy(bytes, 0, header, offset, Math.Min(bytes.Length, length));
    }
}
