#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Makes the small test images in this folder and the scikit-image reference
metrics the C test suite compares against. Run once by hand (needs Debian's
python3-skimage and a built crisp); the test suite itself needs no Python.

    /usr/bin/python3 tests/data/make_data.py build/tools/crisp

Images: crops of scikit-image's astronaut.png (public domain, NASA), shipped
by Debian's python3-skimage, degraded with `crisp degrade`.
Metrics: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 rounded to 8 bits
(MATLAB's rgb2ycbcr on uint8), a border crop, then skimage's
peak_signal_noise_ratio(data_range=255) and structural_similarity(
data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False).
"""
import os
import subprocess
import sys

import numpy as np
import skimage
from skimage import io
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

here = os.path.dirname(os.path.abspath(__file__))
crisp = sys.argv[1] if len(sys.argv) > 1 else "build/tools/crisp"


def luma(rgb):
    rgb = rgb.astype(np.float64)
    y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    return np.floor(y + 0.5)


def metrics(a, b, crop):
    ya, yb = luma(a), luma(b)
    if crop:
        ya, yb = ya[crop:-crop, crop:-crop], yb[crop:-crop, crop:-crop]
    psnr = peak_signal_noise_ratio(ya, yb, data_range=255)
    ssim = structural_similarity(ya, yb, data_range=255, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    return psnr, ssim


def main():
    src = io.imread(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))
    src = src[..., :3]
    crops = {"ref.png": src[64:160, 160:288], "odd.png": src[300:329, 200:245]}
    for name, img in crops.items():
        io.imsave(os.path.join(here, name), img, check_contrast=False)
    pairs = []
    for proto in ("x2", "vc", "blur"):
        out = os.path.join(here, f"ref-{proto}.png")
        subprocess.run([crisp, "degrade", "--protocol", proto, os.path.join(here, "ref.png"), out],
                       check=True)
        pairs.append(("ref.png", f"ref-{proto}.png"))
    out = os.path.join(here, "odd-blur.png")
    subprocess.run([crisp, "degrade", "--protocol", "blur", os.path.join(here, "odd.png"), out],
                   check=True)
    pairs.append(("odd.png", "odd-blur.png"))
    lines = ["# ref test crop psnr_y ssim_y  (scikit-image %s, see make_data.py)" % skimage.__version__]
    for ref, test in pairs:
        a = io.imread(os.path.join(here, ref))[..., :3]
        b = io.imread(os.path.join(here, test))[..., :3]
        for crop in (0, 2, 4):
            psnr, ssim = metrics(a, b, crop)
            lines.append(f"{ref} {test} {crop} {psnr:.10f} {ssim:.10f}")
    with open(os.path.join(here, "metrics_expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
