using System.Runtime.CompilerServices;

namespace Salient.Visualization;

/// <summary>Adam (Kingma &amp; Ba 2015) for maximization, on a set of parameter arrays.</summary>
internal sealed class Adam
{
    private readonly float[][] _params;
    private readonly float[][] _m;
    private readonly float[][] _v;
    private int _t;

    public Adam(float[][] parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        _params = parameters;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _m = parameters.Select(p => new float[p.Length]).ToArray();
        _v = parameters.Select(p => new float[p.Length]).ToArray();
    }

    public float LearningRate { get; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }

    /// <summary>One step up the gradient (parameters += lr·m̂/(√v̂ + ε)).</summary>
    public void Ascend(float[][] gradients)
    {
        _t++;
        float c1 = 1f - MathF.Pow(Beta1, _t), c2 = 1f - MathF.Pow(Beta2, _t);
        Parallel.For(0, _params.Length, j => Update(j, gradients[j], c1, c2));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Update(int j, float[] g, float c1, float c2)
    {
        var p = _params[j];
        var m = _m[j];
        var v = _v[j];
        float b1 = Beta1, b2 = Beta2, lr = LearningRate, eps = Epsilon;
        float s1 = lr / c1, s2 = 1f / c2;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            var vb1 = new System.Numerics.Vector<float>(b1);
            var vb2 = new System.Numerics.Vector<float>(b2);
            var va1 = new System.Numerics.Vector<float>(1 - b1);
            var va2 = new System.Numerics.Vector<float>(1 - b2);
            var vs1 = new System.Numerics.Vector<float>(s1);
            var vs2 = new System.Numerics.Vector<float>(s2);
            var veps = new System.Numerics.Vector<float>(eps);
            for (; i <= p.Length - width; i += width)
            {
                var gv = new System.Numerics.Vector<float>(g, i);
                var mv = vb1 * new System.Numerics.Vector<float>(m, i) + va1 * gv;
                var vv = vb2 * new System.Numerics.Vector<float>(v, i) + va2 * gv * gv;
                mv.CopyTo(m, i);
                vv.CopyTo(v, i);
                var pv = new System.Numerics.Vector<float>(p, i) + vs1 * mv / (System.Numerics.Vector.SquareRoot(vv * vs2) + veps);
                pv.CopyTo(p, i);
            }
        }
        for (; i < p.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] += s1 * m[i] / (MathF.Sqrt(v[i] * s2) + eps);
        }
    }
}
