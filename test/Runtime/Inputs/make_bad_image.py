"""Writes an image file that decoders must reject in one line.

usage: make_bad_image.py KIND OUT
  reserved-deflate  a 1x1 RGB PNG whose deflate stream starts a block of the
                    reserved type 3 (a valid container: signature, CRCs)
  huge-png          a PNG whose header declares 9000 x 9000 pixels (81 M)
  pgm16             a 16-bit PGM (to be saved under a .png name)
  bmp-tall          a 54-byte BMP (found by fuzz-image) whose negative
                    (top-down) height declares 11682306 rows of 50 pixels:
                    the size check missed negative heights and the decoder
                    allocated and filled 1.7 GB for 33 s
  bmp-int-min       a BMP (found by fuzz-image) of height -2^31, on which
                    stb_image's loader computes abs(INT_MIN) (undefined)
"""

import struct
import sys
import zlib


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width, height, idat):
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


kind, out = sys.argv[1], sys.argv[2]
if kind == "reserved-deflate":
    # zlib header (deflate, 32K window), then BFINAL=1 with BTYPE=3.
    data = png(1, 1, bytes([0x78, 0x9C, 0x07]) + bytes(8))
elif kind == "huge-png":
    data = png(9000, 9000, zlib.compress(bytes(64)))
elif kind == "bmp-tall":
    data = bytes.fromhex(
        "424df60000000000000036000000280000003200"
        "0000febd4dff0100180000000000c0000000c40e"
        "0000c40e00b3000000005e0a7d3d")
elif kind == "bmp-int-min":
    data = bytes.fromhex(
        "424dcb00000000000000ffff000028000000f900000000000080010000e8"
        "000000c4000000fe0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
        "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
        "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
        "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
        "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
        "0c0c0c0c0c0c0c0c0cffffff0100180000000000c0000000c40e0000c400"
        "00")
elif kind == "pgm16":
    data = b"P5\n2 2\n65535\n" + bytes(8)
else:
    sys.exit(f"unknown kind {kind}")
with open(out, "wb") as f:
    f.write(data)
