#!/usr/bin/env python3
"""Full-size gradient check, part 1: exports torchvision architectures to ONNX and writes PyTorch
autograd gradients (input and target layer; standard and guided ReLU rules) next to them.

    /usr/bin/python3 tools/make_arch_models.py [--out tools/generated/arch] [names...]
    dotnet run -c Release --project tools/ArchCheck -- tools/generated/arch

Routing-matched reference (grad_*_replay.npy, replay.json; see Replay below): the same autograd
gradients, with every max-pool and ReLU taking ORT's forward decision instead of PyTorch's:

    dotnet run -c Release --project tools/ArchCheck -- --dump-routing tools/generated/arch [names...]
    /usr/bin/python3 tools/make_arch_models.py --replay [names...]
    dotnet run -c Release --project tools/ArchCheck -- tools/generated/arch [names...]

Nothing here is committed (the models are 5-550 MB); tools/generated/ is git-ignored.
Random weights (seeded): the check compares two implementations of the same function.

For each architecture the wrapper returns (logits, target) so that the target layer -- the last
spatial feature map before global pooling -- is a named ONNX tensor 'target'. The score is the
logit of class CLASS (one-hot seed). Guided backprop (Springenberg et al.): every ReLU / ReLU6 is
replaced during the guided pass by an autograd function whose backward passes grad only where the
forward input is in the active range AND the incoming gradient is positive.
"""
import argparse, contextlib, json, os, sys
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


def grads(w, x, guided, replay=None):
    """(logits, d logit/d x, d logit/d target); with `replay`, max-pool and ReLU follow ORT's routing."""
    x = x.clone().requires_grad_(True)
    with replay.passing(guided) if replay is not None else Guided() if guided else contextlib.nullcontext():
        logits, a = w(x)
        a.retain_grad()
        logits[0, CLASS].backward()
    return logits.detach(), x.grad.detach(), a.grad.detach()


def build(name):
    """(wrapper, input): the model exactly as exported -- the export and --replay both build it here,
    so the seeds, BatchNorm statistics and re-initialization are the same."""
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
    return w, x


def export(name, d):
    w, x = build(name)
    os.makedirs(d, exist_ok=True)
    torch.onnx.export(w, x, os.path.join(d, 'model.onnx'), input_names=['input'], output_names=['logits', 'target'],
                      opset_version=13, do_constant_folding=True, dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}, 'target': {0: 'N'}})
    logits, gx, ga = grads(w, x, False)
    _, gxg, gag = grads(w, x, True)
    np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(d, 'logits.npy'), logits.numpy().astype(np.float32))
    for tag, arr in [('grad_input_standard', gx), ('grad_target_standard', ga), ('grad_input_guided', gxg), ('grad_target_guided', gag)]:
        np.save(os.path.join(d, tag + '.npy'), arr.numpy().astype(np.float32))
    json.dump({'name': name, 'class': CLASS, 'size': x.shape[-1], 'target_shape': list(ga.shape)}, open(os.path.join(d, 'meta.json'), 'w'))
    print(f'{name}: {os.path.getsize(os.path.join(d, "model.onnx")) / 1e6:.1f} MB, target {list(ga.shape)}', flush=True)


# ---- routing-matched reference (--replay) ------------------------------------------------------
#
# At a MaxPool window whose top values tie within float rounding, or a ReLU input within rounding
# of 0, the network is not differentiable and two float32 forwards (ORT's, PyTorch's) may take
# different branches; the max gradient then lands on a different pixel and the difference spreads
# backwards. `ArchCheck --dump-routing` writes ORT's decisions (MaxPool argmax indices, ReLU
# pre-activations) to <dir>/routing/; the replay runs PyTorch autograd with every max-pool and ReLU
# call taking ORT's decision, so the reference differs from Salient only in backward arithmetic.
# Calls are matched to ONNX nodes by order: the exporter traces execution order and folds BatchNorm
# into Conv, so the i-th max_pool2d / relu call is the i-th MaxPool / Relu (or Clip) node. Every
# match is checked on values (a mismatched order would fail loudly, not give a wrong reference).


class ReplayClamp(torch.autograd.Function):
    """ReLU / ReLU6 with ORT's decisions: y = x where ORT's input was in (lo, hi), hi where it was
    >= hi, 0 elsewhere; dx = dy on the active elements (guided: max(dy, 0) there, as GuidedReLU)."""
    @staticmethod
    def forward(ctx, x, active, top, hi, guided):
        ctx.save_for_backward(active)
        ctx.guided = guided
        y = x * active
        return y if top is None else y + hi * top

    @staticmethod
    def backward(ctx, g):
        active, = ctx.saved_tensors
        if ctx.guided:
            g = g.clamp(min=0)
        return g * active, None, None, None, None


