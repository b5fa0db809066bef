using System.Reflection;
using Salient.Models;

namespace Salient.Autodiff;

/// <summary>
/// How gradients pass backwards through ReLU-like ops (Relu, Clip with min 0 such as ReLU6,
/// LeakyRelu, PRelu). Each mode is one sealed subclass in <c>Autodiff/ReluModes/</c>; the
/// registry (<see cref="All"/>, <see cref="Parse"/>) finds them by reflection, and every ReLU-like
/// gradient rule calls the mode, so adding a mode is adding one file. See docs/autodiff.md.
/// </summary>
public abstract class ReluMode
{
    private protected ReluMode() { }

    /// <summary>The mode's name as typed on the command line (lower case, e.g. "guided").</summary>
    public abstract string Name { get; }

    /// <summary>One line: the rule and where it comes from.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Emits the backward of one ReLU-like node and returns the gradient of its input. The site
    /// gives the incoming gradient, the op's local derivative (pass region, negative-side slope)
    /// and helpers; forward values are only requested when the mode asks for them.
    /// </summary>
    internal abstract string Backward(ReluSite site);

    /// <summary>The true derivative (the default).</summary>
    public static ReluMode Standard => Registry.Of<StandardReluMode>();
    /// <summary>Guided backprop (Springenberg et al. 2015).</summary>
    public static ReluMode Guided => Registry.Of<GuidedReluMode>();
    /// <summary>Deconvnet (Zeiler &amp; Fergus 2014).</summary>
    public static ReluMode Deconvnet => Registry.Of<DeconvnetReluMode>();

    /// <summary>Every mode in the library, by name (ordinal order).</summary>
    public static IReadOnlyList<ReluMode> All => Registry.Modes;

    /// <summary>
    /// The mode named <paramref name="name"/> (case-insensitive), <paramref name="fallback"/> when it
    /// is null or empty; a <see cref="SalientException"/> listing the valid names (and the closest
    /// one, for a typo) otherwise.
    /// </summary>
    public static ReluMode Parse(string? name, ReluMode fallback)
    {
        if (string.IsNullOrWhiteSpace(name)) return fallback;
        string key = name.Trim();
        foreach (var m in All)
            if (string.Equals(m.Name, key, StringComparison.OrdinalIgnoreCase)) return m;
        var names = All.Select(m => m.Name).ToList();
        var closest = Names.Suggest(key, names);
        throw new SalientException($"relu mode '{name}' is unknown" + (closest is null ? "" : $" (did you mean '{closest}'?)") +
            $"; valid modes: {string.Join(", ", names)}");
    }

    public override string ToString() => Name;

    private static class Registry
    {
        public static readonly IReadOnlyList<ReluMode> Modes = Discover();

        public static ReluMode Of<T>() where T : ReluMode => Modes.OfType<T>().Single();

        private static ReluMode[] Discover()
        {
            var modes = typeof(ReluMode).Assembly.GetTypes()
                .Where(t => t.IsSubclassOf(typeof(ReluMode)) && !t.IsAbstract)
                .Select(t => (ReluMode)Activator.CreateInstance(t, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, null, null)!)
                .OrderBy(m => m.Name, StringComparer.Ordinal)
                .ToArray();
            foreach (var m in modes)
                if (string.IsNullOrEmpty(m.Name) || m.Name != m.Name.ToLowerInvariant())
                    throw new InvalidOperationException($"relu mode {m.GetType().Name} needs a non-empty lower-case name");
            foreach (var dup in modes.GroupBy(m => m.Name).Where(g => g.Count() > 1))
                throw new InvalidOperationException($"two relu modes named '{dup.Key}'");
            return modes;
        }
    }
}

/// <summary>
/// One ReLU-like node as a <see cref="ReluMode"/> sees it. Its local derivative is
/// d(x) = 1 where the op passes (x &gt; 0; 0 &lt; y &lt; max for Clip) and the negative-side slope
/// elsewhere (0 for Relu and Clip, alpha for LeakyRelu, the slope tensor for PRelu).
/// </summary>
internal sealed class ReluSite
{
    private readonly Func<string> _passMask;
    private readonly Func<string, string>? _negativeSide;

    /// <param name="context">the rule's context (emission helpers).</param>
    /// <param name="g">the gradient arriving at the op's output.</param>
    /// <param name="passMask">builds the bool mask of the pass region (called only when a mode needs it; it may request forward values).</param>
    /// <param name="negativeSide">g ↦ g · slope outside the pass region; null when the slope there is 0.</param>
    internal ReluSite(RuleContext context, string g, Func<string> passMask, Func<string, string>? negativeSide)
    {
        Context = context;
        G = g;
        _passMask = passMask;
        _negativeSide = negativeSide;
    }

    public RuleContext Context { get; }

    /// <summary>The gradient arriving at the op's output.</summary>
    public string G { get; }

    /// <summary>True for LeakyRelu/PRelu (a non-zero slope outside the pass region).</summary>
    public bool HasNegativeSlope => _negativeSide is not null;

    /// <summary>g · d(x): the true chain rule applied to <paramref name="g"/>.</summary>
    public string TimesDerivative(string g) =>
        _negativeSide is null ? Context.Mask(_passMask(), g) : Context.Op("Where", _passMask(), g, _negativeSide(g));

    /// <summary>max(g, 0).</summary>
    public string PositivePart(string g) => Context.Op("Relu", g);
}
