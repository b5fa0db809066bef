#!/usr/bin/env python3
"""Writes the small ONNX fixtures of the foundation tests into tests/Salient.Tests/Fixtures/models/.

Run with Debian's python3 (python3-torch, python3-torchvision, python3-onnx):
    /usr/bin/python3 tools/make_fixtures.py
Deterministic (fixed seeds). Random weights: the tests compare Salient against PyTorch on the same
weights, so trained weights are not needed.

Files:
  mnv3s_nchw.onnx   torchvision mobilenet_v3_small(width_mult=0.25, num_classes=10), input [N,3,H,W]
                    (dynamic batch and spatial size); head GAP -> Linear -> Hardswish -> Linear (not CAM-able)
  mnv3s_nhwc.onnx   the same weights with an NHWC input: x.permute(0,3,1,2) in front (what Keras/TF exports look like)
  mnv3s_expected.json  PyTorch logits of both exports for a fixed 64x64 input (input values in the JSON)
  mnv2_gap.onnx     torchvision mobilenet_v2(width_mult=0.25, num_classes=10): GAP -> Dropout -> Linear head (CAM-able),
                    with a sidecar mnv2_gap.onnx.json (raw preprocessing, stretch, 96x96, labels file, layer)
  mnv2_gap_labels.txt
  mnv2_gap_expected.json  PyTorch logits and CAM (Zhou) of class 3 at the last feature map for a fixed input
"""
import json, os, sys
import numpy as np
import torch, torch.nn as nn, torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'Salient.Tests', 'Fixtures', 'models')
os.makedirs(OUT, exist_ok=True)


def randomize_bn(model, seed):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def formula_input(shape):
    """x[i] = 0.9 * sin(0.37 * i) over the flattened NCHW tensor: reproducible in C# without storing it."""
    n = int(np.prod(shape))
    return torch.from_numpy((0.9 * np.sin(0.37 * np.arange(n, dtype=np.float64))).astype(np.float32).reshape(shape))


def export(model, x, path, dynamic_spatial, nhwc=False):
    axes = {'input': {0: 'N'}, 'logits': {0: 'N'}}
    if dynamic_spatial:
        axes['input'].update({1: 'H', 2: 'W'} if nhwc else {2: 'H', 3: 'W'})
    torch.onnx.export(model, x, path, input_names=['input'], output_names=['logits'], opset_version=13,
                      do_constant_folding=True, dynamic_axes=axes)


class Nhwc(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.permute(0, 3, 1, 2))


def main():
    torch.manual_seed(0)
    m = torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=10).eval()
    randomize_bn(m, 1)
    x = formula_input((1, 3, 64, 64))
    export(m, x, os.path.join(OUT, 'mnv3s_nchw.onnx'), True)
    xh = x.permute(0, 2, 3, 1).contiguous()
    export(Nhwc(m).eval(), xh, os.path.join(OUT, 'mnv3s_nhwc.onnx'), True, nhwc=True)
    with torch.no_grad():
        ref = {'input_nchw_shape': list(x.shape), 'input': 'x[i] = 0.9*sin(0.37*i), flattened NCHW, float32',
               'logits': [float(v) for v in m(x)[0]], 'logits_nhwc': [float(v) for v in Nhwc(m)(xh)[0]]}
    json.dump(ref, open(os.path.join(OUT, 'mnv3s_expected.json'), 'w'))

    torch.manual_seed(3)
    g = torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10).eval()
    randomize_bn(g, 4)
    x = formula_input((1, 3, 96, 96))
    export(g, x, os.path.join(OUT, 'mnv2_gap.onnx'), True)
    labels = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']
    open(os.path.join(OUT, 'mnv2_gap_labels.txt'), 'w').write('\n'.join(labels) + '\n')
    json.dump({'preprocess': 'raw', 'resize': 'stretch', 'size': [96, 96], 'labels': 'mnv2_gap_labels.txt'},
              open(os.path.join(OUT, 'mnv2_gap.onnx.json'), 'w'), indent=1)
    feats = {}
    g.features.register_forward_hook(lambda mod, i, o: feats.__setitem__('a', o))
    with torch.no_grad():
        logits = g(x)
        a = feats['a'][0]
        cam = (g.classifier[1].weight[3][:, None, None] * a).sum(0)
    json.dump({'input_shape': list(x.shape), 'input': 'x[i] = 0.9*sin(0.37*i), flattened NCHW, float32',
               'logits': [float(v) for v in logits[0]], 'cam_class': 3, 'cam_shape': list(cam.shape),
               'cam': [float(v) for v in cam.flatten()]}, open(os.path.join(OUT, 'mnv2_gap_expected.json'), 'w'))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == '__main__':
    main()
