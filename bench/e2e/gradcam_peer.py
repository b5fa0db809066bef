#!/usr/bin/env python3
"""The PyTorch peer of the end-to-end benchmark: what pytorch-grad-cam's GradCAM does, as one script.

    /usr/bin/python3 bench/e2e/gradcam_peer.py MODEL_DIR NAME IMAGE OUT.png

Whole-command work, like `salient explain --method gradcam`: import torch, build the torchvision
architecture, load the saved weights (MODEL_DIR/NAME.pt from tools/make_bench_models.py), read and
preprocess the image (shorter side 256, center crop 224, ImageNet mean/std), forward with hooks on
the target layer, backward of the top-1 logit, Grad-CAM (channel weights = spatial mean of the
gradient, ReLU of the weighted sum), upsample to the crop, min-max normalize, write a jet overlay.
pytorch-grad-cam itself (jacobgil/pytorch-grad-cam) was not installed here (it pulls OpenCV,
scikit-learn, matplotlib, ttach); this script follows its GradCAM step for step: activations and
gradients from forward/backward hooks, weights = mean over H×W, ReLU, resize, scale to [0, 1].
Target layers are its documented choices: VGG features[-1], ResNet layer4[-1], ConvNeXt features[-1],
ViT encoder.layers[-1].ln_1 with the 14×14 token reshape.
"""
import sys, time
t0 = time.perf_counter()
import numpy as np
import torch, torchvision
from PIL import Image

model_dir, name, image_path, out_path = sys.argv[1:5]
torch.set_num_threads(max(1, torch.get_num_threads()))
model = getattr(torchvision.models, name)()
model.load_state_dict(torch.load(f'{model_dir}/{name}.pt'))
model.eval()
layer, reshape = {
    'vgg16': (lambda m: m.features[-1], None),
    'resnet50': (lambda m: m.layer4[-1], None),
    'convnext_tiny': (lambda m: m.features[-1], None),
    'vit_b_16': (lambda m: m.encoder.layers[-1].ln_1,
                 lambda t: t[:, 1:, :].reshape(t.shape[0], 14, 14, t.shape[2]).permute(0, 3, 1, 2)),
}[name]
target = layer(model)

img = Image.open(image_path).convert('RGB')
w, h = img.size
s = 256 / min(w, h)
if (w, h) != (224, 224):
    img = img.resize((round(w * s), round(h * s)), Image.BILINEAR)
    l, t = (img.size[0] - 224) // 2, (img.size[1] - 224) // 2
    img = img.crop((l, t, l + 224, t + 224))
rgb = np.asarray(img, dtype=np.float32) / 255
x = torch.from_numpy(((rgb - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).astype(np.float32)).permute(2, 0, 1)[None]

store = {}
target.register_forward_hook(lambda m, i, o: store.__setitem__('a', o))
target.register_full_backward_hook(lambda m, gi, go: store.__setitem__('g', go[0]))
t1 = time.perf_counter()
logits = model(x)
cls = int(logits.argmax())
model.zero_grad()
logits[0, cls].backward()
t2 = time.perf_counter()
a, g = store['a'].detach(), store['g'].detach()
if reshape is not None:
    a, g = reshape(a), reshape(g)
weights = g.mean(dim=(2, 3), keepdim=True)
cam = torch.relu((weights * a).sum(dim=1))[0].numpy()
cam = np.asarray(Image.fromarray(cam).resize((224, 224), Image.BILINEAR))
cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-7)
# jet colormap (matplotlib's piecewise-linear definition) and a 50% overlay
r = np.clip(1.5 - np.abs(4 * cam - 3), 0, 1); gch = np.clip(1.5 - np.abs(4 * cam - 2), 0, 1); b = np.clip(1.5 - np.abs(4 * cam - 1), 0, 1)
overlay = 0.5 * rgb + 0.5 * np.stack([r, gch, b], -1)
Image.fromarray((overlay * 255).astype(np.uint8)).save(out_path)
print(f'class {cls}  forward+backward {1000 * (t2 - t1):.0f} ms  total in script {1000 * (time.perf_counter() - t0):.0f} ms')
