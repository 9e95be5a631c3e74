"""Writes a 1x1 RGB PNG whose deflate stream starts a block of the reserved
type 3: a valid container (signature, chunk CRCs) that no decoder can
inflate.

usage: make_bad_png.py OUT.png
"""

import struct
import sys
import zlib


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
# zlib header (deflate, 32K window), then BFINAL=1 with BTYPE=3 (reserved).
idat = bytes([0x78, 0x9C, 0x07]) + bytes(8)
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))
