using static System.FormattableString;

namespace Salient.Visualization;

/// <summary>How the step size of plain gradient ascent is chosen.</summary>
internal enum LearningRatePolicy
{
    /// <summary>x ← x + η·∇ with a fixed η.</summary>
    Constant,
    /// <summary>
    /// η = min(η_max, Δ / ‖∇‖²): the step that would raise the objective by Δ if it were linear
    /// (the "progress" policy of Yosinski et al.'s toolbox), per image.
    /// </summary>
    Progress,
    /// <summary>
    /// η_eff = η / RMS(∇): every step moves the image by η pixel values (root mean square), whatever
    /// the scale of the model's gradients — so one η works across models and preprocessings.
    /// </summary>
    Normalized,
}

/// <summary>
/// Gradient ascent in pixel space (Yosinski et al. 2015): x ← r_θ(x + η·∂a/∂x), where x is the image
/// minus the model's neutral colour, in 0–255 pixel units, and r_θ applies the preset's
/// <see cref="Regularizers"/> in order (decay, blur, norm and contribution clipping, …).
/// </summary>
internal sealed record DeepVisSettings
{
    /// <summary>r_θ: applied in order after every step (see ImageRegularizers.cs).</summary>
    internal IReadOnlyList<IImageRegularizer> Regularizers { get; init; } = [];
    /// <summary>Random transforms of the image the model sees each step (none in the 2015 recipe).</summary>
    internal IReadOnlyList<ITransform> Transforms { get; init; } = [];
    public LearningRatePolicy Policy { get; init; } = LearningRatePolicy.Constant;
    /// <summary>η for <see cref="LearningRatePolicy.Constant"/>, η_max for <see cref="LearningRatePolicy.Progress"/>.</summary>
    public float LearningRate { get; init; } = 100f;
    /// <summary>Δ of the progress policy: the objective gain aimed at per step.</summary>
    public float DesiredProgress { get; init; } = 2f;
    /// <summary>Standard deviation (pixels) of the Gaussian noise the image starts from, around the neutral colour.</summary>
    public float StartNoise { get; init; } = 10f;

    public override string ToString()
    {
        var lr = Policy switch
        {
            LearningRatePolicy.Constant => Invariant($"lr {LearningRate}"),
            LearningRatePolicy.Normalized => Invariant($"normalized step {LearningRate} px"),
            _ => Invariant($"progress Δ {DesiredProgress} (lr ≤ {LearningRate})"),
        };
        return string.Join(", ", Regularizers.Select(r => r.ToString()).Append(lr).Concat(Transforms.Select(t => t.ToString())));
    }
}

/// <summary>
/// The transformation-robustness recipe of Olah et al. 2017 ("Feature Visualization", Distill):
/// a decorrelated Fourier image parameterization optimized with Adam, with the preset's random
/// <see cref="Transforms"/> each step (composed into one bilinear resampling) and its
/// <see cref="Penalties"/> on the [0, 1] image.
/// </summary>
internal sealed record LucidSettings
{
    public float LearningRate { get; init; } = 0.05f;
    /// <summary>Applied each step, in order (lucid: pad → jitter → scale → rotate → jitter; see Transforms.cs).</summary>
    internal IReadOnlyList<ITransform> Transforms { get; init; } = [];
    /// <summary>Subtracted from the objective (see Penalties.cs).</summary>
    internal IReadOnlyList<IPenalty> Penalties { get; init; } = [];
    /// <summary>Exponent of the 1/|f| frequency scaling.</summary>
    public float FourierDecay { get; init; } = 1f;
    /// <summary>Multiplier of the inverse DFT (controls how far one Adam step moves the image).</summary>
    public float Amplitude { get; init; } = 0.25f;
    public bool Decorrelate { get; init; } = true;
    /// <summary>Standard deviation of the initial Fourier coefficients.</summary>
    public float StartNoise { get; init; } = 0.01f;

