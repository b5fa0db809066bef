"""Grad-CAM over a folder the way pytorch-grad-cam does it (hooks on the target layer's activations
and gradients, channel weights = spatial mean of the gradients, ReLU, min-max scaling, cv2 resize,
cv2 JET colormap blended onto the image), timed end to end by the caller (interpreter start,
imports and model construction included).

torchvision's mobilenet_v2 is the architecture of shared/models/mobilenetv2-fp32.onnx; random
weights are used (the timing does not depend on their values). Output per image: one PNG
"original | heatmap | overlay" with tiles at most 512 px on the long side, like salient's panels.

usage: python3 gradcam_torch.py IMAGE_DIR OUT_DIR [threads]"""
import os
import sys

import cv2
import numpy as np
import torch
import torchvision

src, out = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    torch.set_num_threads(int(sys.argv[3]))
os.makedirs(out, exist_ok=True)

model = torchvision.models.mobilenet_v2().eval()
target = model.features[-1]
store = {}


def forward_hook(module, inputs, output):
    store["activation"] = output
    output.register_hook(lambda g: store.__setitem__("gradient", g))


target.register_forward_hook(forward_hook)
mean = np.array([0.485, 0.456, 0.406], np.float32)
std = np.array([0.229, 0.224, 0.225], np.float32)


def preprocess(rgb):
    # torchvision's recipe: shorter side to 256, centre crop 224, mean/std
    h, w = rgb.shape[:2]
    s = 256 / min(h, w)
    r = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
    y0, x0 = (r.shape[0] - 224) // 2, (r.shape[1] - 224) // 2
    crop = r[y0:y0 + 224, x0:x0 + 224]
    x = (crop - mean) / std
    return torch.from_numpy(x.transpose(2, 0, 1)).unsqueeze(0), (x0 / s, y0 / s, 224 / s)


for name in sorted(os.listdir(src)):
    bgr = cv2.imread(os.path.join(src, name), cv2.IMREAD_COLOR)
    if bgr is None:
        continue
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    x, (cx, cy, side) = preprocess(rgb)
    model.zero_grad()
    logits = model(x)
    cls = int(logits.argmax(1))
    logits[0, cls].backward()
    a = store["activation"].detach()[0].numpy()
    g = store["gradient"].detach()[0].numpy()
    w = g.mean(axis=(1, 2))
    cam = np.maximum((w[:, None, None] * a).sum(0), 0)
    cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-7)
    # tiles at most 512 px; the map resized onto the crop region of the tile
    h0, w0 = rgb.shape[:2]
    k = min(1.0, 512 / max(h0, w0))
    tw, th = max(1, round(w0 * k)), max(1, round(h0 * k))
    tile = cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA)
    full = np.zeros((th, tw), np.float32)
    x0, y0, s = int(cx * k), int(cy * k), max(1, int(side * k))
    full[y0:y0 + s, x0:x0 + s] = cv2.resize(cam, (s, s))[: th - y0, : tw - x0]
    heat = cv2.applyColorMap(np.uint8(255 * full), cv2.COLORMAP_JET)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    overlay = heat + tile
    overlay = overlay / overlay.max()
    panel = np.hstack([tile, heat, overlay])
    cv2.imwrite(os.path.join(out, os.path.splitext(name)[0] + "_gradcam.png"),
                cv2.cvtColor(np.uint8(255 * panel), cv2.COLOR_RGB2BGR))
