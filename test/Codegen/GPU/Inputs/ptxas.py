"""Assembles every kernel module of a `fovea-compile --compile-to ptx`
listing with ptxas: `ptxas.py PTXAS ARCH LISTING`. Prints one line per
listing; exits 1 naming the first module ptxas rejects."""

import os
import re
import subprocess
import sys
import tempfile


def main():
    ptxas, arch, listing = sys.argv[1:4]
    text = open(listing).read()
    parts = re.split(r"^// kernel module @(\S+)\n", text, flags=re.M)[1:]
    modules = list(zip(parts[0::2], parts[1::2]))
    if not modules:
        sys.exit(f"{listing}: no kernel modules")
    work = tempfile.mkdtemp(prefix="fovea-ptxas-")
    registers = spilled = 0
    for name, ptx in modules:
        path = os.path.join(work, name + ".ptx")
        with open(path, "w") as f:
            f.write(ptx)
        result = subprocess.run([ptxas, f"-arch={arch}", "-v", path, "-o",
                                 os.path.join(work, name + ".cubin")],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"ptxas rejected kernel module @{name}: "
                     + " ".join(result.stderr.split())[:400])
        registers = max([registers] + [int(r) for r in
                                       re.findall(r"Used (\d+) registers", result.stderr)])
        spilled += sum(int(n) for n in re.findall(r"(\d+) bytes spill stores", result.stderr))
    print(f"{len(modules)} kernel modules assemble for {arch} "
          f"(at most {registers} registers per thread, {spilled} bytes of spill stores)")


if __name__ == "__main__":
    main()
