using Salient.Onnx;
using Salient.Onnx.Proto;

namespace Salient.Export;

/// <summary>
/// <c>--dynamic-batch</c>: the batch-1 export wrapped in a Loop over the items of any batch. The
/// backward program is built for fixed shapes (its Reshape targets and constants carry the batch), so
/// instead of rewriting every shape the body runs the batch-1 graph on item i (Slice of the image and of
/// <c>class</c>) and the Loop stacks the per-item outputs. The weights stay in the outer graph (the body
/// reads them from the enclosing scope). Costs one batch-1 pass per item — no batching gain.
/// </summary>
internal static class DynamicBatch
{
    public static Graph Wrap(Graph single, string input, DataType inputType, long[] itemShape, long[] logitsAtBatch1)
    {
        var outer = new Graph { IrVersion = single.IrVersion, Name = single.Name + "_dynamic_batch", ProducerName = single.ProducerName };
        foreach (var kv in single.Opsets) outer.Opsets[kv.Key] = kv.Value;
        foreach (var kv in single.Initializers) outer.Initializers[kv.Key] = kv.Value;
        var taken = new HashSet<string>(single.Initializers.Keys.Concat(single.Nodes.SelectMany(n => n.Outputs)).Concat(single.Nodes.SelectMany(n => n.Inputs)), StringComparer.Ordinal);
        int counter = 0;
        string Fresh(string hint)
        {
            string name;
            do name = $"db{counter++}_{hint}"; while (!taken.Add(name));
            return name;
        }
        string Ints(Graph g, long[] v)
        {
            string name = Fresh("const");
            outer.Initializers[name] = Tensor.FromInt64s(name, [v.Length], v);
            return name;
        }

        // The outer inputs: the image and the classes with a symbolic batch N.
        string image = Fresh(input), classes = Fresh(ExplanationExport.ClassInput);
        outer.Inputs.Add(new ValueInfo(input, inputType, [Dim.Dynamic("N"), .. itemShape.Skip(1).Select(Dim.Fixed)]));
        outer.Inputs.Add(new ValueInfo(ExplanationExport.ClassInput, DataType.Int64, [Dim.Dynamic("N")]));
        string shape = Fresh("shape"), count = Fresh("count");
        outer.Nodes.Add(new Node("Shape", [input], [shape], shape).Set("start", 0L).Set("end", 1L));
        outer.Nodes.Add(new Node("Squeeze", [shape, Ints(outer, [0])], [count], count));

        // The body: item i of the image and of `class` renamed to what the batch-1 graph reads.
        var body = new Graph { IrVersion = single.IrVersion, Name = "item" };
        string iter = Fresh("i"), condIn = Fresh("cond_in"), condOut = Fresh("cond_out");
        body.Inputs.Add(new ValueInfo(iter, DataType.Int64, []));
        body.Inputs.Add(new ValueInfo(condIn, DataType.Bool, []));
        string start = Fresh("start"), end = Fresh("end");
        body.Nodes.Add(new Node("Identity", [condIn], [condOut], condOut));
        body.Nodes.Add(new Node("Unsqueeze", [iter, Ints(outer, [0])], [start], start));
        body.Nodes.Add(new Node("Add", [start, Ints(outer, [1])], [end], end));
        string zeroAxis = Ints(outer, [0]);
        body.Nodes.Add(new Node("Slice", [input, start, end, zeroAxis], [image], image));
        body.Nodes.Add(new Node("Slice", [ExplanationExport.ClassInput, start, end, zeroAxis], [classes], classes));
        // The outer graph's output names must not be redefined inside the body: rename them there.
        string itemLogits = Fresh("logits"), itemMap = Fresh("map");
        var rename = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [input] = image, [ExplanationExport.ClassInput] = classes,
            [ExplanationExport.LogitsOutput] = itemLogits, [ExplanationExport.MapOutput] = itemMap,
        };
        foreach (var n in single.Nodes)
        {
            var c = n.Clone();
            for (int k = 0; k < c.Inputs.Count; k++) c.Inputs[k] = rename.GetValueOrDefault(c.Inputs[k], c.Inputs[k]);
            for (int k = 0; k < c.Outputs.Count; k++) c.Outputs[k] = rename.GetValueOrDefault(c.Outputs[k], c.Outputs[k]);
            body.Nodes.Add(c);
        }
        body.Outputs.Add(new ValueInfo(condOut, DataType.Bool, []));
        body.Outputs.Add(new ValueInfo(itemLogits, DataType.Float, null));
        body.Outputs.Add(new ValueInfo(itemMap, DataType.Float, null));

        var bodyProto = OnnxWriter.ToModelProto(body).Graph;
        var attribute = new AttributeProto { Name = "body", Type = AttributeProto.Types.AttributeType.Graph, G = bodyProto };
        string stackedLogits = Fresh("stacked_logits"), stackedMap = Fresh("stacked_map");
        var loop = new Node("Loop", [count, ""], [stackedLogits, stackedMap], Fresh("loop"));
        loop.Attributes["body"] = new NodeAttribute { Name = "body", Kind = AttributeKind.Other, Raw = attribute };
        outer.Nodes.Add(loop);

        // Stacked [N, 1, …] → [N, …] (logits that kept their batch axis at batch 1; maps always do).
        if (logitsAtBatch1.Length >= 2 && logitsAtBatch1[0] == 1)
            outer.Nodes.Add(new Node("Squeeze", [stackedLogits, Ints(outer, [1])], [ExplanationExport.LogitsOutput], ExplanationExport.LogitsOutput));
        else
            outer.Nodes.Add(new Node("Identity", [stackedLogits], [ExplanationExport.LogitsOutput], ExplanationExport.LogitsOutput));
        outer.Nodes.Add(new Node("Squeeze", [stackedMap, Ints(outer, [1])], [ExplanationExport.MapOutput], ExplanationExport.MapOutput));
        var mapShape = single.Outputs.Single(o => o.Name == ExplanationExport.MapOutput).Shape!;
        outer.Outputs.Add(new ValueInfo(ExplanationExport.LogitsOutput, DataType.Float, null));
        outer.Outputs.Add(new ValueInfo(ExplanationExport.MapOutput, DataType.Float, [Dim.Dynamic("N"), .. mapShape.Skip(1)]));
        return outer;
    }
}
