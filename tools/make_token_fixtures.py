#!/usr/bin/python3
"""Writes the token-layer fixtures of tests/Salient.Tests/Tokens (transformer maps).

Run with Debian's python3 (torch 1.13, torchvision 0.14, onnx 1.12) and the reference
implementation pytorch-grad-cam on the path (it is not part of this repository):

    PYTHONPATH=/work/ref/jacobgil+pytorch-grad-cam:/work/ref/qubvel+ttach /usr/bin/python3 tools/make_token_fixtures.py

Two tiny random-weight models, exported to ONNX (opset 17, dynamic batch, input `input`, output `logits`):

- `tinyvit.onnx`: torchvision VisionTransformer, image 32, patch 8 (a 4×4 grid + the class token),
  2 blocks, 2 heads, width 32, MLP 64, 10 classes. Token layers are [N, 17, 32].
- `tinyswin.onnx`: torchvision SwinTransformer, patch 4, width 16, depths [2, 2], heads [2, 2],
  window 4, 10 classes, on 32×32 input: channels-last maps [N, 8, 8, 16] then [N, 4, 4, 32].

Weights are torchvision's initialization with the zero-initialized parts (class token, head)
re-drawn from N(0, 0.5²) (the Swin head from N(0, 50²): its layer gradients are then ~0.03, where the
reference Grad-CAM++'s ε = 1e-6 beside g² in α is negligible; at ~3e-4 ε dominates α) and the
LayerNorm affine parameters perturbed, so no gradient is trivially zero. Fixed seeds, CPU, float32.

For each model, one fixed input `x` (N(0,1), [2, 3, 32, 32]) and, for two runs of classes (the
items' top-1 classes; then classes 3 and 4), the reference maps [run, item, h, w] of pytorch-grad-cam with its reshape transforms (its `vit_example.py` /
`swinT_example.py` recipe: drop the class token, reshape to [N, C, h, w]) at the layer below, low
resolution (the BaseCAM pipeline with the final resize turned off, i.e. min–max normalized
after the ReLU): GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, ScoreCAM, AblationCAM,
EigenCAM (the signed first-component projection, before the ReLU, since the SVD's sign is arbitrary).
ScoreCAM runs with its upsampling switched from align_corners=True to half-pixel centres (Salient's
convention for every map resize; with 4×4 maps the two differ visibly).
AblationCAM uses the ViT ablation layer with the ablated channel set to 0 (the paper's choice and
Salient's) instead of the reference's `min − 1e7` for layers with negative values.

Attention rollout (Abnar & Zuidema 2020) of the ViT is computed here independently: the attention
probabilities of every block are recomputed from the blocks' weights (LayerNorm output captured with
a hook, q/k projections, softmax(q kᵀ/√d) per head), heads fused (mean, max, min), the lowest
`discard` fraction of the fused entries zeroed (the class token's own entry kept), identity added,
rows renormalized, multiplied through the blocks; the class token's row over the patch tokens.

Output: tests/Salient.Tests/Fixtures/tokens/{tinyvit,tinyswin}.onnx, *.x.npy, *.<method>.npy,
tokens_fixtures.json.
"""
import json
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.swin_transformer import SwinTransformer
from torchvision.models.vision_transformer import VisionTransformer

from pytorch_grad_cam import (AblationCAM, EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM,
                              XGradCAM)
from pytorch_grad_cam.ablation_layer import AblationLayerVit
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Salient.Tests", "Fixtures", "tokens")
SIZE = 32


def perturb(model, seed, head=0.5):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("ln" in name or "norm" in name):
                p.add_(0.1 * torch.randn(p.shape, generator=g))
            elif "head" in name:
                p.copy_(head * torch.randn(p.shape, generator=g))
            elif p.abs().max() == 0 or "class_token" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
    return model.eval()


def tiny_vit():
    torch.manual_seed(0)
    m = VisionTransformer(image_size=SIZE, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)
    return perturb(m, 1)


def tiny_swin():
    torch.manual_seed(0)
    m = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 2], window_size=[4, 4],
                        stochastic_depth_prob=0.0, num_classes=10)
    return perturb(m, 2, head=50.0)


def vit_reshape(t, h=4, w=4):
    r = t[:, 1:, :].reshape(t.size(0), h, w, t.size(2))
    return r.transpose(2, 3).transpose(1, 2)


def swin_reshape(t):
    return t.permute(0, 3, 1, 2)


class ZeroAblationVit(AblationLayerVit):
    """The reference's ViT ablation layer, ablating with 0 also when the layer has negative values."""

    def __call__(self, x):
        output = self.activations
        output = output.transpose(1, len(output.shape) - 1)
        for i in range(output.size(0)):
            output[i, self.indices[i], :] = 0
        return output.transpose(len(output.shape) - 1, 1)


class ZeroAblationSwin(AblationLayerVit):
    """Channels-last [N, h, w, C] layers: channel k (last axis) set to 0 everywhere."""

    def __call__(self, x):
        output = self.activations.clone()
        for i in range(output.size(0)):
            output[i, ..., self.indices[i]] = 0
        return output

    def set_next_batch(self, input_batch_index, activations, num_channels_to_ablate):
        self.activations = activations[input_batch_index].clone().unsqueeze(0).repeat(num_channels_to_ablate, 1, 1, 1)


def low_res(cam):
    cam.get_target_width_height = lambda x: None  # BaseCAM's pipeline without the final resize
    return cam


