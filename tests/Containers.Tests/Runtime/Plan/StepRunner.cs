using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;
using Containers.Tests.Linux;

namespace Containers.Tests.Runtime.Plan;

/// <summary>Runs plan steps on a fresh context and decodes the ops they emitted.</summary>
internal static class StepRunner
{
    public const string RootMountPoint = "/run/containers-net";

    public static PlanContext Context(ContainerSpec spec, IHostView host, ContainerStdio stdio = ContainerStdio.Pipes,
        bool init = false, bool waitsForStart = true) =>
        new(spec, spec.Process!, host, new PlanSettings(stdio, init, waitsForStart, RootMountPoint));

    /// <summary>Runs <paramref name="steps"/> on <paramref name="context"/> and decodes the plan they built.</summary>
    public static DecodedPlan Run(PlanContext context, params PlanStep[] steps)
    {
        foreach (var step in steps)
        {
            step(context);
        }

        return PlanDecoder.Decode(context.Plan.Build());
    }
}
