#!/usr/bin/python3
"""Measures the power-spectrum exponent beta (P(f) ~ 1/f^beta) of a phantom's breast
tissue, the way mammographic texture studies do: square regions inside the breast, away
from the skin (full compressed thickness), plane removed, Hann window, radial average of
|FFT|^2, least-squares slope of log P against log f over 0.1 .. 1 cycles/mm.

usage: spectrum.py IMAGE.pgm BREAST.pgm SPACING_MM BETA_MIN BETA_MAX
Prints the measured beta; exit 0 when it lies in [BETA_MIN, BETA_MAX], 1 when not,
77 when numpy/scipy are missing (the test is skipped)."""
import sys

try:
    import numpy as np
    from scipy import ndimage
except ImportError:
    print("numpy/scipy not available", file=sys.stderr)
    sys.exit(77)

ROI_PX = 256
SKIN_CLEARANCE_MM = 20.0
FIT_LOW, FIT_HIGH = 0.1, 1.0  # cycles/mm


def read_pgm(path):
    data = open(path, "rb").read()
    fields, pos = [], 2
    assert data[:2] == b"P5", path
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(int(data[start:pos]))
    pos += 1
    w, h, maxval = fields
    dtype = ">u2" if maxval > 255 else "u1"
    return np.frombuffer(data, dtype=dtype, count=w * h, offset=pos).reshape(h, w)


def main():
    image = read_pgm(sys.argv[1]).astype(np.float64)
    breast = read_pgm(sys.argv[2]) > 0
    spacing = float(sys.argv[3])
    beta_min, beta_max = float(sys.argv[4]), float(sys.argv[5])
    depth = ndimage.distance_transform_edt(breast) * spacing
    interior = depth > SKIN_CLEARANCE_MM
    yy, xx = np.mgrid[0:ROI_PX, 0:ROI_PX]
    design = np.column_stack([np.ones(ROI_PX * ROI_PX), xx.ravel(), yy.ravel()])
    window = np.outer(np.hanning(ROI_PX), np.hanning(ROI_PX))
    spectra = []
    for y in range(0, image.shape[0] - ROI_PX + 1, ROI_PX // 2):
        for x in range(0, image.shape[1] - ROI_PX + 1, ROI_PX // 2):
            if not interior[y:y + ROI_PX, x:x + ROI_PX].all():
                continue
            roi = image[y:y + ROI_PX, x:x + ROI_PX].ravel()
            coef, *_ = np.linalg.lstsq(design, roi, rcond=None)
            roi = (roi - design @ coef).reshape(ROI_PX, ROI_PX) * window
            spectra.append(np.abs(np.fft.fft2(roi)) ** 2)
    if not spectra:
        print("no region of %d px lies %.0f mm inside the breast" % (ROI_PX, SKIN_CLEARANCE_MM))
        return 1
    power = np.fft.fftshift(np.mean(spectra, axis=0))
    f = np.fft.fftshift(np.fft.fftfreq(ROI_PX, d=spacing))
    fx, fy = np.meshgrid(f, f)
    radius = np.hypot(fx, fy)
    step = f[1] - f[0]
    bins = np.round(radius / step).astype(int)
    sums = np.bincount(bins.ravel(), power.ravel())
    counts = np.bincount(bins.ravel())
    freq = np.arange(len(sums)) * step
    keep = (freq >= FIT_LOW) & (freq <= FIT_HIGH) & (counts > 0)
    slope, _ = np.polyfit(np.log(freq[keep]), np.log(sums[keep] / counts[keep]), 1)
    beta = -slope
    print("beta %.3f from %d regions (accepted %.2f .. %.2f)" % (beta, len(spectra), beta_min,
                                                                beta_max))
    return 0 if beta_min <= beta <= beta_max else 1


if __name__ == "__main__":
    sys.exit(main())
