using System.Net;

namespace Containers.Distribution.Http;

/// <summary>Names and trust of registry hosts: Docker Hub's API host, loopback detection, plain-HTTP permission.</summary>
internal static class RegistryHosts
{
    /// <summary>The host that serves Docker Hub's registry API (<c>docker.io</c> is only its name in references).</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>The host[:port] to connect to for a registry named in a reference.</summary>
    public static string ApiHost(string registry) => registry == "docker.io" ? DockerHubApiHost : registry;

    /// <summary>True for <c>localhost</c>, <c>127.0.0.0/8</c> and <c>::1</c>, with or without a port.</summary>
    public static bool IsLoopback(string hostAndPort)
    {
        string host = HostOf(hostAndPort);
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>The host without its port; brackets of an IPv6 literal removed.</summary>
    public static string HostOf(string hostAndPort)
    {
        if (hostAndPort.StartsWith('['))
        {
            int close = hostAndPort.IndexOf(']', StringComparison.Ordinal);
            return close < 0 ? hostAndPort : hostAndPort[1..close];
        }

        int colon = hostAndPort.LastIndexOf(':');
        return colon < 0 ? hostAndPort : hostAndPort[..colon];
    }

    /// <summary>The <c>host[:port]</c> of a URI as references write it (no default port).</summary>
    public static string Authority(Uri uri) => uri.IsDefaultPort ? uri.IdnHost : $"{(uri.HostNameType == UriHostNameType.IPv6 ? "[" + uri.IdnHost + "]" : uri.IdnHost)}:{uri.Port}";
}