    public override string ToString() => string.Join(", ",
        new[] { Invariant($"Adam lr {LearningRate}") }.Concat(Transforms.Select(t => t.ToString())).Concat(Penalties.Select(p => p.ToString()))
            .Append(Invariant($"1/f^{FourierDecay}")).Append(Decorrelate ? "decorrelated" : "RGB"));
}

/// <summary>A named recipe: the number of steps and either DeepVis or lucid settings.</summary>
public sealed record VisualizationPreset
{
    internal VisualizationPreset(string name, string description, int steps, DeepVisSettings? DeepVis = null, LucidSettings? Lucid = null)
    {
        Name = name;
        Description = description;
        Steps = steps;
        this.DeepVis = DeepVis;
        this.Lucid = Lucid;
    }

    public string Name { get; }
    public string Description { get; }
    /// <summary>Optimization steps by default.</summary>
    public int Steps { get; init; }
    internal DeepVisSettings? DeepVis { get; init; }
    internal LucidSettings? Lucid { get; init; }
    public bool IsLucid => Lucid is not null;
}

/// <summary>
/// The built-in presets (see docs/deepvis.md): each is a list of regularizer, transform and penalty
/// objects with their hyperparameters. A new regularizer is one class and one entry here.
/// </summary>
public static class VisualizationPresets
{
    /// <summary>RMS change of the image per step (pixel values, 0–255 scale) of the DeepVis presets.</summary>
    public const float DefaultStep = 2f;

    /// <summary>One row of Table 1 of Yosinski et al. 2015: θ_decay, θ_b_width, θ_b_every, θ_n_pct, θ_c_pct.</summary>
    private static DeepVisSettings Table1(float decay, float blurWidth, int blurEvery, float normPct, float contributionPct, float step = DefaultStep) => new()
    {
        Regularizers = [new Decay(decay), new PeriodicBlur(blurEvery, blurWidth), new NormClip(normPct), new ContributionClip(contributionPct)],
        Policy = LearningRatePolicy.Normalized,
        LearningRate = step,
    };

    /// <summary>
    /// Table 1 row 1: θ_decay 0, θ_b_width 0.5, θ_b_every 4, θ_n_pct 50, θ_c_pct 0; 500 iterations (the
    /// authors' toolbox). The step is <see cref="LearningRatePolicy.Normalized"/> (see <see cref="DefaultStep"/>):
    /// the toolbox's η values are in CaffeNet's gradient units.
    /// </summary>
    public static VisualizationPreset Yosinski1 { get; } = new("deepvis-1", "Yosinski et al. 2015 Table 1 row 1: blur 0.5 every 4, clear pixels below the 50th norm percentile", 500,
        Table1(decay: 0f, blurWidth: 0.5f, blurEvery: 4, normPct: 50f, contributionPct: 0f));

    /// <summary>Row 2: θ_decay 0.3, no blur, θ_n_pct 20; 750 iterations. A larger step (10 px) because the decay keeps only the last few steps.</summary>
    public static VisualizationPreset Yosinski2 { get; } = new("deepvis-2", "Yosinski et al. 2015 Table 1 row 2: decay 0.3, clear pixels below the 20th norm percentile", 750,
        Table1(decay: 0.3f, blurWidth: 0f, blurEvery: 0, normPct: 20f, contributionPct: 0f, step: 10f));

    /// <summary>Row 3: θ_decay 0.0001, θ_b_width 1.0, θ_b_every 4; 1000 iterations — the set used for most of the paper's images.</summary>
    public static VisualizationPreset Yosinski3 { get; } = new("deepvis-3", "Yosinski et al. 2015 Table 1 row 3: decay 0.0001, blur 1.0 every 4 (most of the paper's images)", 1000,
        Table1(decay: 0.0001f, blurWidth: 1.0f, blurEvery: 4, normPct: 0f, contributionPct: 0f));

    /// <summary>Row 4: θ_decay 0, θ_b_width 0.5, θ_b_every 4, θ_c_pct 90; 1000 iterations.</summary>
    public static VisualizationPreset Yosinski4 { get; } = new("deepvis-4", "Yosinski et al. 2015 Table 1 row 4: blur 0.5 every 4, clear pixels below the 90th contribution percentile", 1000,
        Table1(decay: 0f, blurWidth: 0.5f, blurEvery: 4, normPct: 0f, contributionPct: 90f));

