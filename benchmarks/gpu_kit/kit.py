#!/usr/bin/env python3
"""The GPU check kit's runner (run.sh calls it; docs/GpuCheck.md).

On a machine with an NVIDIA GPU, CUDA and PyTorch (no LLVM, no FFmpeg, no
network needed): regenerates the weights and inputs from the kit's seed,
checks every CUDA module against the outputs the CPU backend computed when
the kit was built, runs compute-sanitizer's memcheck on a small module,
times nano-v2-vl at batch 1 and 64 against the same model in PyTorch (eager
and torch.compile, the same weights), and writes one JSON summary and a
table. With --cpu-only: the half that needs no GPU (the generators
reproduce the build's weights bit for bit, the small CPU modules reproduce
the expected outputs, the PyTorch peer computes the same model, the
artifacts need no LLVM, MLIR or FFmpeg library)."""

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

KIT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, KIT)
import kit_data  # noqa: E402

BF16_TOLERANCE = 3e-2  # ||gpu - cpu|| / ||cpu||, both bf16 storage


class Kit:
    def __init__(self, args):
        self.args = args
        with open(os.path.join(KIT, "kit.json")) as f:
            self.manifest = json.load(f)
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.started = time.time()
        self.summary = dict(kit=self.manifest["fovea"], commit=self.manifest["commit"],
                            mode="cpu-only" if args.cpu_only else "gpu", checks=[],
                            benchmarks=[])
        self.fovea_run = os.path.join(KIT, "bin", "fovea-run")

    # -- helpers -----------------------------------------------------------

    def left(self):
        return self.args.budget - (time.time() - self.started)

    def record(self, kind, name, ok, **fields):
        entry = dict(check=kind, case=name, ok=bool(ok), **fields)
        self.summary["checks"].append(entry)
        detail = " ".join(f"{k}={v}" for k, v in fields.items())
        print(f"{'PASS' if ok else 'FAIL'} {kind} {name} {detail}", flush=True)

    def run(self, args, timeout, env=None):
        try:
            return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 124, "", f"timed out after {timeout} s")

    def weights(self, case):
        # Cases with the same weights (nano and nano_tc) share one file.
        path = os.path.join(self.work, case["weights_sha256"][:16] + ".safetensors")
        if not os.path.exists(path):
            meta = json.loads(self.run([self.fovea_run, os.path.join(KIT, case["module"]),
                                        "--print-metadata"], 60).stdout)
            kit_data.write_safetensors(path, meta, self.manifest["seed"])
        return path

    def pixels(self, case, batch=None):
        shape = list(case["input"])
        if batch:
            shape[0] = batch
        path = os.path.join(self.work, f"{case['name']}_{shape[0]}.npy")
        if not os.path.exists(path):
            np.save(path, kit_data.pixels(shape, self.manifest["seed"]))
        return path

    @staticmethod
    def relative_error(got, want):
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        if got.shape != want.shape:
            return float("inf")
        return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))

    def compare_run(self, kind, case, module, device, tolerance):
        outputs = [os.path.join(self.work, f"{case['name']}_{device}_{o}.npy")
                   for o in case["outputs"]]
        for path in outputs:
            if os.path.exists(path):
                os.remove(path)
        result = self.run([self.fovea_run, module, "--device", device, "--weights",
                           self.weights(case), "--input", self.pixels(case),
                           "--output-dtype", "f32",
                           *[a for p in outputs for a in ("--output", p)]], 600)
        if result.returncode != 0:
            self.record(kind, case["name"], False, error=result.stderr.strip()[-300:])
            return
        errors = [self.relative_error(np.load(p), np.load(os.path.join(KIT, e)))
                  for p, e in zip(outputs, case["expected"])]
        self.record(kind, case["name"], max(errors) <= tolerance,
                    rel_error=" ".join(f"{e:.2e}" for e in errors), tolerance=tolerance)

    # -- the CPU half ------------------------------------------------------

    def check_generators(self):
        for case in self.manifest["cases"]:
            h = hashlib.sha256()
            with open(self.weights(case), "rb") as f:
                for block in iter(lambda: f.read(1 << 24), b""):
                    h.update(block)
            self.record("weights-reproduced", case["name"],
                        h.hexdigest() == case["weights_sha256"])

    def check_cpu_modules(self):
        for case in self.manifest["cases"]:
            if case.get("cpu_module"):
                self.compare_run("cpu-module", case, os.path.join(KIT, case["cpu_module"]),
                                 "cpu", 1e-6)

    def check_dependencies(self):
        if not shutil.which("ldd"):
            return
        files = [self.fovea_run] + [os.path.join(KIT, c["module"])
                                    for c in self.manifest["cases"]]
        for path in files:
            libraries = self.run(["ldd", path], 60).stdout
            bad = [l.split()[0] for l in libraries.splitlines()
                   if re.search(r"lib(LLVM|MLIR|mlir|av|sw)\w*", l)]
            self.record("self-contained", os.path.basename(path), not bad,
                        **({"needs": ",".join(bad)} if bad else {}))

    def check_peer(self, device):
        import torch
        import torch_peer
        for case in self.manifest["cases"]:
            if not case["peer"] or (device == "cpu" and case["preset"] != "tiny"):
                continue
            meta = json.loads(self.run([self.fovea_run, os.path.join(KIT, case["module"]),
                                        "--print-metadata"], 60).stdout)
            model = torch_peer.from_metadata(self.torch_weights(case, meta), meta,
                                             torch.bfloat16, device)
            x = torch.from_numpy(np.load(self.pixels(case))).to(device)
            with torch.no_grad():
                y = model(x).float().cpu().numpy()
            error = self.relative_error(y, np.load(os.path.join(KIT, case["expected"][0])))
            self.record(f"torch-peer-{device}", case["name"], error <= BF16_TOLERANCE,
                        rel_error=f"{error:.2e}", tolerance=BF16_TOLERANCE)

    def torch_weights(self, case, meta):
        import torch
        weights = {}
        for w in meta["weights"]:
            value = torch.from_numpy(kit_data.weight(w["name"], w["shape"], self.manifest["seed"]))
            weights[w["name"]] = value.to(torch.bfloat16 if w["dtype"] == "bf16" else torch.float32)
        return weights

    # -- the GPU half ------------------------------------------------------

    def gpu_info(self):
        import torch
        info = dict(torch=torch.__version__, cuda=torch.version.cuda)
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info.update(device=p.name, sms=p.multi_processor_count,
                        memory_gib=round(p.total_memory / 2**30, 1))
        smi = self.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], 30)
        if smi.returncode == 0:
            info["driver"] = smi.stdout.strip()
        self.summary["environment"] = info
        print("environment:", json.dumps(info), flush=True)
        return torch.cuda.is_available()

    def check_gpu_modules(self):
        for case in self.manifest["cases"]:
            if self.left() < 60:
                self.record("gpu-module", case["name"], False, error="out of time")
                continue
            self.compare_run("gpu-module", case, os.path.join(KIT, case["module"]), "cuda",
                             BF16_TOLERANCE)

    def memcheck(self):
        sanitizer = shutil.which("compute-sanitizer") or "/usr/local/cuda/bin/compute-sanitizer"
        if not os.path.exists(sanitizer):
            self.record("memcheck", "tiny_image", True, skipped="no compute-sanitizer")
            return
        case = next(c for c in self.manifest["cases"] if c["name"] == "tiny_image")
        result = self.run([sanitizer, "--tool", "memcheck", "--error-exitcode", "9",
                           self.fovea_run, os.path.join(KIT, case["module"]), "--device", "cuda",
                           "--weights", self.weights(case), "--input", self.pixels(case)],
                          min(240, max(30, self.left() - 200)))
        summary = re.findall(r"ERROR SUMMARY: (\d+) error", result.stdout + result.stderr)
        self.record("memcheck", case["name"], result.returncode == 0,
                    errors=summary[-1] if summary else "?",
                    **({"tail": (result.stdout + result.stderr).strip()[-300:]}
                       if result.returncode else {}))

    def iterations(self, batch):
        """Timed runs at `batch`: fewer for large batches (a loop-kernel run
        of 64 tiles takes seconds)."""
        return self.args.iters if batch == 1 else max(3, self.args.iters // 3)

    def bench_fovea(self, case, batch, extra=(), env=None):
        result = self.run([self.fovea_run, os.path.join(KIT, case["module"]), "--device", "cuda",
                           "--weights", self.weights(case), "--input", self.pixels(case, batch),
                           "--benchmark", self.iterations(batch), "--warmup", 2, *extra],
                          max(30, min(300, self.left() - 30)), env=env)
        m = re.search(r"median ([\d.]+) ms, min ([\d.]+) ms", result.stdout)
        if result.returncode != 0 or not m:
            return None, (result.stderr.strip() or result.stdout.strip())[-300:]
        return float(m.group(1)), None

    def bench_torch(self, case, meta, batch, compiled):
        import torch
        import torch_peer
        model = torch_peer.from_metadata(self.torch_weights(case, meta), meta,
                                         torch.bfloat16, "cuda")
        if compiled:
            model = torch.compile(model)
        host = torch.from_numpy(np.load(self.pixels(case, batch)))
        x = host.cuda()
        times, wall = [], []
        with torch.no_grad():
            for k in range(3 + self.iterations(batch)):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model(x)
                end.record()
                torch.cuda.synchronize()
                if k >= 3:
                    times.append(start.elapsed_time(end))
                # As fovea-run measures: host input in, host output out.
                t1 = time.perf_counter()
                model(host.cuda(non_blocking=False)).cpu()
                if k >= 3:
                    wall.append((time.perf_counter() - t1) * 1e3)
        del model
        torch.cuda.empty_cache()
        return statistics.median(times), statistics.median(wall), \
            (max(times) - min(times)) / 2

    def benchmarks(self):
        import torch_peer
        for case in self.manifest["cases"]:
            if not case["bench"]:
                continue
            meta = json.loads(self.run([self.fovea_run, os.path.join(KIT, case["module"]),
                                        "--print-metadata"], 60).stdout)
            flops = torch_peer.metadata_flops(meta, 1)
            for batch in case["bench"]:
                row = dict(case=case["name"], batch=batch, gflop_per_tile=round(flops / 1e9, 1))
                if self.left() < 45:
                    row["error"] = "out of time"
                    self.summary["benchmarks"].append(row)
                    continue
                ms, error = self.bench_fovea(case, batch)
                if ms is None:
                    row["error"] = error
                else:
                    row.update(fovea_ms=ms, fovea_tiles_per_s=round(batch / ms * 1e3, 1),
                               fovea_tflops=round(flops * batch / ms / 1e9, 1))
                    # What the CUDA graph saves where launches matter: the
                    # same batch-1 runs launched one kernel at a time.
                    if batch == 1:
                        eager, _ = self.bench_fovea(case, batch, ["--cuda-graphs", "off"])
                        if eager is not None:
                            row["fovea_no_graphs_ms"] = eager
                if case["peer"]:
                    for compiled in (False, True):
                        tag = "torch_compile" if compiled else "torch_eager"
                        if compiled and (self.args.no_compile or self.left() < 150):
                            continue
                        try:
                            device_ms, wall_ms, spread = self.bench_torch(case, meta, batch,
                                                                          compiled)
                            row.update({f"{tag}_ms": round(device_ms, 3),
                                        f"{tag}_host_ms": round(wall_ms, 3),
                                        f"{tag}_tiles_per_s": round(batch / device_ms * 1e3, 1),
                                        f"{tag}_tflops": round(flops * batch / device_ms / 1e9, 1),
                                        f"{tag}_spread_ms": round(spread, 3)})
                        except Exception as e:  # noqa: BLE001 - reported, not fatal
                            row[f"{tag}_error"] = str(e)[-300:]
                self.summary["benchmarks"].append(row)
                print("bench", json.dumps(row), flush=True)
            if self.left() > 60:
                self.profile(case)

    def profile(self, case):
        """Per-kernel device time of batch-1 runs (FOVEA_CUDA_PROFILE, no
        graphs): where a run's time goes. `#k` is the k-th kernel module of
        the CUDA module's `llvm` phase."""
        path = os.path.join(self.work, case["name"] + "_profile.json")
        env = dict(os.environ, FOVEA_CUDA_PROFILE=path)
        runs = self.iterations(1) + 2
        ms, error = self.bench_fovea(case, 1, ["--cuda-graphs", "off"], env=env)
        if ms is None or not os.path.exists(path):
            self.summary.setdefault("profiles", {})[case["name"]] = {"error": error}
            return
        kernels = json.load(open(path))["kernels"]
        total = sum(k["ms"] for k in kernels if not k["kernel"].endswith("init_kernel"))
        top = [dict(kernel=k["kernel"], ms_per_run=round(k["ms"] / runs, 4),
                    launches_per_run=k["launches"] // runs,
                    share=round(k["ms"] / max(total, 1e-9), 3))
               for k in kernels if not k["kernel"].endswith("init_kernel")][:12]
        self.summary.setdefault("profiles", {})[case["name"]] = dict(
            kernel_ms_per_run=round(total / runs, 3), host_ms_per_run=ms, top=top)
        print("profile", case["name"], json.dumps(top[:5]), flush=True)

    # -- report ------------------------------------------------------------

    def finish(self):
        self.summary["seconds"] = round(time.time() - self.started, 1)
        failed = [c for c in self.summary["checks"] if not c["ok"]]
        self.summary["ok"] = not failed
        path = os.path.join(self.args.out, "gpu_kit_summary.json")
        os.makedirs(self.args.out, exist_ok=True)
        with open(path, "w") as f:
            json.dump(self.summary, f, indent=1)
        print(f"\n{len(self.summary['checks']) - len(failed)} of "
              f"{len(self.summary['checks'])} checks passed in {self.summary['seconds']} s; "
              f"summary: {path}")
        if self.summary["benchmarks"]:
            print("\n| case | batch | Fovea ms | tiles/s | TFLOP/s | eager ms | compile ms |"
                  " eager host ms |")
            print("|---|---|---|---|---|---|---|---|")
            for r in self.summary["benchmarks"]:
                cell = lambda k: str(r.get(k, "-"))
                print(f"| {r['case']} | {r['batch']} | {cell('fovea_ms')} | "
                      f"{cell('fovea_tiles_per_s')} | {cell('fovea_tflops')} | "
                      f"{cell('torch_eager_ms')} | {cell('torch_compile_ms')} | "
                      f"{cell('torch_eager_host_ms')} |")
        for c in failed:
            print("FAILED:", json.dumps(c))
        return 0 if not failed else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-only", action="store_true", help="the half that needs no GPU")
    parser.add_argument("--out", default=os.environ.get("OUT", os.getcwd()),
                        help="where gpu_kit_summary.json goes (default $OUT, else .)")
    parser.add_argument("--work", default="/tmp/fovea-kit", help="generated weights and inputs")
    parser.add_argument("--budget", type=float, default=450, help="seconds for the whole run")
    parser.add_argument("--iters", type=int, default=10, help="timed runs per benchmark")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    args = parser.parse_args()
    kit = Kit(args)
    kit.check_generators()
    kit.check_dependencies()
    if args.cpu_only:
        kit.check_cpu_modules()
        kit.check_peer("cpu")
        return kit.finish()
    if not kit.gpu_info():
        kit.record("gpu", "device", False, error="PyTorch sees no CUDA device")
        return kit.finish()
    kit.check_gpu_modules()
    kit.memcheck()
    kit.check_peer("cuda")
    kit.benchmarks()
    return kit.finish()


if __name__ == "__main__":
    sys.exit(main())
