"""Writes 15 photos into OUTDIR, made from the 4 shipped images in shared/images:
each image as is, mirrored, and a centre crop of 80 %, plus the first three flipped upside down."""
import os
import sys

import cv2

shared = sys.argv[1]
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
names = ["both.png", "dogs.png", "horses.jpg", "puppies.jpg"]
written = 0
for i, name in enumerate(names):
    img = cv2.imread(os.path.join(shared, "images", name), cv2.IMREAD_COLOR)
    stem, ext = os.path.splitext(name)
    h, w = img.shape[:2]
    variants = {"orig": img, "mirror": cv2.flip(img, 1),
                "crop": img[h // 10: h - h // 10, w // 10: w - w // 10]}
    if i < 3:
        variants["upside"] = cv2.flip(img, 0)
    for tag, v in variants.items():
        cv2.imwrite(os.path.join(out, f"{stem}_{tag}{ext}"), v)
        written += 1
print(f"{written} photos in {out}")
