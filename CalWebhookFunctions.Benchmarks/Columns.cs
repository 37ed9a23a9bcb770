using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace CalWebhookFunctions.Benchmarks;

/// <summary>
/// Throughput of a case relative to the floor (baseline) of its group: floor time / case time, the inverse of
/// BenchmarkDotNet's Ratio column. The goals of the I/O paths are stated as this number (≥ 0.85, ≥ 0.8).
/// </summary>
public sealed class ThroughputVsFloorColumn : IColumn
{
    public string Id => nameof(ThroughputVsFloorColumn);
    public string ColumnName => "Throughput vs floor";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Floor's mean time / this case's mean time: the share of the floor's throughput this case reaches";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var baseline = summary.GetBaseline(summary.GetLogicalGroupKey(benchmarkCase));
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var floor = baseline is null ? null : summary[baseline]?.ResultStatistics?.Mean;
        return mean is > 0 && floor is > 0 ? (floor.Value / mean.Value).ToString("0.00", CultureInfo.InvariantCulture) : "?";
    }
}

/// <summary>Bytes allocated per operation divided by the case's <c>PayloadBytes</c> parameter (goal ≤ 1.1 for envelopes).</summary>
public sealed class AllocatedPerPayloadByteColumn : IColumn
{
    public string Id => nameof(AllocatedPerPayloadByteColumn);
    public string ColumnName => "Alloc / payload";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Bytes allocated per operation / payload bytes";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var allocated = report?.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
        var payload = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "PayloadBytes")?.Value as int?;
        return allocated is not null && payload is > 0
            ? ((double)allocated.Value / payload.Value).ToString("0.000", CultureInfo.InvariantCulture)
            : "?";
    }
}

public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(new ThroughputVsFloorColumn());
}

/// <summary>
/// The envelope's column, and a GC that keeps the memory it frees (RetainVM) for the floor and the writer alike: a
/// 1 MiB array lives on the large object heap, and without it each run settles at random in one of two modes — LOH
/// pages reused, or freshly committed and faulted in on every allocation — which moved either case by up to 3.5×.
/// </summary>
public sealed class EnvelopeConfig : ManualConfig
{
    public EnvelopeConfig()
    {
        AddColumn(new AllocatedPerPayloadByteColumn());
        AddJob(Job.Default.WithGcRetainVm(true).AsMutator());
    }
}
