#!/usr/bin/python3
"""The peer of `Salient.Bench evaluation`: pytorch-grad-cam's ROADCombined timed on one image.

    /usr/bin/python3 bench/eval/road_peer.py IMAGE [RUNS]
    /usr/bin/python3 bench/eval/road_peer.py IMAGE --serve   (used by `Salient.Bench evaluation --peer`)

Uses the reference implementation checked out outside the repository (GRADCAM_REF, default
/work/ref/jacobgil+pytorch-grad-cam; TTACH_REF, default /work/ref/qubvel+ttach); nothing of it is
copied here. Model: torchvision's MobileNetV2 architecture (the built-in model's) with seeded random
weights (no pretrained weights are available offline; the cost of ROAD does not depend on the weights),
eval mode, one torch thread. Input: the image resized (shorter side 256) and center-cropped to 224,
ImageNet mean/std; map: a Gaussian blob (224×224, no ties). ROADCombined with the default percentiles
10…90 and the reference's default imputation noise (0.01), target = softmax probability of the top-1
class. Prints one forward (batch 1) and ROADCombined in ms (medians) and their ratio.

With --serve it prints "ready" after the setup, then answers each line "road" on stdin with one line
"WALL_MS CPU_MS" (one ROADCombined, wall-clock and this process's CPU time), so the Salient benchmark
can alternate the two implementations run by run on a busy machine.
"""
import os
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image

REF = os.environ.get("GRADCAM_REF", "/work/ref/jacobgil+pytorch-grad-cam")
sys.path[:0] = [REF, os.environ.get("TTACH_REF", "/work/ref/qubvel+ttach")]
from pytorch_grad_cam.metrics.road import ROADCombined  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget  # noqa: E402

image_path = sys.argv[1]
serve = len(sys.argv) > 2 and sys.argv[2] == "--serve"
runs = int(sys.argv[2]) if len(sys.argv) > 2 and not serve else 3
torch.set_num_threads(1)
torch.manual_seed(0)
model = torchvision.models.mobilenet_v2().eval()

img = Image.open(image_path).convert("RGB")
w, h = img.size
s = 256 / min(w, h)
img = img.resize((round(w * s), round(h * s)), Image.BILINEAR)
l, t = (img.size[0] - 224) // 2, (img.size[1] - 224) // 2
img = img.crop((l, t, l + 224, t + 224))
rgb = np.asarray(img, dtype=np.float32) / 255
x = torch.from_numpy(((rgb - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).astype(np.float32)).permute(2, 0, 1)[None]
yy, xx = np.mgrid[0:224, 0:224]
cam = np.exp(-((yy - 90.0) ** 2 + (xx - 120.0) ** 2) / (2 * 40.0 ** 2)).astype(np.float32)[None]

with torch.no_grad():
    cls = int(model(x).argmax())
    model(x)
    tf = []
    for _ in range(11):
        t0 = time.perf_counter()
        model(x)
        tf.append((time.perf_counter() - t0) * 1000)
forward = float(np.median(tf))
metric = ROADCombined()
targets = [ClassifierOutputSoftmaxTarget(cls)]
if serve:
    metric(x, cam, targets, model)  # warm-up
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "road":
            break
        t0, c0 = time.perf_counter(), time.process_time()
        metric(x, cam, targets, model)
        print(f"{(time.perf_counter() - t0) * 1000:.1f} {(time.process_time() - c0) * 1000:.1f}", flush=True)
    sys.exit(0)
tr = []
for _ in range(runs):
    t0 = time.perf_counter()
    metric(x, cam, targets, model)
    tr.append((time.perf_counter() - t0) * 1000)
road = float(np.median(tr))
print(f"torch {torch.__version__}, 1 thread; medians; image {image_path} (224x224), class {cls}")
print(f"one forward (batch 1): {forward:.2f} ms")
print(f"ROADCombined (9 percentiles, noise 0.01): {road:.1f} ms = {road / forward:.1f} forwards")
