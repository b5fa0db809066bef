namespace Salient.Visualization;

/// <summary>How the step size of plain gradient ascent is chosen.</summary>
public enum LearningRatePolicy
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
/// Gradient ascent in pixel space with the four regularizers of Yosinski et al. 2015, "Understanding
/// Neural Networks Through Deep Visualization": x ← r_θ(x + η·∂a/∂x), where x is the image minus
/// the model's neutral colour, in 0–255 pixel units, and r_θ applies L2 decay, a Gaussian blur every
/// <see cref="BlurEvery"/> steps, and clears pixels of small norm and of small contribution.
/// </summary>
public sealed record DeepVisSettings
{
    /// <summary>θ_decay: x ← (1 − θ_decay)·x each step.</summary>
    public float Decay { get; init; }
    /// <summary>θ_b_every: blur every this many steps (0: never).</summary>
    public int BlurEvery { get; init; }
    /// <summary>θ_b_width: standard deviation of the Gaussian blur, in pixels.</summary>
    public float BlurWidth { get; init; }
    /// <summary>θ_n_pct: pixels whose norm is below this percentile are set to the neutral colour (0: off).</summary>
    public float NormPercentile { get; init; }
    /// <summary>θ_c_pct: pixels whose contribution |Σ_c x·∂a/∂x| is below this percentile are set to the neutral colour (0: off).</summary>
    public float ContributionPercentile { get; init; }
    public LearningRatePolicy Policy { get; init; } = LearningRatePolicy.Constant;
    /// <summary>η for <see cref="LearningRatePolicy.Constant"/>, η_max for <see cref="LearningRatePolicy.Progress"/>.</summary>
    public float LearningRate { get; init; } = 100f;
    /// <summary>Δ of the progress policy: the objective gain aimed at per step.</summary>
    public float DesiredProgress { get; init; } = 2f;
    /// <summary>Random shift of the whole image by up to this many pixels each step (0: none; not part of the 2015 recipe).</summary>
    public int Jitter { get; init; }
    /// <summary>Standard deviation (pixels) of the Gaussian noise the image starts from, around the neutral colour.</summary>
    public float StartNoise { get; init; } = 10f;

    public override string ToString()
    {
        var lr = Policy switch
        {
            LearningRatePolicy.Constant => FormattableString.Invariant($"lr {LearningRate}"),
            LearningRatePolicy.Normalized => FormattableString.Invariant($"normalized step {LearningRate} px"),
            _ => FormattableString.Invariant($"progress Δ {DesiredProgress} (lr ≤ {LearningRate})"),
        };
        return FormattableString.Invariant(
            $"decay {Decay}, blur σ {BlurWidth} every {BlurEvery}, norm pct {NormPercentile}, contribution pct {ContributionPercentile}, {lr}") +
            (Jitter > 0 ? FormattableString.Invariant($", jitter {Jitter}") : "");
    }
}

/// <summary>
/// The transformation-robustness recipe of Olah et al. 2017 ("Feature Visualization", Distill):
/// a decorrelated Fourier image parameterization optimized with Adam, with random jitter, scale and
/// rotation each step (pad → jitter → scale → rotate → jitter, composed into one bilinear resampling)
/// and optional total-variation and Lp penalties on the [0, 1] image.
/// </summary>
public sealed record LucidSettings
{
    public float LearningRate { get; init; } = 0.05f;
    /// <summary>Gray padding around the image before the random transforms, pixels.</summary>
    public int Pad { get; init; } = 12;
    /// <summary>First random translation, up to ±Jitter/2 pixels (lucid's jitter(8)).</summary>
    public int Jitter { get; init; } = 8;
    /// <summary>Random scale factors, one drawn per step.</summary>
    public IReadOnlyList<float> Scales { get; init; } = Enumerable.Range(0, 11).Select(i => 1f + (i - 5) / 50f).ToArray();
    /// <summary>Random rotation, whole degrees in [−MaxRotation, MaxRotation].</summary>
    public int MaxRotation { get; init; } = 10;
    /// <summary>Second random translation after scale and rotation (lucid's jitter(4)).</summary>
    public int FinalJitter { get; init; } = 4;
    /// <summary>
    /// Weight of the total-variation penalty (β = <see cref="TvBeta"/>) on the [0, 1] image, a per-pixel
    /// mean in objective units; off by default (as in Lucid's standard recipe) because it must match the
    /// objective's scale: ~300 suits class logits, a channel mean of ~1 needs ~100× less.
    /// </summary>
    public float TvWeight { get; init; }
    public float TvBeta { get; init; } = 1f;
    /// <summary>Weight of the Lp penalty mean |x − ½|^p on the [0, 1] image (discourages saturated pixels); off by default, see <see cref="TvWeight"/>.</summary>
    public float LpWeight { get; init; }
    public float LpPower { get; init; } = 6f;
    /// <summary>Exponent of the 1/|f| frequency scaling.</summary>
    public float FourierDecay { get; init; } = 1f;
    /// <summary>Multiplier of the inverse DFT (controls how far one Adam step moves the image).</summary>
    public float Amplitude { get; init; } = 0.25f;
    public bool Decorrelate { get; init; } = true;
    /// <summary>Standard deviation of the initial Fourier coefficients.</summary>
    public float StartNoise { get; init; } = 0.01f;

