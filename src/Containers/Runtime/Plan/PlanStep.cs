namespace Containers.Runtime.Plan;

/// <summary>One concern of a container start: reads the spec, the host's facts and what earlier steps decided, and appends ops.</summary>
/// <param name="context">The compilation in progress.</param>
internal delegate void PlanStep(PlanContext context);
