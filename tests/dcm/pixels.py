#!/usr/bin/python3
"""Independent reference for the tests/dcm executables, using pydicom and numpy.

usage:
  pixels.py dump IN.dcm OUT.raw    first frame as little-endian uint16, stored values made
                                   unsigned (signed data offset by 2^(BitsStored-1))
  pixels.py to8bit IN.dcm OUT.dcm  the same image with Bits Allocated 8 (values >> shift)
  pixels.py seg IN.dcm OUT.raw     a binary SEG: frame count, rows, columns as uint32, then
                                   every frame's mask as one byte per pixel (0 or 1)
"""
import sys

import numpy as np
import pydicom


def dump(src, dst):
    ds = pydicom.dcmread(src)
    arr = ds.pixel_array
    if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        arr = arr[0]
    bits = int(ds.BitsStored)
    arr = arr.astype(np.int64)
    if int(ds.PixelRepresentation) == 1:
        arr = arr + (1 << (bits - 1))
    arr = arr & ((1 << bits) - 1)
    arr.astype("<u2").tofile(dst)


def to8bit(src, dst):
    ds = pydicom.dcmread(src)
    arr = ds.pixel_array.astype(np.uint32)
    shift = max(int(ds.BitsStored) - 8, 0)
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = (arr >> shift).astype(np.uint8).tobytes()
    ds["PixelData"].VR = "OB"
    ds.save_as(dst)


def seg(src, dst):
    ds = pydicom.dcmread(src)
    arr = ds.pixel_array
    if arr.ndim == 2:
        arr = arr[np.newaxis, ...]
    header = np.array([arr.shape[0], arr.shape[1], arr.shape[2]], dtype="<u4")
    with open(dst, "wb") as f:
        f.write(header.tobytes())
        f.write((arr != 0).astype(np.uint8).tobytes())


if __name__ == "__main__":
    commands = {"dump": dump, "to8bit": to8bit, "seg": seg}
    if len(sys.argv) != 4 or sys.argv[1] not in commands:
        sys.stderr.write(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2], sys.argv[3])
