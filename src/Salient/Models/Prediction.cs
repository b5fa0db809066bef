namespace Salient.Models;

/// <summary>One class of a top-k prediction.</summary>
public sealed record Prediction(int ClassIndex, string Label, float Logit, float Probability);
