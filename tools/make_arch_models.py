#!/usr/bin/env python3
"""Full-size gradient check, part 1: exports torchvision architectures to ONNX and writes PyTorch
autograd gradients (input and target layer; standard and guided ReLU rules) next to them.

    /usr/bin/python3 tools/make_arch_models.py [--out tools/generated/arch] [names...]
    dotnet run -c Release --project tools/ArchCheck -- tools/generated/arch

Nothing here is committed (the models are 5-550 MB); tools/generated/ is git-ignored.
Random weights (seeded): the check compares two implementations of the same function.

For each architecture the wrapper returns (logits, target) so that the target layer -- the last
spatial feature map before global pooling -- is a named ONNX tensor 'target'. The score is the
logit of class CLASS (one-hot seed). Guided backprop (Springenberg et al.): every ReLU / ReLU6 is
replaced during the guided pass by an autograd function whose backward passes grad only where the
forward input is in the active range AND the incoming gradient is positive.
"""
import argparse, json, os, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F, torchvision

CLASS = 7


class GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return x.clamp(min=lo) if hi is None else x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        mask = (x > ctx.lo) if ctx.hi is None else ((x > ctx.lo) & (x < ctx.hi))
        return g.clamp(min=0) * mask.to(g.dtype), None, None


class Guided:
    """Context manager: ReLU and ReLU6 (module and functional forms) use the guided backward rule."""
    def __enter__(self):
        self.saved = (F.relu, torch.relu, nn.ReLU.forward, nn.ReLU6.forward, F.relu6, F.hardtanh)
        F.relu = lambda x, inplace=False: GuidedReLU.apply(x, 0.0, None)
        torch.relu = lambda x: GuidedReLU.apply(x, 0.0, None)
        nn.ReLU.forward = lambda self, x: GuidedReLU.apply(x, 0.0, None)
        nn.ReLU6.forward = lambda self, x: GuidedReLU.apply(x, 0.0, 6.0)
        F.relu6 = lambda x, inplace=False: GuidedReLU.apply(x, 0.0, 6.0)
        return self

    def __exit__(self, *a):
        F.relu, torch.relu, nn.ReLU.forward, nn.ReLU6.forward, F.relu6, F.hardtanh = self.saved


def features_then_head(name):
    """(model, feature_fn, head_fn, size): model(x) == head_fn(feature_fn(x))."""
    tv = torchvision.models
    if name == 'resnet18' or name == 'resnet50':
        m = getattr(tv, name)(weights=None)
        f = lambda x: m.layer4(m.layer3(m.layer2(m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x))))))))
        h = lambda a: m.fc(torch.flatten(m.avgpool(a), 1))
        return m, f, h, 224
    if name == 'vgg16':
        m = tv.vgg16(weights=None)
        return m, m.features, lambda a: m.classifier(torch.flatten(m.avgpool(a), 1)), 224
    if name == 'mobilenet_v2':
        m = tv.mobilenet_v2(weights=None)
        return m, m.features, lambda a: m.classifier(torch.flatten(F.adaptive_avg_pool2d(a, (1, 1)), 1)), 224
    if name == 'densenet121':
        m = tv.densenet121(weights=None)
        return m, lambda x: F.relu(m.features(x)), lambda a: m.classifier(torch.flatten(F.adaptive_avg_pool2d(a, (1, 1)), 1)), 224
    if name == 'efficientnet_b0':
        m = tv.efficientnet_b0(weights=None)
        return m, m.features, lambda a: m.classifier(torch.flatten(m.avgpool(a), 1)), 224
    if name == 'squeezenet1_1':
        m = tv.squeezenet1_1(weights=None)
        return m, m.features, lambda a: torch.flatten(m.classifier(a), 1), 224
    if name == 'googlenet':
        m = tv.googlenet(weights=None, aux_logits=False, init_weights=True)
        def f(x):
            x = m._transform_input(x)
            x = m.maxpool1(m.conv1(x)); x = m.maxpool2(m.conv3(m.conv2(x)))
            x = m.maxpool3(m.inception3b(m.inception3a(x)))
            x = m.inception4e(m.inception4d(m.inception4c(m.inception4b(m.inception4a(x)))))
            return m.inception5b(m.inception5a(m.maxpool4(x)))
        return m, f, lambda a: m.fc(torch.flatten(m.avgpool(a), 1)), 224
    if name == 'inception_v3':
        m = tv.inception_v3(weights=None, aux_logits=False, init_weights=True)
        def f(x):
            x = m._transform_input(x)
            for k in ['Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1', 'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'maxpool2',
                      'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c']:
                x = getattr(m, k)(x)
            return x
        return m, f, lambda a: m.fc(torch.flatten(m.avgpool(a), 1)), 299
    if name == 'shufflenet_v2':
        m = tv.shufflenet_v2_x1_0(weights=None)
        f = lambda x: m.conv5(m.stage4(m.stage3(m.stage2(m.maxpool(m.conv1(x))))))
        return m, f, lambda a: m.fc(a.mean([2, 3])), 224
    raise SystemExit(f'unknown architecture {name}')


