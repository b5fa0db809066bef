#!/usr/bin/python3
"""Writes the reference fixtures of the Evaluation tests with pytorch-grad-cam's own metrics.

Run with Debian's python3 (torch 1.13, onnx, numpy, scipy, opencv), the reference implementation
checked out outside the repository (default /work/ref/jacobgil+pytorch-grad-cam, commit
084273b3f30b54ad0c64cf8020a4337d979a66e0; override with GRADCAM_REF=path; its dependency ttach
from TTACH_REF, default /work/ref/qubvel+ttach):

    /usr/bin/python3 tools/make_eval_fixtures.py

A tiny CNN with seeded random weights (N(0, 0.3²), so scores react to perturbations) is exported to ONNX (output `logits`); two seeded inputs
[2,3,24,24] and two maps in [0,1] (a Gaussian blob plus small noise, no ties) are saved as .npy; the
reference's ROADMostRelevantFirst / ROADLeastRelevantFirst (each percentile), their averages,
ROADCombined and CamMultImageConfidenceChange / DropInConfidence / IncreaseInConfidence are run with
the noisy linear imputation's noise set to 0, for the softmax-probability and the logit target.
Output: tests/Salient.Tests/Fixtures/eval/{tinycnn.onnx, x.npy, maps.npy, eval_fixtures.json}.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

REF = os.environ.get("GRADCAM_REF", "/work/ref/jacobgil+pytorch-grad-cam")
sys.path[:0] = [REF, os.environ.get("TTACH_REF", "/work/ref/qubvel+ttach")]
from pytorch_grad_cam.metrics import road  # noqa: E402
from pytorch_grad_cam.metrics.cam_mult_image import (CamMultImageConfidenceChange, DropInConfidence,  # noqa: E402
                                                     IncreaseInConfidence)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget, ClassifierOutputTarget  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Salient.Tests", "Fixtures", "eval")
PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90]

# Noise 0: the imputation becomes deterministic (every imputer the metrics construct picks this default up).
road.NoisyLinearImputer.__init__.__defaults__ = (0.0, road.neighbors_weights)


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        return self.fc(x.mean(dim=(2, 3)))


def maps(rng, n, h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for _ in range(n):
        cy, cx = rng.uniform(4, h - 4), rng.uniform(4, w - 4)
        m = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 4.0 ** 2)) + 0.05 * rng.random((h, w))
        m = (m - m.min()) / (m.max() - m.min())
        out.append(m.astype(np.float32))
    return np.stack(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(11)
    model = TinyCnn().eval()
    with torch.no_grad():  # larger than the default initialization, so perturbations move the scores visibly
        for prm in model.parameters():
            prm.normal_(0, 0.3)
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, (2, 3, 24, 24)).astype(np.float32)
    cams = maps(rng, 2, 24, 24)
    xt = torch.from_numpy(x)
    torch.onnx.export(model, xt, os.path.join(OUT, "tinycnn.onnx"), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
    np.save(os.path.join(OUT, "x.npy"), x)
    np.save(os.path.join(OUT, "maps.npy"), cams)
    with torch.no_grad():
        logits = model(xt).numpy()
    classes = [int(np.argmax(l)) for l in logits]
    result = {"reference": "jacobgil/pytorch-grad-cam@084273b3f30b54ad0c64cf8020a4337d979a66e0", "noise": 0.0,
              "percentiles": PERCENTILES, "classes": classes, "logits": logits.tolist(), "targets": {}}
    for name, make in [("probability", ClassifierOutputSoftmaxTarget), ("logit", ClassifierOutputTarget)]:
        targets = [make(c) for c in classes]
        r = {}
        r["road_morf"] = {str(p): road.ROADMostRelevantFirst(p)(xt, cams, targets, model).tolist() for p in PERCENTILES}
        r["road_lerf"] = {str(p): road.ROADLeastRelevantFirst(p)(xt, cams, targets, model).tolist() for p in PERCENTILES}
        r["road_morf_average"] = road.ROADMostRelevantFirstAverage(PERCENTILES)(xt, cams, targets, model).tolist()
        r["road_lerf_average"] = road.ROADLeastRelevantFirstAverage(PERCENTILES)(xt, cams, targets, model).tolist()
        r["road_combined"] = road.ROADCombined(PERCENTILES)(xt, cams, targets, model).tolist()
        r["confidence_change"] = CamMultImageConfidenceChange()(xt, cams, targets, model).tolist()
        r["drop_in_confidence"] = DropInConfidence()(xt, cams, targets, model).tolist()
        r["increase_in_confidence"] = IncreaseInConfidence()(xt, cams, targets, model).tolist()
        with torch.no_grad():
            r["score"] = [float(t(o)) for t, o in zip(targets, model(xt))]
        result["targets"][name] = r
    with open(os.path.join(OUT, "eval_fixtures.json"), "w") as f:
        json.dump(result, f, indent=1)
    for k, r in result["targets"].items():
        print(k, {m: r[m] for m in ("road_morf_average", "road_lerf_average", "road_combined", "confidence_change", "score")})


if __name__ == "__main__":
    main()
