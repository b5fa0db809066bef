#!/usr/bin/env python3
"""Writes the models of the speed benchmark (bench/Salient.Bench) into tools/generated/ (git-ignored).

    /usr/bin/python3 tools/make_bench_models.py [--out tools/generated] [resnet50 ...]

Generated on demand, never committed (ResNet-50 is ~100 MB). Random weights (seeded): the benchmark
measures time, not accuracy. BatchNorm statistics are calibrated on a few random batches so the
activations have realistic ranges (no overflow, no dead network). Exports have a dynamic batch axis
(Score-CAM, occlusion and RISE run their inputs in batches), input 'input' [N,3,224,224] and output
'logits' [N,1000], opset 13.

Models: resnet50 (torchvision, 2048 channels at the last feature map), resnet18, mobilenet_v2
(torchvision's own; the benchmark normally uses shared/models/mobilenetv2-fp32.onnx instead), and the
big models of the end-to-end benchmark (issue 16): vgg16 (553 MB), convnext_tiny, vit_b_16 (346 MB);
vit_b_16_head (the same with a random instead of a zero head, for token-layer maps and the ViT Grad-CAM bench).

    /usr/bin/python3 tools/make_bench_models.py --out /tmp/bigmodels vgg16 resnet50 convnext_tiny vit_b_16

Besides each model.onnx, writes model.pt (the state dict) so the PyTorch peer of the end-to-end
benchmark (bench/e2e/gradcam_peer.py) loads the very same weights.
"""
import argparse, os
import torch, torchvision

BUILDERS = {
    'resnet50': lambda: torchvision.models.resnet50(),
    'resnet18': lambda: torchvision.models.resnet18(),
    'mobilenet_v2': lambda: torchvision.models.mobilenet_v2(),
    'vgg16': lambda: torchvision.models.vgg16(),
    'convnext_tiny': lambda: torchvision.models.convnext_tiny(),
    'vit_b_16': lambda: torchvision.models.vit_b_16(),
    'vit_b_16_head': lambda: vit_with_head(),
}


def vit_with_head():
    """vit_b_16 whose head is drawn N(0, 0.02²): torchvision zero-initializes it, so every logit and every gradient would be 0."""
    m = torchvision.models.vit_b_16()
    torch.nn.init.normal_(m.heads.head.weight, std=0.02)
    return m


def calibrate_bn(model, seed, batches=3, size=224):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(8, 3, size, size, generator=g))
    model.eval()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(here, 'generated'))
    ap.add_argument('names', nargs='*', default=['resnet50'])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.names:
        if name not in BUILDERS:
            raise SystemExit(f'unknown model {name}; choose from {", ".join(BUILDERS)}')
        path = os.path.join(args.out, f'{name}.onnx')
        if os.path.exists(path):
            print(f'{path} exists')
            continue
        torch.manual_seed(0)
        model = BUILDERS[name]()
        calibrate_bn(model, 1)
        torch.save(model.state_dict(), os.path.join(args.out, f'{name}.pt'))
        x = torch.randn(1, 3, 224, 224)
        torch.onnx.export(model, x, path, input_names=['input'], output_names=['logits'], opset_version=13,
                          do_constant_folding=True, dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})
        print(f'wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)')


if __name__ == '__main__':
    main()
