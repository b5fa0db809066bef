namespace Salient.Methods;

/// <summary>Guided backpropagation (Springenberg et al. 2015): the input gradient with the guided ReLU rule.</summary>
internal sealed class GuidedBackprop : InputGradientMethod
{
    public override string Name => "guidedbackprop";
    public override string Summary => "guided backpropagation: input gradient passing only positive signals through ReLUs (Springenberg et al. 2015)";
    public override bool ImageValued => true;
    protected override ChoiceParameter ReluParameter => CommonParameters.GuidedRelu;
    protected override (float[] Map, float[] Channels) Reduce(float[] x, float[] g, int c, int plane) => (MaxAbsOverChannels(g, c, plane), g);
}
