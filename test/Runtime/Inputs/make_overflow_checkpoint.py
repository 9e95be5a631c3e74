"""Writes a safetensors file whose tensor shape [2^32, 2^32] overflows a
64-bit byte count to 0 and so matches its empty span [0, 0), and a .npy of
pixels for a 64x64 module.

usage: make_overflow_checkpoint.py OUT.safetensors PIXELS.npy
"""

import json
import struct
import sys

import numpy as np

header = json.dumps({"vision_model.radio_model.model.patch_generator.cls_token.token": {
    "dtype": "F32", "shape": [2**32, 2**32], "data_offsets": [0, 0]}}).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
np.save(sys.argv[2], np.zeros((1, 3, 64, 64), np.uint8))
