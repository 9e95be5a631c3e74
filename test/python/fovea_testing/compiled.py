"""Compiles vision IR with fovea-cpu-pipeline into a shared object and calls
its functions on numpy arrays through their C interface (memref
descriptors).

Tools are found through environment variables set by lit (FOVEA_TOOLS_DIR,
LLVM_TOOLS_DIR), falling back to build/bin and /usr/lib/llvm-22/bin.
"""

import ctypes
import os
import re
import subprocess
import tempfile

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_SRC_ROOT = os.path.abspath(os.path.join(_HERE, "..", "..", ".."))

# MLIR element type -> numpy dtype of the buffer (bf16 travels as uint16).
_DTYPES = {
    "f32": np.float32,
    "f16": np.float16,
    "bf16": np.uint16,
    "f64": np.float64,
    "i64": np.int64,
    "i32": np.int32,
    "ui8": np.uint8,
    "i8": np.int8,
    "i1": np.bool_,
}


def _tool(env_var, default_dir, name):
    directory = os.environ.get(env_var, default_dir)
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{name} not found in {directory} (set {env_var})")
    return path


def _run(cmd, stdin=None):
    result = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return result.stdout


def _descriptor_type(rank):
    fields = [
        ("allocated", ctypes.c_void_p),
        ("aligned", ctypes.c_void_p),
        ("offset", ctypes.c_int64),
    ]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def _parse_tensor_type(text):
    """'tensor<?x3x4xbf16>' -> (rank, element type)."""
    match = re.fullmatch(r"tensor<(.*)>", text.strip())
    if not match:
        raise ValueError(f"not a ranked tensor type: {text}")
    parts = match.group(1).split("x")
    return len(parts) - 1, parts[-1]


def _split_types(text):
    """Splits a comma-separated type list, ignoring commas inside <>."""
    types, depth, current = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            types.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        types.append(current.strip())
    return types


def _signature(mlir_text, name):
    """Argument and result tensor types of func.func @name."""
    start = mlir_text.index(f"func.func @{name}(")
    depth, i = 0, mlir_text.index("(", start)
    for j in range(i, len(mlir_text)):
        if mlir_text[j] == "(":
            depth += 1
        elif mlir_text[j] == ")":
            depth -= 1
            if depth == 0:
                break
    args_text = mlir_text[i + 1 : j]
    arg_types = [re.sub(r"\{.*\}", "", a).split(":", 1)[1].strip()
                 for a in _split_types(args_text)]
    rest = mlir_text[j + 1 :]
    brace = rest.index("{")
    header = rest[:brace]
    header = header.split("attributes")[0]
    results = []
    if "->" in header:
        res = header.split("->", 1)[1].strip()
        if res.startswith("("):
            res = res[1 : res.rindex(")")]
        results = _split_types(res)
    return arg_types, results


def _runtime_library():
    """The static runtime library (matmul microkernels, threads) that CPU
    code calls."""
    tools = os.environ.get("FOVEA_TOOLS_DIR", os.path.join(_SRC_ROOT, "build", "bin"))
    path = os.path.join(tools, "..", "lib", "Runtime", "libFoveaRuntime.a")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found (build Fovea first)")
    return path


def _shared_object(llvm_ir, workdir):
    """Builds a shared object from LLVM IR text."""
    llvm_dir = "/usr/lib/llvm-22/bin"
    clang = _tool("LLVM_TOOLS_DIR", llvm_dir, "clang++")
    ll_path = os.path.join(workdir, "module.ll")
    so_path = os.path.join(workdir, "module.so")
    with open(ll_path, "w") as f:
        f.write(llvm_ir)
    # Strided memref copies call memrefCopy, which Fovea's runtime provides
    # (as it does for modules), not MLIR's C runner utilities.
    _run([clang, "-O3", "-march=native", "-shared", "-fPIC", "-Wno-override-module",
          ll_path, "-o", so_path, _runtime_library(), "-lm", "-pthread"])
    return so_path


