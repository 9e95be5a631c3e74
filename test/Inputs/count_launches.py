#!/usr/bin/env python3
"""Counts, in the `gpu` phase of fovea-compile, the kernel launches of each
host function and the host-side copies of device buffers other than
constants (memref.copy between buffers that are not `memref.get_global`s).

usage: count_launches.py FILE.mlir
"""

import re
import sys


def main(path):
    text = open(path).read()
    # Host functions are func.func at module level; kernels live in
    # gpu.module.
    for match in re.finditer(r"^  func\.func @(\w+)\(.*?^  }$", text, re.M | re.S):
        body = match.group(0)
        launches = body.count("gpu.launch_func")
        constants = set(re.findall(r"(%\w+) = memref\.get_global", body))
        copies = [m for m in re.findall(r"memref\.copy (%\w+), (%\w+)", body)
                  if m[0] not in constants]
        if launches:
            print(f"@{match.group(1)}: {launches} launches, "
                  f"{len(copies)} copies")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
