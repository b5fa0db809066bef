namespace Salient.Methods;

/// <summary>Input × gradient (Shrikumar et al. 2016): x ⊙ ∂y^c/∂x; map Σ_c |x_c g_c|.</summary>
internal sealed class InputXGradient : InputGradientMethod
{
    public override string Name => "inputxgradient";
    public override string Summary => "input × gradient: x ⊙ ∂y^c/∂x (Shrikumar et al. 2016)";

    protected override (float[] Map, float[] Channels) Reduce(float[] x, float[] g, int c, int plane)
    {
        var prod = new float[x.Length];
        for (int j = 0; j < x.Length; j++) prod[j] = x[j] * g[j];
        return (SumAbsOverChannels(prod, c, plane), prod);
    }
}
