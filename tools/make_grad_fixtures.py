#!/usr/bin/python3
"""Writes the PyTorch-autograd gradient fixtures of the Autodiff tests.

Run with Debian's python3 (torch 1.13, onnx 1.12, numpy; no onnxruntime):

    /usr/bin/python3 tools/make_grad_fixtures.py

For each small torch module below it exports an ONNX model (eval mode, constant folding) whose
outputs are `logits` and `inner` (an inner layer, so the C# test can address it), and saves, for a
fixed input and a fixed random seed on the logits, the gradients of sum(seed * logits) with respect
to the input and to `inner`, computed by torch autograd, for the standard ReLU rule and for guided
backprop (a custom autograd Function replacing ReLU/ReLU6: pass where x > 0 (and x < 6) AND the
incoming gradient > 0). Deterministic: fixed seeds, CPU, float32.
Output: tests/Salient.Tests/Fixtures/grad/<name>.onnx, <name>.<array>.npy, grad_fixtures.json.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Salient.Tests", "Fixtures", "grad")
MODE = {"guided": False}


class GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * (x > 0).to(g.dtype)


class GuidedReLU6(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0, max=6)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * ((x > 0) & (x < 6)).to(g.dtype)


def relu(x):
    return GuidedReLU.apply(x) if MODE["guided"] else F.relu(x)


def relu6(x):
    return GuidedReLU6.apply(x) if MODE["guided"] else F.relu6(x)


def randomize_bn(m, g):
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm2d, nn.LayerNorm)):
            with torch.no_grad():
                mod.weight.copy_(0.5 + torch.rand(mod.weight.shape, generator=g))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=g))
                if isinstance(mod, nn.BatchNorm2d):
                    mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=g))
                    mod.running_var.copy_(0.5 + torch.rand(mod.running_var.shape, generator=g))


class ConvNet(nn.Module):
    """BN, ReLU, overlapping maxpool with pads, residual add, concat, BN after concat, avgpool with
    pads/ceil/count_include_pad=False, nearest and bilinear upsampling, GAP + linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.b2 = nn.BatchNorm2d(8)
        self.c3 = nn.Conv2d(8, 8, 3, padding=1)
        self.b3 = nn.BatchNorm2d(8)
        self.left = nn.Conv2d(8, 4, 1)
        self.right = nn.Conv2d(8, 4, 3, padding=2, dilation=2)
        self.bcat = nn.BatchNorm2d(8)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.c4 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        h = relu(self.b1(self.c1(x)))
        h = F.max_pool2d(h, 3, stride=2, padding=1)                       # 32 -> 16, overlapping
        r = relu(self.b2(self.c2(h)))
        r = self.b3(self.c3(r))
        inner = relu(r + h)                                                # residual
        cat = torch.cat([self.left(inner), self.right(inner)], dim=1)
        h = relu(self.bcat(cat))
        h = self.pool2(h)                                                  # 16 -> 8
        h = F.interpolate(h, scale_factor=2, mode="nearest")               # 8 -> 16
        h = relu(self.c4(h))                                               # 16 -> 8
        h = F.interpolate(h, size=(11, 11), mode="bilinear", align_corners=False)
        h = F.avg_pool2d(h, 2, ceil_mode=True, count_include_pad=True)    # 11 -> 6
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))
        return logits, inner