    /// <summary>The default: row 3's regularizers with the normalized step of <see cref="DefaultStep"/> pixel values per step, 256 steps.</summary>
    public static VisualizationPreset DeepVis { get; } = new("deepvis", "default: Table 1 row 3 (decay 0.0001, blur 1.0 every 4), normalized step, 256 steps", 256,
        Table1(decay: 0.0001f, blurWidth: 1.0f, blurEvery: 4, normPct: 0f, contributionPct: 0f));

    /// <summary>
    /// Olah et al. 2017: decorrelated Fourier parameterization, Adam 0.05, pad 12 → jitter 8 → scale
    /// 0.9–1.1 → rotate ±10° → jitter 4; TV (β 1) and L6 penalties present but off (weights: --tv, --lp).
    /// </summary>
    public static VisualizationPreset Lucid { get; } = new("lucid", "Olah et al. 2017: decorrelated Fourier image, Adam 0.05, pad/jitter/scale/rotate each step (TV and L6 penalties: tv, lp)", 512,
        Lucid: new LucidSettings
        {
            Transforms = [new Pad(12), new Jitter(8), new RandomScale(Enumerable.Range(0, 11).Select(i => 1f + (i - 5) / 50f).ToArray()), new RandomRotation(10), new Jitter(4)],
            Penalties = [new TotalVariationPenalty(0f, Beta: 1f), new LpPenalty(0f, Power: 6f)],
        });

    /// <summary>Unregularized gradient ascent (adversarial-looking patterns; for comparison).</summary>
    public static VisualizationPreset Plain { get; } = new("plain", "unregularized gradient ascent, normalized step (for comparison)", 256,
        Table1(decay: 0f, blurWidth: 0f, blurEvery: 0, normPct: 0f, contributionPct: 0f));

    public static VisualizationPreset Default => DeepVis;

    public static IReadOnlyList<VisualizationPreset> All { get; } =
    [
        DeepVis, Yosinski1, Yosinski2, Yosinski3, Yosinski4, Lucid, Plain,
        new("lucid-l1", "lucid plus an L1 penalty pulling pixels to mid-gray (weight 2: sparser colour)", 512, Lucid: Lucid.Lucid! with { Penalties = [.. Lucid.Lucid!.Penalties, new L1Penalty(2f)] }),
    ];

    public static VisualizationPreset Get(string name)
    {
        var p = All.FirstOrDefault(x => string.Equals(x.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return p ?? throw new SalientException($"unknown preset '{name}'; presets: {string.Join(", ", All.Select(x => x.Name))}");
    }

    /// <summary>
    /// The preset with the weights of its total-variation and Lp penalties replaced (null: keep; a
    /// lucid preset without such a penalty gets one with the lucid defaults β 1, p 6).
    /// </summary>
    public static VisualizationPreset WithPenaltyWeights(VisualizationPreset preset, float? tv, float? lp)
    {
        if (preset.Lucid is not { } lucid) throw new SalientException("the `tv` option and the `lp` option apply to the lucid preset");
        if (tv is < 0 || lp is < 0) throw new SalientException("the `tv` option and the `lp` option must not be negative");
        var penalties = lucid.Penalties.ToList();
        if (tv is { } t) Replace(penalties, new TotalVariationPenalty(t), p => p is TotalVariationPenalty v ? v with { Weight = t } : null);
        if (lp is { } l) Replace(penalties, new LpPenalty(l), p => p is LpPenalty v ? v with { Weight = l } : null);
        return preset with { Lucid = lucid with { Penalties = penalties } };
    }

    private static void Replace(List<IPenalty> list, IPenalty fallback, Func<IPenalty, IPenalty?> update)
    {
        int i = list.FindIndex(p => update(p) is not null);
        if (i >= 0) list[i] = update(list[i])!;
        else list.Add(fallback);
    }
}
