"""Derives the README's target examples from the real ImageNet MobileNetV2 (../shared/models/mobilenetv2-fp32.onnx)
by ONNX graph surgery, into examples/models/ (git-ignored; about 14 MB each):

  mobilenetv2-seg.onnx        fully convolutional: features.18 [N,1280,7,7] -> 1x1 Conv with the classifier's
                              weights and bias -> [N,1000,7,7] -> Resize (linear, half-pixel) to the input size
                              -> "scores" [N,1000,224,224]. Since GAP and the linear head commute, the mean of
                              each class plane is exactly the original logit; every pixel says how much the
                              region around it votes for the class (segmentation:C works on it).
  mobilenetv2-embed.onnx      the pooled features: "embedding" [N,1280] (similarity:IMAGE works on it).
  mobilenetv2-multilabel.onnx Sigmoid appended to the logits: "probs" [N,1000] (sigmoid:C works on it).

The classifiers get a copy of imagenet_classes.txt as MODEL.labels.txt. Usage (from the repository root):
  /usr/bin/python3 tools/make_target_examples.py [../shared/models/mobilenetv2-fp32.onnx] [examples/models]
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/models/mobilenetv2-fp32.onnx"
out = sys.argv[2] if len(sys.argv) > 2 else "examples/models"
os.makedirs(out, exist_ok=True)
labels = os.path.join(os.path.dirname(src), "imagenet_classes.txt")


def load():
    m = onnx.load(src)
    g = m.graph
    names = [n.op_type for n in g.node[-3:]]
    assert names == ["GlobalAveragePool", "Flatten", "Gemm"], names
    return m


def drop_tail(g, count):
    for n in list(g.node[-count:]):
        g.node.remove(n)
    while len(g.output):
        g.output.pop()


def init(g, name):
    return next(i for i in g.initializer if i.name == name)


def save(m, name, with_labels=True):
    used = {i for n in m.graph.node for i in n.input}
    for t in [t for t in m.graph.initializer if t.name not in used]:
        m.graph.initializer.remove(t)
    onnx.checker.check_model(m)
    path = os.path.join(out, name + ".onnx")
    onnx.save(m, path)
    if with_labels and os.path.exists(labels):
        shutil.copyfile(labels, os.path.join(out, name + ".labels.txt"))
    print("wrote", path)


# (a) segmentation
m = load()
g = m.graph
gemm = g.node[-1]
w = numpy_helper.to_array(init(g, gemm.input[1]))
b = numpy_helper.to_array(init(g, gemm.input[2]))
features = g.node[-3].input[0]
drop_tail(g, 3)
g.initializer.append(numpy_helper.from_array(w.reshape(w.shape[0], w.shape[1], 1, 1).astype(np.float32), "head.weight"))
g.initializer.append(numpy_helper.from_array(b.astype(np.float32), "head.bias"))
g.node.append(helper.make_node("Conv", [features, "head.weight", "head.bias"], ["scores_7x7"], name="head_conv", kernel_shape=[1, 1]))
g.initializer.append(numpy_helper.from_array(np.array([1, 1, 32, 32], dtype=np.float32), "up_scales"))
g.node.append(helper.make_node("Resize", ["scores_7x7", "", "up_scales"], ["scores"], name="upsample", mode="linear",
                               coordinate_transformation_mode="half_pixel"))
g.output.append(helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 1000, 224, 224]))
save(m, "mobilenetv2-seg")

# (b) embedding
m = load()
g = m.graph
flatten = g.node[-2].output[0]
g.node.remove(g.node[-1])
while len(g.output):
    g.output.pop()
g.node.append(helper.make_node("Identity", [flatten], ["embedding"], name="embedding"))
g.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 1280]))
save(m, "mobilenetv2-embed", with_labels=False)

# (c) multi-label
m = load()
g = m.graph
logits = g.output[0].name
while len(g.output):
    g.output.pop()
g.node.append(helper.make_node("Sigmoid", [logits], ["probs"], name="sigmoid"))
g.output.append(helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 1000]))
save(m, "mobilenetv2-multilabel")
