using Microsoft.ML.OnnxRuntime;

namespace Salient.Runtime;

/// <summary>How ONNX Runtime sessions are created (threads, spinning, execution provider).</summary>
public sealed record RuntimeOptions
{
    /// <summary>Intra-op threads; 0 lets ORT choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Busy-wait spinning of ORT worker threads. Off by default: on shared, small machines it steals the CPU.</summary>
    public bool AllowSpinning { get; init; }
    /// <summary>"cpu" (default) or "cuda" (needs the GPU build of ONNX Runtime at run time).</summary>
    public string ExecutionProvider { get; init; } = "cpu";
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;
    /// <summary>
    /// Let ONNX Runtime's own log lines (warnings and errors) through to stderr. Off by default: ORT
    /// then logs only fatal conditions, and its failures reach the caller as one-line SalientExceptions.
    /// </summary>
    public bool Verbose { get; init; }

    /// <summary>ORT's log severity for sessions and runs: warnings when <see cref="Verbose"/>, else fatal only.</summary>
    internal OrtLoggingLevel LogLevel => Verbose ? OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING : OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;

    public static RuntimeOptions Default { get; } = new();

    /// <summary>The most intra-op threads accepted: four per logical core.</summary>
    public static int MaxThreads => Environment.ProcessorCount * 4;

    /// <summary>Throws a one-line <see cref="SalientException"/> for a thread count out of range (0 = ORT's choice, else 1 … cores×4).</summary>
    internal void Validate()
    {
        if (IntraOpThreads < 0 || IntraOpThreads > MaxThreads)
            throw new SalientException($"the `threads` option {IntraOpThreads} must be between 1 and {MaxThreads} (4 per core)");
    }

    internal SessionOptions CreateSessionOptions()
    {
        Validate();
        var so = new SessionOptions { GraphOptimizationLevel = OptimizationLevel, LogSeverityLevel = LogLevel };
        if (IntraOpThreads > 0) so.IntraOpNumThreads = IntraOpThreads;
        so.InterOpNumThreads = 1;
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", AllowSpinning ? "1" : "0");
        so.AddSessionConfigEntry("session.inter_op.allow_spinning", AllowSpinning ? "1" : "0");
        switch (ExecutionProvider.ToLowerInvariant())
        {
            case "cpu": break;
            case "cuda":
                try { so.AppendExecutionProvider_CUDA(0); }
                catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
                {
                    so.Dispose();
                    throw new SalientException($"the CUDA execution provider is not available ({e.Message.Split('\n')[0]}); use the CPU provider or install the GPU build of ONNX Runtime", e);
                }
                break;
            default:
                so.Dispose();
                throw new SalientException($"unknown execution provider '{ExecutionProvider}'; use cpu or cuda");
        }
        return so;
    }
}
