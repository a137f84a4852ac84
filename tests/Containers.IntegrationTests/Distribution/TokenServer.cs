using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// A small token service for the distribution token auth flow: checks HTTP Basic credentials and issues RS256 JWTs
/// with an <c>x5c</c> header whose certificate the registry trusts (<c>rootcertbundle</c>), granting the scopes asked
/// for. Records every token request so tests can see scopes and caching.
/// </summary>
internal sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "test-registry";
    public const string Issuer = "test-issuer";

    /// <summary>The identity (refresh) token the service accepts for <see cref="RegistryServer.User"/>.</summary>
    public const string RefreshToken = "test-refresh-token-7f3a";

    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly LoopbackHttpServer _server;

    private TokenServer(string directory)
    {
        var request = new CertificateRequest("CN=test token issuer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CertificateFile = Path.Combine(directory, "token-issuer.pem");
        File.WriteAllText(CertificateFile, _certificate.ExportCertificatePem());
        _server = new LoopbackHttpServer(context =>
        {
            try
            {
                Answer(context);
            }
            finally
            {
                context.Response.Close();
            }

            return Task.CompletedTask;
        });
    }

    public int Port => _server.Port;

    public string CertificateFile { get; }

    /// <summary>Every token request: the scopes asked for and the user it authenticated as (null: anonymous).</summary>
    public ConcurrentQueue<(string[] Scopes, string? User)> Requests { get; } = new();

    /// <summary>How many tokens were issued for the refresh token (POST, grant_type=refresh_token).</summary>
    public int RefreshRequests { get; private set; }

    /// <summary>The registry's <c>auth:</c> section for this token service.</summary>
    public string RegistryAuth => $"auth:\n  token:\n    realm: http://127.0.0.1:{Port}/token\n    service: {Service}\n    issuer: {Issuer}\n    rootcertbundle: {CertificateFile}";

    public static TokenServer Start(string directory) => new(directory);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _certificate.Dispose();
        _key.Dispose();
    }

    private void Answer(HttpListenerContext context)
    {
        string? user = null;
        string? header = context.Request.Headers["Authorization"];
        string[] scopes = context.Request.QueryString.GetValues("scope") ?? [];
        if (context.Request.HttpMethod == "POST")
        {
            // The OAuth2 refresh-token grant: a form with grant_type, refresh_token, service and space-separated scopes.
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var form = System.Web.HttpUtility.ParseQueryString(reader.ReadToEnd());
            if (form["grant_type"] != "refresh_token" || form["refresh_token"] != RefreshToken || form["service"] != Service || header is not null)
            {
                Requests.Enqueue(((form["scope"] ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries), null));
                context.Response.StatusCode = 401;
                Write(context, """{"errors":[{"code":"UNAUTHORIZED","message":"invalid refresh token"}]}""");
                return;
            }

            user = RegistryServer.User;
            scopes = (form["scope"] ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            RefreshRequests++;
        }
        else if (header is not null)
        {
            string decoded = header.StartsWith("Basic ", StringComparison.Ordinal) ? Encoding.UTF8.GetString(Convert.FromBase64String(header[6..])) : string.Empty;
            if (decoded != $"{RegistryServer.User}:{RegistryServer.Password}")
            {
                context.Response.StatusCode = 401;
                Write(context, """{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}""");
                return;
            }

            user = RegistryServer.User;
        }

        Requests.Enqueue((scopes, user));
        if (user is null)
        {
            context.Response.StatusCode = 401;
            Write(context, """{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}""");
            return;
        }

        var access = scopes.Select(s => s.Split(':')).Where(p => p.Length == 3).Select(p => new { type = p[0], name = p[1], actions = p[2].Split(',') }).ToArray();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string headerJson = JsonSerializer.Serialize(new { alg = "RS256", typ = "JWT", x5c = new[] { Convert.ToBase64String(_certificate.RawData) } });
        string claims = JsonSerializer.Serialize(new { iss = Issuer, sub = user, aud = Service, exp = now + 300, nbf = now - 10, iat = now, jti = Guid.NewGuid().ToString("N"), access });
        string signingInput = Base64Url(Encoding.UTF8.GetBytes(headerJson)) + "." + Base64Url(Encoding.UTF8.GetBytes(claims));
        string signature = Base64Url(_key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        string token = signingInput + "." + signature;
        Write(context, context.Request.HttpMethod == "POST"
            ? JsonSerializer.Serialize(new { access_token = token, expires_in = 300, refresh_token = RefreshToken })
            : JsonSerializer.Serialize(new { token, expires_in = 300 }));
    }

    private static void Write(HttpListenerContext context, string body)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
