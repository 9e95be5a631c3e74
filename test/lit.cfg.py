# -*- Python -*-
# lit configuration of the Fovea regression tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "FOVEA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fovea_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "lit.local.cfg", "Unit", "python", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%fovea_src_root", config.fovea_src_root))
# The integration tests find the tools and the Python test support here.
config.environment["FOVEA_TOOLS_DIR"] = config.fovea_tools_dir
config.environment["LLVM_TOOLS_DIR"] = config.llvm_tools_dir
# The fake CUDA driver (test/FakeCuda) the GPU runtime tests load.
config.environment["FOVEA_FAKE_CUDA_DIR"] = os.path.join(config.fovea_obj_root, "test", "fake-cuda")
config.environment["PYTHONPATH"] = os.pathsep.join([
    os.path.join(config.fovea_src_root, "test", "python"),
    os.path.join(config.fovea_src_root, "test", "python", "reference"),
])
# Debian's interpreter, which has numpy and torch.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.environment["FILECHECK_OPTS"] = "-enable-var-scope --allow-unused-prefixes=false"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# `--param fovea_roundtrip=1`: every fovea-opt invocation also prints its IR
# in generic and custom form, parses both back and checks they match
# (MlirOptMain's --verify-roundtrip), so every test checks the printer and the
# parser of the ops it uses.
# Its outputs go to a directory of their own so both modes can run at once.
fovea_opt_args = []
if lit_config.params.get("fovea_roundtrip", "0") not in ("0", ""):
    fovea_opt_args = ["--verify-roundtrip"]
    config.available_features.add("roundtrip")
    config.test_exec_root = os.path.join(config.fovea_obj_root, "test-roundtrip")
    # The integration tests drive fovea-opt themselves: nothing to add.
    config.excludes.append("Integration")

# `--param fovea_fusion=none` (or `all`): the integration tests compile with
# that fusion set (fovea_testing passes it on to fovea-compile and the
# registered pipelines); outputs go to a directory of their own.
fovea_fusion = lit_config.params.get("fovea_fusion", "")
if fovea_fusion:
    config.environment["FOVEA_FUSION"] = fovea_fusion
    config.test_exec_root = os.path.join(config.fovea_obj_root,
                                         "test-fusion-" + fovea_fusion)

tool_dirs = [config.fovea_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("fovea-opt", extra_args=fovea_opt_args, unresolved="fatal"),
    ToolSubst("fovea-compile", unresolved="fatal"),
    ToolSubst("fovea-run", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# ptxas (from /usr/local/cuda) checks that generated PTX assembles.
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))

# A usable NVIDIA GPU (driver present, cuInit succeeds, one device or more)
# enables the GPU integration tests.
def _cuda_device_present():
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 \
        and count.value > 0


if _cuda_device_present():
    config.available_features.add("cuda")
