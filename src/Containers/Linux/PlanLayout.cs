namespace Containers.Linux;

/// <summary>
/// Sizes and offsets of the plan wire format; mirrors <c>struct ct_plan_header</c> and <c>struct ct_op</c> in
/// src/Containers.Native/plan.h (a test compares them with the shim's <c>ct_plan_layout</c>).
/// </summary>
internal static class PlanLayout
{
    public const uint Magic = 0x4e4c5043;
    public const uint Version = 2;

    public const int HeaderSize = 40;
    public const int HeaderMagic = 0;
    public const int HeaderVersion = 4;
    public const int HeaderPlanSize = 8;
    public const int HeaderHeaderSize = 12;
    public const int HeaderOpSize = 16;
    public const int HeaderOpCount = 20;
    public const int HeaderFlags = 24;
    public const int HeaderCgroupSlot = 28;
    public const int HeaderCloneFlags = 32;

    public const int OpSize = 64;
    public const int OpCode = 0;
    public const int OpFlags = 4;
    public const int OpStage = 8;
    public const int OpStrings = 12;
    public const int OpNumbers = 32;

    public const int ReportSize = 16;
    public const int ReportError = 1;
    public const int ReportPid = 2;
    public const int ReportReady = 3;
    public const int ReportStatus = 4;

    public const int SlotSync = 0;
    public const int SlotInit = 1;
    public const int SlotStatus = 2;
    public const int SlotFirstImport = 3;

    public const int LaunchResultSize = 24;
    public const int LaunchResultHandle = 16;
}