    public override string ToString() => FormattableString.Invariant(
        $"Adam lr {LearningRate}, pad {Pad}, jitter {Jitter}+{FinalJitter}, scale {Scales.Min()}–{Scales.Max()}, rotate ±{MaxRotation}°, TV {TvWeight}, L{LpPower} {LpWeight}, 1/f^{FourierDecay}, {(Decorrelate ? "decorrelated" : "RGB")}");
}

/// <summary>A named recipe: the number of steps and either DeepVis or lucid settings.</summary>
public sealed record VisualizationPreset(string Name, string Description, int Steps, DeepVisSettings? DeepVis = null, LucidSettings? Lucid = null)
{
    public bool IsLucid => Lucid is not null;
}

/// <summary>The built-in presets (see docs/deepvis.md).</summary>
public static class VisualizationPresets
{
    /// <summary>
    /// Table 1 of Yosinski et al. 2015, row 1: θ_decay 0, θ_b_width 0.5, θ_b_every 4, θ_n_pct 50,
    /// θ_c_pct 0; 500 iterations (the authors' toolbox). The step is <see cref="LearningRatePolicy.Normalized"/>
    /// (see <see cref="DefaultStep"/>): the toolbox's η values are in CaffeNet's gradient units.
    /// </summary>
    public static VisualizationPreset Yosinski1 { get; } = new("deepvis-1", "Yosinski et al. 2015 Table 1 row 1: blur 0.5 every 4, clear pixels below the 50th norm percentile", 500,
        new DeepVisSettings { Decay = 0f, BlurWidth = 0.5f, BlurEvery = 4, NormPercentile = 50f, Policy = LearningRatePolicy.Normalized, LearningRate = DefaultStep });

    /// <summary>Row 2: θ_decay 0.3, no blur, θ_n_pct 20; 750 iterations. A larger step (10 px) because the decay keeps only the last few steps.</summary>
    public static VisualizationPreset Yosinski2 { get; } = new("deepvis-2", "Yosinski et al. 2015 Table 1 row 2: decay 0.3, clear pixels below the 20th norm percentile", 750,
        new DeepVisSettings { Decay = 0.3f, BlurWidth = 0f, BlurEvery = 0, NormPercentile = 20f, Policy = LearningRatePolicy.Normalized, LearningRate = 10f });

    /// <summary>Row 3: θ_decay 0.0001, θ_b_width 1.0, θ_b_every 4; 1000 iterations — the set used for most of the paper's images.</summary>
    public static VisualizationPreset Yosinski3 { get; } = new("deepvis-3", "Yosinski et al. 2015 Table 1 row 3: decay 0.0001, blur 1.0 every 4 (most of the paper's images)", 1000,
        new DeepVisSettings { Decay = 0.0001f, BlurWidth = 1.0f, BlurEvery = 4, Policy = LearningRatePolicy.Normalized, LearningRate = DefaultStep });

    /// <summary>Row 4: θ_decay 0, θ_b_width 0.5, θ_b_every 4, θ_c_pct 90; 1000 iterations.</summary>
    public static VisualizationPreset Yosinski4 { get; } = new("deepvis-4", "Yosinski et al. 2015 Table 1 row 4: blur 0.5 every 4, clear pixels below the 90th contribution percentile", 1000,
        new DeepVisSettings { Decay = 0f, BlurWidth = 0.5f, BlurEvery = 4, ContributionPercentile = 90f, Policy = LearningRatePolicy.Normalized, LearningRate = DefaultStep });

    /// <summary>
    /// The default: row 3's regularizers (decay 0.0001, blur σ 1.0 every 4 steps) with the normalized
    /// step of <see cref="DefaultStep"/> pixel values per step, 256 steps.
    /// </summary>
    public static VisualizationPreset DeepVis { get; } = new("deepvis", "default: Table 1 row 3 (decay 0.0001, blur 1.0 every 4), normalized step, 256 steps", 256,
        new DeepVisSettings { Decay = 0.0001f, BlurWidth = 1.0f, BlurEvery = 4, Policy = LearningRatePolicy.Normalized, LearningRate = DefaultStep });

    /// <summary>RMS change of the image per step (pixel values, 0–255 scale) of the DeepVis presets.</summary>
    public const float DefaultStep = 2f;

    /// <summary>Olah et al. 2017: decorrelated Fourier parameterization, Adam, jitter / scale / rotation.</summary>
    public static VisualizationPreset Lucid { get; } = new("lucid", "Olah et al. 2017: decorrelated Fourier image, Adam 0.05, pad/jitter/scale/rotate each step (TV and L6 penalties: --tv, --lp)", 512,
        Lucid: new LucidSettings());

    /// <summary>Unregularized gradient ascent (adversarial-looking patterns; for comparison).</summary>
    public static VisualizationPreset Plain { get; } = new("plain", "unregularized gradient ascent, normalized step (for comparison)", 256,
        new DeepVisSettings { Policy = LearningRatePolicy.Normalized, LearningRate = DefaultStep });

    public static VisualizationPreset Default => DeepVis;

    public static IReadOnlyList<VisualizationPreset> All { get; } = [DeepVis, Yosinski1, Yosinski2, Yosinski3, Yosinski4, Lucid, Plain];

    public static VisualizationPreset Get(string name)
    {
        var p = All.FirstOrDefault(x => string.Equals(x.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return p ?? throw new SalientException($"unknown preset '{name}'; presets: {string.Join(", ", All.Select(x => x.Name))}");
    }
}