class Replay:
    """ORT's routing for one architecture; `passing(guided)` patches max-pool and ReLU for one forward."""
    def __init__(self, d):
        meta = json.load(open(os.path.join(d, 'routing', 'routing.json')))
        self.name = meta['name']
        nodes = meta['nodes']
        self.pools = [(n, np.load(os.path.join(d, n['file']))) for n in nodes if n['op'] == 'MaxPool']
        self.relus = [(n, np.load(os.path.join(d, n['file']))) for n in nodes if n['op'] in ('Relu', 'Clip')]
        # The dump lists nodes in Salient's graph order; it must be the file's order, which is the
        # order the calls were traced in.
        import onnx
        model = onnx.load(os.path.join(d, 'model.onnx'), load_external_data=False)
        file_order = [n.name for n in model.graph.node if n.op_type in ('MaxPool', 'Relu', 'Clip')]
        assert file_order == [n['name'] for n in nodes], f'{self.name}: routing.json is not in the ONNX file node order'
        self.stats = None

    def passing(self, guided):
        replay = self

        class Ctx:
            def __enter__(self):
                replay.pool_calls, replay.relu_calls = 0, 0
                replay.flips = {'pool': [], 'relu': [], 'pool_dev': 0.0, 'relu_dev': 0.0}
                self.saved = (F.max_pool2d, F.relu, torch.relu, nn.ReLU.forward, nn.ReLU6.forward, F.relu6)
                orig_pool = F.max_pool2d
                F.max_pool2d = lambda x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False: \
                    replay.pool(orig_pool, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
                F.relu = lambda x, inplace=False: replay.relu(x, 0.0, None, guided)
                torch.relu = lambda x: replay.relu(x, 0.0, None, guided)
                nn.ReLU.forward = lambda self, x: replay.relu(x, 0.0, None, guided)
                nn.ReLU6.forward = lambda self, x: replay.relu(x, 0.0, 6.0, guided)
                F.relu6 = lambda x, inplace=False: replay.relu(x, 0.0, 6.0, guided)
                return self

            def __exit__(self, *a):
                F.max_pool2d, F.relu, torch.relu, nn.ReLU.forward, nn.ReLU6.forward, F.relu6 = self.saved
                if a[0] is None:
                    assert replay.pool_calls == len(replay.pools), f'{replay.name}: {replay.pool_calls} max-pool calls, {len(replay.pools)} MaxPool nodes'
                    assert replay.relu_calls == len(replay.relus), f'{replay.name}: {replay.relu_calls} ReLU calls, {len(replay.relus)} Relu/Clip nodes'
                    replay.stats = replay.flips
        return Ctx()

    def pool(self, orig, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
        assert not return_indices, 'max_pool2d(return_indices=True) is not replayed'
        k = self.pool_calls
        assert k < len(self.pools), f'{self.name}: more max-pool calls than MaxPool nodes'
        node, ort = self.pools[k]
        self.pool_calls += 1
        own, own_idx = orig(x.detach(), kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)
        n, c, h, wd = x.shape
        # ORT's Indices are flat over N*C*H*W (storage_order 0); torch's and gather's are per (n, c) plane.
        idx = torch.from_numpy(ort.astype(np.int64)) - (torch.arange(n * c) * (h * wd)).view(n, c, 1, 1)
        assert idx.shape == own.shape, f'{node["name"]}: ORT indices {tuple(idx.shape)}, torch output {tuple(own.shape)}'
        assert idx.min() >= 0 and idx.max() < h * wd, f'{node["name"]}: ORT index outside its (n, c) plane'
        # gather's backward scatters (adds) the gradient to ORT's argmax, like Salient's ScatterElements.
        y = x.flatten(2).gather(2, idx.flatten(2)).view_as(own)
        dev = ((y.detach() - own).abs().max() / own.abs().max()).item()
        assert dev <= 1e-5, f'{node["name"]}: values at ORT\'s argmax differ from torch\'s max by {dev:.1e} (relative)'
        # Per node: windows, flipped windows, and at a flip the largest gap between the values at ORT's
        # and torch's argmax, relative to the tensor's max |value| -- the scale of the float32
        # discrepancy between the two forwards (max_rel_dev_relu_inputs), below which a flip can happen.
        flipped = idx != own_idx
        gap = float((y.detach() - own).abs()[flipped].max() / own.abs().max()) if flipped.any() else 0.0
        self.flips['pool'].append({'node': node['name'], 'windows': own.numel(), 'flips': int(flipped.sum()), 'max_rel_gap': gap})
        self.flips['pool_dev'] = max(self.flips['pool_dev'], dev)
        return y

    def relu(self, x, lo, hi, guided):
        k = self.relu_calls
        assert k < len(self.relus), f'{self.name}: more ReLU calls than Relu/Clip nodes'
        node, pre = self.relus[k]
        self.relu_calls += 1
        if node['op'] == 'Clip':
            assert (node['lo'], node['hi']) == (lo, hi), f'{node["name"]}: Clip({node["lo"]}, {node["hi"]}) replayed by a ReLU({lo}, {hi}) call'
        else:
            assert hi is None, f'{node["name"]}: Relu node replayed by a ReLU6 call'
        pre = torch.from_numpy(pre)
        assert pre.shape == x.shape, f'{node["name"]}: ORT input {tuple(pre.shape)}, torch input {tuple(x.shape)}'
        dev = ((x.detach() - pre).abs().max() / pre.abs().max()).item()
        assert dev <= 1e-4, f'{node["name"]}: ORT and torch inputs differ by {dev:.1e} (relative)'
        # Branch per element: 0 clamped at lo, 1 passing, 2 clamped at hi (ReLU6 only).
        branch = lambda v: (v > lo).long() + ((v >= hi).long() if hi is not None else 0)
        ort = branch(pre)
        # Per node: elements, flipped elements, and at a flip the largest distance of ORT's or torch's
        # input from the bound (0, or 6 for ReLU6), relative to the tensor's max |input|.
        flipped = ort != branch(x.detach())
        bound = torch.where(torch.maximum(ort, branch(x.detach())) == 2, torch.tensor(hi or 0.0), torch.tensor(lo))
        gap = float(torch.maximum((pre - bound).abs(), (x.detach() - bound).abs())[flipped].max() / pre.abs().max()) if flipped.any() else 0.0
        self.flips['relu'].append({'node': node['name'], 'elements': x.numel(), 'flips': int(flipped.sum()), 'max_rel_gap': gap})
        self.flips['relu_dev'] = max(self.flips['relu_dev'], dev)
        top = None if hi is None else (ort == 2).to(x.dtype)
        return ReplayClamp.apply(x, (ort == 1).to(x.dtype), top, hi, guided)


def replay(name, d):
    w, x = build(name)
    r = Replay(d)
    logits, gx, ga = grads(w, x, False, r)
    stats = r.stats
    _, gxg, gag = grads(w, x, True, r)
    ref_logits = np.load(os.path.join(d, 'logits.npy'))
    logit_dev = float(np.abs(logits.numpy() - ref_logits).max() / np.abs(ref_logits).max())
    assert logit_dev <= 1e-4, f'{name}: replayed logits differ from the exported ones by {logit_dev:.1e}: not the same model'
    for tag, arr in [('grad_input_standard', gx), ('grad_target_standard', ga), ('grad_input_guided', gxg), ('grad_target_guided', gag)]:
        np.save(os.path.join(d, tag + '_replay.npy'), arr.numpy().astype(np.float32))
    pool, relu = stats['pool'], stats['relu']
    report = {
        'name': name,
        'maxpool_nodes': len(pool), 'maxpool_windows': sum(p['windows'] for p in pool), 'maxpool_flips': sum(p['flips'] for p in pool),
        'relu_nodes': len(relu), 'relu_elements': sum(p['elements'] for p in relu), 'relu_flips': sum(p['flips'] for p in relu),
        # The nodes where torch's forward decides differently from ORT's (counted on the replay's
        # forward, whose values up to the first flip are torch's own).
        'maxpool_flips_by_node': [p for p in pool if p['flips']], 'relu_flips_by_node': [p for p in relu if p['flips']],
        'max_rel_dev_pool_values': stats['pool_dev'], 'max_rel_dev_relu_inputs': stats['relu_dev'], 'max_rel_dev_logits': logit_dev,
    }
    json.dump(report, open(os.path.join(d, 'replay.json'), 'w'), indent=1)
    print(f'{name}: replay done; torch decides differently from ORT at {report["maxpool_flips"]} of {report["maxpool_windows"]} MaxPool windows '
          f'and {report["relu_flips"]} of {report["relu_elements"]} ReLU elements', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'generated', 'arch'))
    ap.add_argument('--replay', action='store_true',
                    help='no export: recompute the reference gradients with ORT\'s routing (needs ArchCheck --dump-routing first)')
    ap.add_argument('names', nargs='*', default=ALL)
    args = ap.parse_args()
    for name in args.names:
        if name not in ALL:
            raise SystemExit(f'unknown architecture {name}')
        d = os.path.join(args.out, name)
        replay(name, d) if args.replay else export(name, d)


if __name__ == '__main__':
    main()
