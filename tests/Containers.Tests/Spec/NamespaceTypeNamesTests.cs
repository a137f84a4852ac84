using Containers.Spec;

namespace Containers.Tests.Spec;

public class NamespaceTypeNamesTests
{
    [Fact]
    public void IsDefined_says_what_Enum_IsDefined_says_for_every_value_around_the_named_ones()
    {
        for (var value = -3; value < 20; value++)
        {
            var type = (NamespaceType)value;
            Assert.True(Enum.IsDefined(type) == NamespaceTypeNames.IsDefined(type), $"value {value}");
        }
    }

    [Fact]
    public void Every_named_value_has_its_oci_name_at_its_number()
    {
        var values = Enum.GetValues<NamespaceType>();
        Assert.Equal(values.Length, NamespaceTypeNames.All.Count);
        Assert.All(values, type => Assert.True(NamespaceTypeNames.TryParse(type.ToOciName(), out var parsed) && parsed == type, type.ToString()));
        Assert.Equal("network", NamespaceType.Network.ToOciName());
    }
}
