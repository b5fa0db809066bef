#!/usr/bin/python3
"""Writes the noisy-linear-imputation fixture of the Evaluation tests with pytorch-grad-cam's own imputer.

    /usr/bin/python3 tools/make_imputation_fixture.py

Uses the reference implementation checked out outside the repository (GRADCAM_REF, default
/work/ref/jacobgil+pytorch-grad-cam, commit 084273b3f30b54ad0c64cf8020a4337d979a66e0; its dependency
ttach from TTACH_REF, default /work/ref/qubvel+ttach); nothing of it is copied here.

A seeded 3×64×64 image (smooth waves plus N(0, 0.1²) noise) and three masks of removed pixels big
enough for the imputation's systems to be hard: 90 % of the pixels around a blob's peak (a large
region touching the border), the 50 % farthest from it (a ring), and a seeded random 70 %. Each is
imputed by the reference's `NoisyLinearImputer` with its noise set to 0 (scipy's sparse direct solver).
Output: tests/Salient.Tests/Fixtures/eval/imputation_x.npy [3,64,64], imputation_masks.npy [3,64,64]
(1 = removed) and imputation_out.npy [3,3,64,64] (the imputed images, mask by mask).
"""
import os
import sys

import numpy as np
import torch

REF = os.environ.get("GRADCAM_REF", "/work/ref/jacobgil+pytorch-grad-cam")
sys.path[:0] = [REF, os.environ.get("TTACH_REF", "/work/ref/qubvel+ttach")]
from pytorch_grad_cam.metrics.road import NoisyLinearImputer  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Salient.Tests", "Fixtures", "eval")
H = W = 64


def main():
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    x = np.stack([np.sin(yy / (5 + c)) * np.cos(xx / (7 - c)) + 0.3 * c for c in range(3)])
    x = (x + rng.normal(0, 0.1, x.shape)).astype(np.float32)
    blob = np.exp(-((yy - 24) ** 2 + (xx - 38) ** 2) / (2 * 14.0 ** 2)) + 1e-6 * rng.random((H, W))
    masks = np.stack([blob >= np.percentile(blob, 10),       # MoRF at 10: 90 % removed
                      blob <= np.percentile(blob, 50),       # the half farthest from the peak
                      rng.random((H, W)) < 0.7]).astype(np.float32)
    imputer = NoisyLinearImputer(noise=0.0)
    out = np.stack([imputer(torch.from_numpy(x), torch.from_numpy(1 - m)).numpy() for m in masks])
    np.save(os.path.join(OUT, "imputation_x.npy"), x)
    np.save(os.path.join(OUT, "imputation_masks.npy"), masks)
    np.save(os.path.join(OUT, "imputation_out.npy"), out.astype(np.float32))
    print("removed per mask:", masks.reshape(3, -1).sum(1), "changed:", [float(np.abs(o - x).max()) for o in out])


if __name__ == "__main__":
    main()
