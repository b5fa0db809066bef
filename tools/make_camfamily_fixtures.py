#!/usr/bin/python3
"""Writes the reference maps of the "rest of the CAM family" tests with pytorch-grad-cam itself.

Run with Debian's python3 (torch 1.13, onnx, numpy, opencv, sklearn), the reference implementation
checked out outside the repository (default /work/ref/jacobgil+pytorch-grad-cam, commit
084273b3f30b54ad0c64cf8020a4337d979a66e0; override with GRADCAM_REF=path; its dependency ttach from
TTACH_REF, default /work/ref/qubvel+ttach):

    /usr/bin/python3 tools/make_camfamily_fixtures.py

A tiny CNN with seeded random weights, conv biases and BatchNorm (FullGrad reads biases) and SiLU
after the target layer (so the Hessian that Shapley-CAM reads is not zero), exported to ONNX
(opset 13, output `logits`). Two seeded inputs [2,3,32,32]. For each input and class (its top-1 and
class 7) the reference's FEM, KPCA-CAM (sigmoid and rbf kernels), Finer-CAM, Shapley-CAM, FullGrad
and Deep Feature Factorization are run; CAM maps are taken at the layer's own resolution (the
reference's target size set to the layer's, so its final resize is the identity), FullGrad's at the
input's (it has no layer). Output: tests/Salient.Tests/Fixtures/camfamily/{tinybn.onnx, x.npy,
camfamily.json}.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

REF = os.environ.get("GRADCAM_REF", "/work/ref/jacobgil+pytorch-grad-cam")
sys.path[:0] = [REF, os.environ.get("TTACH_REF", "/work/ref/qubvel+ttach")]
from pytorch_grad_cam import FEM, KPCA_CAM, FinerCAM, FullGrad, ShapleyCAM  # noqa: E402
from pytorch_grad_cam.feature_factorization.deep_feature_factorization import DeepFeatureFactorization  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Salient.Tests", "Fixtures", "camfamily")
REFERENCE = "jacobgil/pytorch-grad-cam@084273b3f30b54ad0c64cf8020a4337d979a66e0"
SECOND_CLASS = 7


class TinyBn(nn.Module):
    """conv(bias) → ReLU → BN → conv(no bias) → BN → ReLU → conv(bias) → SiLU [layer] → conv1×1(bias) → SiLU → mean → linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)              # after a ReLU: stays a BatchNormalization node in ONNX
        self.c2 = nn.Conv2d(8, 12, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(12)             # after a bias-free conv: folded into it by the export (same bias)
        self.c3 = nn.Conv2d(12, 16, 3, stride=2, padding=1)
        self.act3 = nn.SiLU()                     # the target layer's output
        self.c4 = nn.Conv2d(16, 16, 1)
        self.fc = nn.Linear(16, 10)

    def head(self, a):
        return self.fc(torch.nn.functional.silu(self.c4(a)).mean(dim=(2, 3)))

    def forward(self, x):
        x = self.bn1(torch.relu(self.c1(x)))
        x = torch.relu(self.bn2(self.c2(x)))
        return self.head(self.act3(self.c3(x)))


def low_res(cam, h, w):
    """Makes a BaseCAM-style object return maps at the layer's resolution (its resize becomes the identity)."""
    cam.get_target_width_height = lambda _x: (w, h)
    return cam


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(5)
    model = TinyBn().eval()
    with torch.no_grad():
        for prm in model.parameters():
            prm.normal_(0, 0.4)
        for bn in (model.bn1, model.bn2):
            bn.running_mean.normal_(0, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (2, 3, 32, 32)).astype(np.float32)
    xt = torch.from_numpy(x)
    path = os.path.join(OUT, "tinybn.onnx")
    torch.onnx.export(model, xt, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
    g = onnx.load(path).graph
    # The layer tensor: the input of the Conv whose weight is c4's.
    layer = next(n.input[0] for n in g.node if n.op_type == "Conv" and "c4" in n.input[1])
    np.save(os.path.join(OUT, "x.npy"), x)
    with torch.no_grad():
        logits = model(xt).numpy()
        act = model.act3(model.c3(torch.relu(model.bn2(model.c2(model.bn1(torch.relu(model.c1(xt)))))))).numpy()
    h, w = act.shape[2:]
    cases = []
    for i in range(2):
        for c in [int(np.argmax(logits[i])), SECOND_CLASS]:
            cases.append((i, c))

    result = {"reference": REFERENCE, "layer": layer, "layer_shape": list(act.shape), "logits": logits.tolist(),
              "cases": [{"item": i, "class": c} for i, c in cases], "maps": {}}
    maps = result["maps"]

    def per_case(name, make, **call):
        out = []
        for i, c in cases:
            cam = make()
            m = cam(input_tensor=xt[i:i + 1], targets=[ClassifierOutputTarget(c)], **call)
            out.append(np.asarray(m[0], dtype=np.float64).ravel().tolist())
        maps[name] = out

    per_case("fem", lambda: low_res(FEM(model, [model.act3]), h, w))
    per_case("fem-k1", lambda: low_res(FEM(model, [model.act3], k=1), h, w))
    per_case("kpcacam", lambda: low_res(KPCA_CAM(model, [model.act3]), h, w))
    per_case("kpcacam-rbf", lambda: low_res(KPCA_CAM(model, [model.act3], kernel="rbf"), h, w))
    per_case("shapleycam", lambda: low_res(ShapleyCAM(model, [model.act3]), h, w))
    per_case("fullgrad", lambda: FullGrad(model, []))

    # Finer-CAM: the target class is its own most similar (index 0 of the sorted differences); the three next are compared.
    finer = []
    for i, c in cases:
        cam = FinerCAM(model, [model.act3])
        low_res(cam.base_cam, h, w)
        finer.append(np.asarray(cam(xt[i:i + 1], target_idx=c)[0], dtype=np.float64).ravel().tolist())
    maps["finercam"] = finer

    # Deep Feature Factorization, one image at a time (the reference factorizes a whole batch jointly);
    # the concepts' class scores come from the head applied to a map that is the concept everywhere.
    dff = []
    for i in range(2):
        d = DeepFeatureFactorization(model, model.act3,
                                     computation_on_concepts=lambda t: model.head(t[:, :, None, None].expand(-1, -1, h, w)))
        concepts, explanations, scores = d(xt[i:i + 1], n_components=4)
        # Its explanations are min–max scaled and resized to the input; take the NMF factor H itself (same order).
        from pytorch_grad_cam.feature_factorization.deep_feature_factorization import dff as factorize
        concepts2, raw = factorize(act[i:i + 1].copy(), n_components=4)
        assert np.allclose(concepts, concepts2, atol=1e-3)
        # The same factorization with scikit-learn's multiplicative-update solver (Salient's solver=mu), same init.
        from sklearn.decomposition import NMF
        x2 = act[i].reshape(act.shape[1], -1)
        x2 = x2 - x2.min(axis=-1)[:, None]
        mu = NMF(n_components=4, init="random", random_state=0, solver="mu")
        w_mu = mu.fit_transform(x2)
        dff.append({"item": i, "components": 4, "concepts": concepts.T.tolist(), "maps": raw[0].reshape(4, -1).tolist(),
                    "concept_logits": scores.tolist(), "mu_maps": mu.components_.tolist(), "mu_iterations": int(mu.n_iter_),
                    "mu_concepts": (w_mu + act[i].reshape(act.shape[1], -1).min(axis=-1)[:, None]).T.tolist()})
    result["dff"] = dff

    # The reference's random NMF initialization draws from numpy's legacy RandomState(0): a few values to test our generator with.
    result["randomstate0_standard_normal"] = np.random.RandomState(0).standard_normal(8).tolist()
    with open(os.path.join(OUT, "camfamily.json"), "w") as f:
        json.dump(result, f)
    print("layer", layer, act.shape, "cases", cases, "onnx bytes", os.path.getsize(path))


if __name__ == "__main__":
    main()
