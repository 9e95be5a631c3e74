#!/usr/bin/env python3
"""Checks that every numbered constraint of VisionOps.td has an invalid-IR
test named after it in invalid.mlir, and that every test names a real
constraint.

Usage: check_constraint_coverage.py VisionOps.td invalid.mlir
"""

import re
import sys


def main(td_path, tests_path):
    with open(td_path) as f:
        constraints = set(re.findall(r"\((\w+_c\d+)\)", f.read()))
    with open(tests_path) as f:
        tests = f.read()
    # A test covers a constraint when its function is named after it
    # (`@pixel_shuffle_c3` or `@pixel_shuffle_c3_suffix`) and it expects the
    # constraint's ID in a diagnostic.
    names = set(re.findall(r"func\.func @(\w+?_c\d+)(?:_\w+)?\(", tests))
    expected = set(re.findall(r"expected-error[^\n]*\((\w+_c\d+)\)\}\}", tests))
    missing = sorted(c for c in constraints if c not in names)
    # Constraints checked by ODS traits quote the trait's own message.
    trait_checked = {"gelu_c1", "relu2_c1"}
    unquoted = sorted(c for c in constraints - trait_checked if c not in expected)
    unknown = sorted(n for n in names if n not in constraints)
    for c in missing:
        print(f"error: constraint {c} has no test @{c} in {tests_path}")
    for c in unquoted:
        print(f"error: no expected diagnostic quotes ({c})")
    for n in unknown:
        print(f"error: test @{n} names no constraint of {td_path}")
    if not constraints:
        print(f"error: no numbered constraints found in {td_path}")
        return 1
    if missing or unquoted or unknown:
        return 1
    print(f"{len(constraints)} constraints, each with an invalid-IR test")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