class CompiledModule:
    """A shared object built from vision IR; call(name, *arrays).

    `mlir_text` is the IR the functions' signatures are read from (tensor
    level); `library` the shared object built from it."""

    def __init__(self, mlir_text, library):
        self.mlir_text = mlir_text
        self.library = ctypes.CDLL(library)

    def argument_shapes(self, name):
        """Shapes of @name's arguments (None for dynamic sizes)."""
        arg_types, _ = _signature(self.mlir_text, name)
        shapes = []
        for text in arg_types:
            dims = re.fullmatch(r"tensor<(.*)>", text.strip()).group(1).split("x")[:-1]
            shapes.append([None if d == "?" else int(d) for d in dims])
        return shapes

    def call(self, name, *arrays):
        arg_types, result_types = _signature(self.mlir_text, name)
        if len(arrays) != len(arg_types):
            raise ValueError(f"@{name} takes {len(arg_types)} arguments, got {len(arrays)}")
        keep_alive, arg_ptrs = [], []
        for array, type_text in zip(arrays, arg_types):
            rank, element = _parse_tensor_type(type_text)
            array = np.ascontiguousarray(array, dtype=_DTYPES[element])
            if array.ndim != rank:
                raise ValueError(f"argument of type {type_text} got shape {array.shape}")
            desc = _descriptor_type(rank)()
            desc.allocated = desc.aligned = array.ctypes.data
            desc.offset = 0
            for d in range(rank):
                desc.sizes[d] = array.shape[d]
                desc.strides[d] = array.strides[d] // array.itemsize
            keep_alive += [array, desc]
            arg_ptrs.append(ctypes.pointer(desc))
        parsed = [_parse_tensor_type(t) for t in result_types]
        descs = [_descriptor_type(rank) for rank, _ in parsed]
        if len(descs) == 1:
            result = descs[0]()
        else:
            result_struct = type("Results", (ctypes.Structure,),
                                 {"_fields_": [(f"r{i}", d) for i, d in enumerate(descs)]})
            result = result_struct()
        function = getattr(self.library, f"_mlir_ciface_{name}")
        function.restype = None
        function(ctypes.pointer(result), *arg_ptrs)
        outputs = []
        for i, (rank, element) in enumerate(parsed):
            desc = result if len(descs) == 1 else getattr(result, f"r{i}")
            dtype = np.dtype(_DTYPES[element])
            shape = tuple(desc.sizes[d] for d in range(rank))
            strides = tuple(desc.strides[d] * dtype.itemsize for d in range(rank))
            count = int(np.prod(shape)) if shape else 1
            if count == 0:
                outputs.append(np.zeros(shape, dtype))
                continue
            base = desc.aligned + desc.offset * dtype.itemsize
            extent = sum((s - 1) * st for s, st in zip(shape, strides)) + dtype.itemsize
            buffer = (ctypes.c_char * extent).from_address(base)
            view = np.ndarray(shape, dtype, buffer=buffer, strides=strides)
            outputs.append(np.array(view))
        return outputs


def fusion_option(prefix="--"):
    """The fusion set the suite runs with (lit's `--param fovea_fusion`,
    environment FOVEA_FUSION) as an option: `--fusion=none` for
    fovea-compile (prefix "--"), `fusion=none` for a pipeline (prefix "");
    empty for the default set."""
    fusion = os.environ.get("FOVEA_FUSION", "")
    return f"{prefix}fusion={fusion}" if fusion else ""


def fusion_flags():
    return [fusion_option()] if fusion_option() else []


def compile_mlir(mlir_text, extra_pipeline_options="", pipeline="fovea-cpu-pipeline"):
    """Compiles `mlir_text` (functions must carry llvm.emit_c_interface)
    with `pipeline` (fovea-cpu-pipeline, or fovea-gpu-pipeline with
    emulate-on-host) for the host."""
    workdir = tempfile.mkdtemp(prefix="fovea-test-")
    fovea_opt = _tool("FOVEA_TOOLS_DIR", os.path.join(_SRC_ROOT, "build", "bin"), "fovea-opt")
    translate = _tool("LLVM_TOOLS_DIR", "/usr/lib/llvm-22/bin", "mlir-translate")
    pipeline = "--" + pipeline
    options = [o for o in (extra_pipeline_options, fusion_option("")) if o]
    if options:
        pipeline += "=" + " ".join(options)
    lowered = _run([fovea_opt, pipeline, "-"], stdin=mlir_text)
    llvm_ir = _run([translate, "--mlir-to-llvmir", "-"], stdin=lowered)
    return CompiledModule(mlir_text, _shared_object(llvm_ir, workdir))


def compile_model(*args):
    """Compiles a model with fovea-compile `args` (e.g. "--preset", "tiny").
    Returns the module (entry point `run`) and the checkpoint names of its
    weight arguments, in order."""
    workdir = tempfile.mkdtemp(prefix="fovea-test-")
    compiler = _tool("FOVEA_TOOLS_DIR", os.path.join(_SRC_ROOT, "build", "bin"), "fovea-compile")
    args = [*args, *fusion_flags()]
    vision = _run([compiler, *args, "--compile-to", "vision"])
    # @run alone, with every weight as an argument (no @init).
    llvm_ir = _run([compiler, *args, "--hoist-weight-only=false", "--compile-to", "llvm-ir"])
    names = re.findall(r'vision\.weight = "([^"]+)"', vision)
    return CompiledModule(vision, _shared_object(llvm_ir, workdir)), names
