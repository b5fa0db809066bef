using Salient.Models;

namespace Salient.Autodiff;

/// <summary>The gradient engine as a part of a loaded model (created on first use, disposed with the model).</summary>
public static class ModelGradients
{
    extension(SalientModel model)
    {
        /// <summary>The gradient engine of this model (backward graphs built on demand and cached).</summary>
        public GradientEngine Gradients => model.Part(m => new GradientEngine(m) { Lease = m.Enter });
    }
}
