namespace Containers.Images.Layers;

/// <summary>The tar type flags a layer may contain (POSIX ustar, PAX and GNU), as the header spells them.</summary>
internal enum TarEntryType : byte
{
    RegularFileV7 = 0,
    RegularFile = (byte)'0',
    HardLink = (byte)'1',
    SymbolicLink = (byte)'2',
    CharacterDevice = (byte)'3',
    BlockDevice = (byte)'4',
    Directory = (byte)'5',
    Fifo = (byte)'6',
    ContiguousFile = (byte)'7',
    PaxExtendedHeader = (byte)'x',
    PaxGlobalHeader = (byte)'g',
    GnuLongName = (byte)'L',
    GnuLongLink = (byte)'K',
}
