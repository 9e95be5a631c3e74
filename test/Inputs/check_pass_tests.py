"""Checks that every pass declared in a Passes.td has a lit test named after
its flag: for `fovea-gpu-tile-parallel-loops` declared in
include/fovea/Codegen/GPU/Passes.td, test/Codegen/GPU/tile-parallel-loops.mlir
must exist and run the flag. A conversion (`convert-vision-to-linalg`) may
instead have a directory named after it (test/Conversion/VisionToLinalg/)
whose every file runs it. Prints one line per missing test; exit 1 if any.

usage: check_pass_tests.py SOURCE_ROOT
"""

import pathlib
import re
import sys

PREFIXES = ("fovea-cpu-", "fovea-gpu-", "fovea-", "vision-")


def stem_of(flag):
    for prefix in PREFIXES:
        if flag.startswith(prefix):
            return flag[len(prefix):]
    return flag


def runs_flag(path, flag):
    text = path.read_text()
    return any(flag in line for line in text.splitlines() if "RUN:" in line)


def main(root):
    root = pathlib.Path(root)
    missing = []
    count = 0
    for td in sorted((root / "include" / "fovea").rglob("Passes.td")):
        relative = td.parent.relative_to(root / "include" / "fovea")
        # Dialect/Vision/Transforms -> test/Dialect/Vision (as the tests are laid out).
        if relative.name == "Transforms":
            relative = relative.parent
        test_dir = root / "test" / relative
        for flag in re.findall(r'Pass<"([^"]+)"', td.read_text()):
            count += 1
            test = test_dir / (stem_of(flag) + ".mlir")
            camel = "".join(part.capitalize() for part in stem_of(flag).split("-")
                            if part != "convert")
            family = test_dir / camel
            if test.exists() and runs_flag(test, flag):
                continue
            if family.is_dir():
                files = sorted(family.glob("*.mlir"))
                if files and all(runs_flag(f, flag) for f in files):
                    continue
            missing.append(f"{td.relative_to(root)}: pass '{flag}' has no test "
                           f"{test.relative_to(root)} that runs it")
    for line in missing:
        print(line)
    print(f"{count} passes, {count - len(missing)} with a test named after the flag")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