def peer_maps(model, layer, reshape, x, classes, ablation):
    targets = [ClassifierOutputTarget(int(c)) for c in classes]
    out = {}
    for name, cls in [("gradcam", GradCAM), ("gradcam++", GradCAMPlusPlus), ("xgradcam", XGradCAM), ("hirescam", HiResCAM),
                      ("layercam", LayerCAM), ("scorecam", ScoreCAM)]:
        cam = low_res(cls(model=model, target_layers=[layer], reshape_transform=reshape))
        if name == "scorecam":
            cam.batch_size = 64
            # The reference upsamples with align_corners=True; Salient (every map resize) uses half-pixel centres.
            original = torch.nn.UpsamplingBilinear2d
            torch.nn.UpsamplingBilinear2d = lambda size: torch.nn.Upsample(size=size, mode="bilinear", align_corners=False)
            try:
                out[name] = cam(input_tensor=x, targets=targets)
            finally:
                torch.nn.UpsamplingBilinear2d = original
            continue
        out[name] = cam(input_tensor=x, targets=targets)
    cam = low_res(AblationCAM(model=model, target_layers=[layer], reshape_transform=reshape, ablation_layer=ablation))
    out["ablationcam"] = cam(input_tensor=x, targets=targets)
    # Eigen-CAM: the reference's projection of the reshaped activations, signed.
    cam = EigenCAM(model=model, target_layers=[layer], reshape_transform=reshape)
    cam.activations_and_grads(x)
    acts = cam.activations_and_grads.activations[0].cpu().numpy()
    out["eigencam"] = get_2d_projection(acts)
    return {k: np.float32(v) for k, v in out.items()}


def rollout_reference(model, x, fusion, discard):
    """Attention rollout of the torchvision ViT, attention recomputed from the blocks' weights."""
    layers = list(model.encoder.layers)
    captured = []
    hooks = [blk.ln_1.register_forward_hook(lambda m, i, o: captured.append(o.detach())) for blk in layers]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    n, t, c = captured[0].shape
    with torch.no_grad():
        result = torch.eye(t).repeat(n, 1, 1)
        for blk, y in zip(layers, captured):
            mha = blk.self_attention
            heads = mha.num_heads
            d = c // heads
            w, b = mha.in_proj_weight, mha.in_proj_bias
            q = (y @ w[:c].T + b[:c]).reshape(n, t, heads, d).permute(0, 2, 1, 3)
            k = (y @ w[c:2 * c].T + b[c:2 * c]).reshape(n, t, heads, d).permute(0, 2, 1, 3)
            att = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(d), dim=-1)  # [N, heads, T, T]
            fused = {"mean": att.mean(1), "max": att.max(1)[0], "min": att.min(1)[0]}[fusion].clone()
            if discard > 0:
                flat = fused.reshape(n, -1)
                for i in range(n):
                    drop = flat[i].argsort()[: int(flat.size(1) * discard)]
                    drop = drop[drop != 0]
                    flat[i, drop] = 0
                fused = flat.reshape(n, t, t)
            a = (fused + torch.eye(t)) / 2
            a = a / a.sum(-1, keepdim=True)
            result = a @ result
    return np.float32(result[:, 0, 1:].reshape(n, 4, 4).numpy())


def export(model, path):
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)


def tensor_of(path, prefix, op):
    """The output of the first node of type `op` whose name starts with the module path `prefix`."""
    g = onnx.load(path).graph
    for n in g.node:
        if n.name.startswith(prefix) and n.op_type == op:
            return n.output[0]
    raise RuntimeError(f"no {op} under {prefix}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(123)
    x = torch.randn(2, 3, SIZE, SIZE)
    info = {"peer": "jacobgil/pytorch-grad-cam 084273b3f30b54ad0c64cf8020a4337d979a66e0", "torch": torch.__version__,
            "torchvision": torchvision.__version__, "models": {}}
    for name, model, layer, reshape, ablation, prefix in [
        ("tinyvit", tiny_vit(), None, vit_reshape, ZeroAblationVit(), "/encoder/layers/encoder_layer_1/ln_1/"),
        ("tinyswin", tiny_swin(), None, swin_reshape, ZeroAblationSwin(), "/features/features.3/features.3.1/norm1/"),
    ]:
        layer = model.encoder.layers[-1].ln_1 if name == "tinyvit" else model.features[-1][-1].norm1
        path = os.path.join(OUT, name + ".onnx")
        export(model, path)
        with torch.no_grad():
            logits = model(x)
        # Two runs: the top-1 class of each item, then classes 3 and 4.
        classes = [logits.argmax(1).tolist(), [3, 4]]
        np.save(os.path.join(OUT, f"{name}.x.npy"), x.numpy())
        entry = {"classes": classes, "logits": logits.numpy().tolist(), "layer": tensor_of(path, prefix, "LayerNormalization"), "maps": {}}
        runs = [peer_maps(model, layer, reshape, x, c, ablation) for c in classes]
        for method in runs[0]:
            f = f"{name}.{method}.npy"
            np.save(os.path.join(OUT, f), np.stack([r[method] for r in runs]))
            entry["maps"][method] = f
        if name == "tinyvit":
            entry["rollout"] = {}
            for fusion, discard in [("mean", 0.0), ("max", 0.0), ("min", 0.0), ("mean", 0.5)]:
                f = f"{name}.rollout_{fusion}_{discard}.npy"
                np.save(os.path.join(OUT, f), rollout_reference(model, x, fusion, discard))
                entry["rollout"][f"{fusion},{discard}"] = f
        info["models"][name] = entry
        print(name, classes, entry["layer"], os.path.getsize(path), "bytes")
    with open(os.path.join(OUT, "tokens_fixtures.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
