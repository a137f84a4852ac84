using Containers.Cgroups.V2;

namespace Containers.Tests.Cgroups;

public sealed class V2PressureTests
{
    [Fact]
    public void A_pressure_file_s_some_and_full_lines_are_read()
    {
        var pressure = V2Pressure.Parse("some avg10=12.50 avg60=3.01 avg300=0.00 total=1234567\nfull avg10=1.00 avg60=0.20 avg300=0.03 total=42\n");

        Assert.NotNull(pressure);
        Assert.Equal(12.5, pressure.Some.Avg10);
        Assert.Equal(3.01, pressure.Some.Avg60);
        Assert.Equal(0, pressure.Some.Avg300);
        Assert.Equal(TimeSpan.FromMicroseconds(1234567), pressure.Some.Total);
        Assert.Equal(TimeSpan.FromMicroseconds(42), pressure.Full!.Total);
        Assert.Equal(0.03, pressure.Full.Avg300);
    }

    [Fact]
    public void A_file_without_a_full_line_has_none_and_one_without_some_is_no_pressure()
    {
        Assert.Null(V2Pressure.Parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0")!.Full);
        Assert.Null(V2Pressure.Parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0"));
        Assert.Null(V2Pressure.Parse("some avg10=x avg60=0.00 avg300=0.00 total=0"));
        Assert.Null(V2Pressure.Parse(""));
    }
}
