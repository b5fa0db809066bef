namespace Salient.Explain;

/// <summary>What to explain: methods × layers × classes, plus method parameters.</summary>
public sealed record ExplainRequest
{
    /// <summary>Method names (see <see cref="Methods.MethodRegistry"/>), e.g. "cam", "eigencam", "gradcam".</summary>
    public IReadOnlyList<string> Methods { get; init; } = ["cam"];
    /// <summary>Target layers: "auto" or names; with several, maps are averaged after normalization.</summary>
    public IReadOnlyList<string> Layers { get; init; } = ["auto"];
    /// <summary>Classes to explain for every image: "auto" (top-1), "topK", an index or a label. One map each.</summary>
    public IReadOnlyList<string> Classes { get; init; } = ["auto"];
    /// <summary>
    /// What the maps explain (<see cref="Methods.Target"/>): null = the class logit of <see cref="Classes"/>.
    /// A class target that names no classes (<c>Target.Probability()</c>) uses <see cref="Classes"/>.
    /// </summary>
    public Methods.Target? Target { get; init; }
    /// <summary>Per-item classes (overrides <see cref="Classes"/> when set): one list per image.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? ClassesPerItem { get; init; }
    /// <summary>
    /// False (default): every map is scaled to [0,1] on its own. True: the maps of one image, method and
    /// layer share one scale across the requested classes (the same normalization applied to all of them
    /// together), so a class the model rejects looks weak next to the one it picks.
    /// </summary>
    public bool NormalizeAcrossClasses { get; init; }
    /// <summary>
    /// Memory allowed for one batch of generated inputs (SmoothGrad's noisy copies, integrated-gradient
    /// steps, perturbation masks): batch sizes are chosen to fit it. Default 1 GiB.
    /// </summary>
    public long MemoryBudgetBytes { get; init; } = Perturbation.BatchSizing.BudgetBytes;
    /// <summary>Method parameters (e.g. "relu" = "guided"), by name.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}