class Wrapper(nn.Module):
    def __init__(self, m, f, h):
        super().__init__()
        self.m, self.f, self.h = m, f, h

    def forward(self, x):
        a = self.f(x)
        return self.h(a), a


ALL = ['resnet18', 'vgg16', 'mobilenet_v2', 'densenet121', 'efficientnet_b0', 'squeezenet1_1', 'googlenet', 'inception_v3', 'shufflenet_v2']


def grads(w, x, guided):
    x = x.clone().requires_grad_(True)
    ctx = Guided() if guided else None
    if ctx: ctx.__enter__()
    try:
        logits, a = w(x)
        a.retain_grad()
        logits[0, CLASS].backward()
    finally:
        if ctx: ctx.__exit__()
    return logits.detach(), x.grad.detach(), a.grad.detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'generated', 'arch'))
    ap.add_argument('names', nargs='*', default=ALL)
    args = ap.parse_args()
    for name in args.names:
        torch.manual_seed(0)
        m, f, h, size = features_then_head(name)
        m.eval()
        # Non-trivial BatchNorm statistics so the folded affine is not the identity.
        g = torch.Generator().manual_seed(1)
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.05)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) * 0.5 + 0.75)
        if name in ('googlenet', 'inception_v3'):
            # torchvision initializes these two with a truncated normal of std 0.01/0.1: with random
            # weights the deep feature maps become spatially almost constant, MaxPool windows hold
            # near-ties (values equal to 1e-7) and the routing of the max gradient flips on float
            # rounding between any two implementations. Kaiming initialization keeps the maps varied.
            gi = torch.Generator().manual_seed(3)
            for mod in m.modules():
                if isinstance(mod, (nn.Conv2d, nn.Linear)):
                    fan_in = mod.weight[0].numel()
                    mod.weight.data.copy_(torch.randn(mod.weight.shape, generator=gi) * (2.0 / fan_in) ** 0.5)
        w = Wrapper(m, f, h).eval()
        x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            ref, _ = w(x)
            assert torch.allclose(ref, m(x), atol=1e-4), f'{name}: wrapper differs from the model'
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        torch.onnx.export(w, x, os.path.join(d, 'model.onnx'), input_names=['input'], output_names=['logits', 'target'],
                          opset_version=13, do_constant_folding=True, dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}, 'target': {0: 'N'}})
        logits, gx, ga = grads(w, x, False)
        _, gxg, gag = grads(w, x, True)
        np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))
        np.save(os.path.join(d, 'logits.npy'), logits.numpy().astype(np.float32))
        for tag, arr in [('grad_input_standard', gx), ('grad_target_standard', ga), ('grad_input_guided', gxg), ('grad_target_guided', gag)]:
            np.save(os.path.join(d, tag + '.npy'), arr.numpy().astype(np.float32))
        json.dump({'name': name, 'class': CLASS, 'size': size, 'target_shape': list(ga.shape)}, open(os.path.join(d, 'meta.json'), 'w'))
        print(f'{name}: {os.path.getsize(os.path.join(d, "model.onnx")) / 1e6:.1f} MB, target {list(ga.shape)}', flush=True)


if __name__ == '__main__':
    main()
