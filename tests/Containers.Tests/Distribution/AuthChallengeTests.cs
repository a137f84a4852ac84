using Containers.Distribution.Auth;

namespace Containers.Tests.Distribution;

public sealed class AuthChallengeTests
{
    [Fact]
    public void A_bearer_challenge_gives_realm_service_and_scopes_even_with_commas_inside_quotes()
    {
        var challenge = AuthChallenge.Parse("Bearer", "realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull,push repository:other:pull\"");

        Assert.NotNull(challenge);
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.docker.io/token", challenge.Realm);
        Assert.Equal("registry.docker.io", challenge.Service);
        Assert.Equal(["repository:library/busybox:pull,push", "repository:other:pull"], challenge.Scopes);
    }

    [Fact]
    public void A_basic_challenge_with_an_unquoted_value_and_escapes_is_read()
    {
        var challenge = AuthChallenge.Parse("Basic", "realm=\"say \\\"hi\\\"\", charset=UTF-8");

        Assert.NotNull(challenge);
        Assert.True(challenge.IsBasic);
        Assert.Equal("say \"hi\"", challenge.Realm);
        Assert.Equal("UTF-8", challenge.Parameters["charset"]);
    }

    [Theory]
    [InlineData("realm=\"unterminated")]
    [InlineData("noequals")]
    [InlineData("=\"x\"")]
    public void Malformed_parameters_are_rejected(string parameters) =>
        Assert.Null(AuthChallenge.Parse("Bearer", parameters));
}