class MobileNetLike(nn.Module):
    """Strided conv + ReLU6, depthwise convs, hardswish, SiLU (x * sigmoid(x)), GAP + linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bs = nn.BatchNorm2d(8)
        self.dw1 = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bd1 = nn.BatchNorm2d(8)
        self.pw1 = nn.Conv2d(8, 12, 1, bias=False)
        self.bp1 = nn.BatchNorm2d(12)
        self.dw2 = nn.Conv2d(12, 12, 3, stride=2, padding=1, groups=12)
        self.pw2 = nn.Conv2d(12, 16, 1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        h = relu6(self.bs(self.stem(x)))              # 32 -> 16 (stride 2, odd padding arithmetic)
        inner = relu6(self.bd1(self.dw1(h)))
        h = F.hardswish(self.bp1(self.pw1(inner)))
        h = self.dw2(h)                                # 16 -> 8, depthwise stride 2
        h = h * torch.sigmoid(h)                       # SiLU as Mul(x, Sigmoid(x))
        h = relu(self.pw2(h))
        logits = self.fc(h.mean(dim=(2, 3)))
        return logits, inner


class TinyViT(nn.Module):
    """Patch conv, LayerNorm, attention (MatMul, Transpose, Softmax, Split), GELU (erf), residuals."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 4, stride=4)
        self.pos = nn.Parameter(0.1 * torch.randn(1, 16, 16))
        self.ln1 = nn.LayerNorm(16)
        self.qkv = nn.Linear(16, 48)
        self.proj = nn.Linear(16, 16)
        self.ln2 = nn.LayerNorm(16)
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 16)
        self.ln3 = nn.LayerNorm(16)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2) + self.pos       # [N, 16 tokens, 16]
        q, k, v = self.qkv(self.ln1(t)).split(16, dim=-1)
        a = torch.softmax(q @ k.transpose(1, 2) / 4.0, dim=-1)
        t = t + self.proj(a @ v)
        inner = t
        t = t + self.fc2(F.gelu(self.fc1(self.ln2(t))))
        logits = self.head(self.ln3(t.mean(dim=1)))
        return logits, inner


def gradients(model, x, seed, guided):
    MODE["guided"] = guided
    try:
        xi = x.clone().requires_grad_(True)
        logits, inner = model(xi)
        inner.retain_grad()
        (logits * seed).sum().backward()
        return xi.grad.detach().numpy(), inner.grad.detach().numpy(), logits.detach().numpy()
    finally:
        MODE["guided"] = False


def rename_outputs(path):
    """Checks that the exported graph exposes 'logits' and 'inner' and records the ops."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    outs = [o.name for o in m.graph.output]
    assert outs == ["logits", "inner"], outs
    return sorted({n.op_type for n in m.graph.node}), m.opset_import[0].version


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    index = {"note": "written by tools/make_grad_fixtures.py (torch %s); gradients of sum(seed*logits)" % torch.__version__,
             "fixtures": []}
    specs = [("convnet", ConvNet, (2, 3, 32, 32), 13, True),
             ("mobilenetlike", MobileNetLike, (2, 3, 32, 32), 17, True),
             ("tinyvit", TinyViT, (2, 3, 16, 16), 17, False)]
    for i, (name, cls, shape, opset, guided) in enumerate(specs):
        g = torch.Generator().manual_seed(100 + i)
        torch.manual_seed(100 + i)
        model = cls()
        randomize_bn(model, g)
        model.eval()
        x = torch.randn(shape, generator=g)
        seed = torch.randn(shape[0], 10, generator=g)
        onnx_path = os.path.join(OUT, name + ".onnx")
        torch.onnx.export(model, (x,), onnx_path, opset_version=opset, do_constant_folding=True,
                          input_names=["input"], output_names=["logits", "inner"],
                          training=torch.onnx.TrainingMode.EVAL)
        ops, real_opset = rename_outputs(onnx_path)
        entry = {"name": name, "model": name + ".onnx", "opset": real_opset, "ops": ops, "input": "input",
                 "score": "logits", "inner": "inner", "input_shape": list(shape), "arrays": {}}

        def save(key, arr):
            fname = "%s.%s.npy" % (name, key)
            np.save(os.path.join(OUT, fname), np.ascontiguousarray(arr, dtype=np.float32))
            entry["arrays"][key] = {"file": fname, "shape": list(arr.shape)}

        save("x", x.numpy())
        save("seed", seed.numpy())
        gx, gi, logits = gradients(model, x, seed, guided=False)
        save("logits", logits)
        save("grad_input_standard", gx)
        save("grad_inner_standard", gi)
        if guided:
            gx, gi, _ = gradients(model, x, seed, guided=True)
            save("grad_input_guided", gx)
            save("grad_inner_guided", gi)
        index["fixtures"].append(entry)
        print(name, "opset", real_opset, "ops:", ", ".join(ops))
    with open(os.path.join(OUT, "grad_fixtures.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
