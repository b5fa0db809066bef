namespace Salient.Methods;

/// <summary>Saliency (Simonyan et al. 2014): max over channels of |∂y^c/∂x|.</summary>
internal sealed class Saliency : InputGradientMethod
{
    public override string Name => "saliency";
    public override string Summary => "vanilla gradient saliency: max_c |∂y^c/∂x| (Simonyan et al. 2014)";
    protected override (float[] Map, float[] Channels) Reduce(float[] x, float[] g, int c, int plane) => (MaxAbsOverChannels(g, c, plane), g);
}
