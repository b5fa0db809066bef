using Salient.Imaging;
using Salient.Models;
using Salient.Runtime;

namespace Salient.Methods;

/// <summary>Everything a method needs for one batch: model, target layer, inputs, classes, a forward-run cache.</summary>
public sealed class MethodContext
{
    private readonly Dictionary<string, TensorValue> _forward;

    public MethodContext(SalientModel model, ModelStructure structure, LayerInfo? layer, IReadOnlyList<PreparedInput> items,
        IReadOnlyList<int[]> classes, IReadOnlyDictionary<string, string> parameters, Dictionary<string, TensorValue> forward)
    {
        Model = model;
        Structure = structure;
        Layer = layer;
        Items = items;
        Classes = classes;
        Parameters = parameters;
        _forward = forward;
    }

    public SalientModel Model { get; }
    public ModelStructure Structure { get; }
    public LayerInfo? Layer { get; }
    public IReadOnlyList<PreparedInput> Items { get; }
    /// <summary>Classes to explain, per item.</summary>
    public IReadOnlyList<int[]> Classes { get; }
    public IReadOnlyDictionary<string, string> Parameters { get; }
    /// <summary>The target layer names of the request (pixel-space methods that combine with a CAM, e.g. guided Grad-CAM, use them).</summary>
    public IReadOnlyList<string> RequestedLayers { get; init; } = ["auto"];

    /// <summary>
    /// The pipeline's forward pass when it ran a method's <see cref="IExplanationMethod.SharedForwardRequest"/>
    /// program on these items (its backward can run without another forward); null otherwise.
    /// </summary>
    public Autodiff.ForwardPass? Pass { get; init; }

    /// <summary>Forward-pass tensors (cached: tensors already fetched are not recomputed).</summary>
    public TensorValue Forward(string tensor)
    {
        lock (_forward)
        {
            if (!_forward.TryGetValue(tensor, out var v))
            {
                foreach (var kv in Model.Run(Items, tensor)) _forward.TryAdd(kv.Key, kv.Value);
                v = _forward[tensor];
            }
            return v;
        }
    }

    /// <summary>Fetches every tensor not yet cached in one forward run.</summary>
    public void Prefetch(IEnumerable<string> tensors)
    {
        lock (_forward)
        {
            var missing = tensors.Where(t => !_forward.ContainsKey(t)).Distinct().ToArray();
            if (missing.Length == 0) return;
            foreach (var kv in Model.Run(Items, missing)) _forward.TryAdd(kv.Key, kv.Value);
        }
    }

    public LayerInfo RequireLayer(string method) =>
        Layer ?? throw new SalientException($"method '{method}' needs a target layer");

    /// <summary>The target layer's activation of one item as a C×H×W array (whatever the tensor's layout).</summary>
    public Activation LayerActivation(int item) => Activation.FromTensor(Forward(RequireLayer("this").Name), item, Layer!.Layout ?? TensorLayout.Nchw);

    public float Logit(int item, int cls) => Forward(Structure.LogitsName).Data[item * Structure.ClassCount + cls];

    public string? Parameter(string name) => Parameters.TryGetValue(name, out var v) ? v : null;
}

/// <summary>One item's activation of a 4-D layer, as C×H×W. Read-only: it may share the tensor's array.</summary>
public sealed record Activation(float[] Data, int C, int H, int W)
{
    public int Plane => H * W;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Activation FromTensor(TensorValue t, int item, TensorLayout layout)
    {
        if (t.Shape.Length != 4) throw new SalientException($"layer '{t.Name}' has shape [{string.Join(",", t.Shape)}]; CAM methods need a 4-D spatial layer");
        if (layout == TensorLayout.Nchw)
        {
            int c = (int)t.Shape[1], h = (int)t.Shape[2], w = (int)t.Shape[3];
            if (item == 0 && t.Shape[0] == 1 && t.Data.Length == c * h * w) return new Activation(t.Data, c, h, w);   // one item: share, no copy
            var d = new float[c * h * w];
            Array.Copy(t.Data, (long)item * d.Length, d, 0, d.Length);
            return new Activation(d, c, h, w);
        }
        else
        {
            int h = (int)t.Shape[1], w = (int)t.Shape[2], c = (int)t.Shape[3];
            var d = new float[c * h * w];
            long off = (long)item * d.Length;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int k = 0; k < c; k++)
                        d[(k * h + y) * w + x] = t.Data[off + (y * w + x) * c + k];
            return new Activation(d, c, h, w);
        }
    }
}
