/*===- fovea_runtime.h - C ABI of Fovea modules ------------------*- C -*-===*\
|*                                                                            *|
|* Every runtime module (`fovea-compile --emit module`) exports these         *|
|* functions. Tensors are dense, row-major host buffers.                      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef FOVEA_RUNTIME_FOVEA_RUNTIME_H
#define FOVEA_RUNTIME_FOVEA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types. */
enum fovea_dtype {
  FOVEA_F32 = 0,
  FOVEA_F16 = 1,
  FOVEA_BF16 = 2,
  FOVEA_U8 = 3,
  FOVEA_I32 = 4,
  FOVEA_I64 = 5
};

/* A tensor passed in or returned. Returned tensors own `data` and `shape`;
 * release them with fovea_tensor_release. */
typedef struct fovea_tensor {
  int32_t dtype; /* enum fovea_dtype */
  int32_t rank;
  int64_t *shape;
  void *data;
} fovea_tensor;

typedef struct fovea_module fovea_module;

/* The module's self-description (JSON): model, entry point, inputs, outputs,
 * required weights with shapes and dtypes, geometry. Owned by the module. */
const char *fovea_module_metadata(void);

/* Loads the weights from `weights_path` (a safetensors file, a shard index
 * or a directory holding either) for `device` ("cpu"). Returns NULL and sets
 * *error (free with fovea_free_error) on failure. */
fovea_module *fovea_module_create(const char *weights_path, const char *device,
                                  char **error);

/* Sets the number of threads the module's CPU code runs on (its matmuls are
 * split over them; results are the same bits for every count): `threads`
 * >= 1, or 0 for the default: FOVEA_NUM_THREADS when set to a count, else
 * every core the process may run on. The
 * count belongs to the module file: modules loaded from the same file share
 * it. Returns 0, or non-zero with *error set for a negative count. */
int fovea_module_set_threads(fovea_module *module, int32_t threads,
                             char **error);

/* CPU modules: the family of kernels the matmuls and attention run
 * (`family`): "auto" (or NULL) for the best this CPU has, or one of
 * "amx-bf16" (bf16 matmuls on AMX tiles), "avx512-bf16" (vdpbf16ps),
 * "avx512", "avx2" (with FMA), "portable". f32 matmuls run the avx512
 * kernels under the two bf16 families. The default is the environment's
 * FOVEA_CPU_KERNELS when set (fovea_module_create refuses a name it does
 * not know or this CPU lacks), else "auto". Like the thread count, the
 * family belongs to the module file. The families add products in the same
 * order except amx-bf16 (its tile dot product has its own order), so bf16
 * results there differ in the last bits. Returns 0, or non-zero with
 * *error set (an unknown name, a family this CPU lacks, a CUDA module). */
int fovea_module_set_cpu_kernels(fovea_module *module, const char *family,
                                 char **error);

/* CPU modules: the family the kernels run now ("" for CUDA modules). */
const char *fovea_module_cpu_kernels(const fovea_module *module);

/* CUDA modules: the stream (a CUstream) the module's runs go to, instead
 * of the runtime's own (NULL). A run enqueues its input copies, kernels and
 * output copies on it and synchronizes it once, at its end. Returns 0, or
 * non-zero with *error set for a module not compiled for CUDA. */
int fovea_module_set_stream(fovea_module *module, void *stream, char **error);

/* CUDA modules: CUDA graphs, one per input shape. The first run of a shape
 * is captured into a graph and launched; later runs of that shape launch
 * the graph (one launch instead of one per kernel). Up to `max_graphs` are
 * kept, the least recently used dropped first; 0 turns graphs off. A shape
 * whose capture fails runs without a graph. Default: 8. Returns 0, or
 * non-zero with *error set (a CPU module, a negative count). */
int fovea_module_set_cuda_graphs(fovea_module *module, int32_t max_graphs,
                                 char **error);

/* Runs the entry point on `inputs` (one per entry of the metadata's
 * "inputs", in that order: packed images take one per image). Writes up to
 * `max_outputs` results to `outputs` and their count to *num_outputs.
 * Returns 0 on success, non-zero with *error set otherwise. */
int fovea_module_run_inputs(fovea_module *module, const fovea_tensor *inputs,
                            int32_t num_inputs, fovea_tensor *outputs,
                            int32_t max_outputs, int32_t *num_outputs,
                            char **error);

/* CUDA modules: a run on inputs already in device memory (`data`: device
 * pointers, e.g. a framework's CUDA tensors, dense and row-major), whose
 * outputs stay in device memory and belong to the caller (release them with
 * fovea_tensor_release_device). Nothing is copied through the host. The
 * run waits for its stream once, at its end, so the outputs are ready on
 * any stream; the inputs must be ready when it is called. Device runs use
 * no CUDA graph. Returns 0, or non-zero with *error set (also for a CPU
 * module). */
int fovea_module_run_device(fovea_module *module, const fovea_tensor *inputs,
                            int32_t num_inputs, fovea_tensor *outputs,
                            int32_t max_outputs, int32_t *num_outputs,
                            char **error);
void fovea_tensor_release_device(fovea_tensor *tensor);

/* A thin wrapper for modules with one input:
 * fovea_module_run_inputs(module, input, 1, ...). */
int fovea_module_run(fovea_module *module, const fovea_tensor *input,
                     fovea_tensor *outputs, int32_t max_outputs,
                     int32_t *num_outputs, char **error);

/* The token geometry this module predicts, as JSON, before it runs (for the
 * serving side's placeholder tokens): for `count` images, or for a video of
 * `count` frames sampled at `frame_indices` (NULL: 0, 1, ...) of a source at
 * `source_fps` frames per second (<= 0: unknown; the prompt then has no
 * timestamps). After a run with EVS, pass the per-tubelet counts it returned
 * (`tubelet_counts`, `num_tubelet_counts`; NULL and 0 before) to lay out the
 * final prompt; a mismatch with the prediction is an error. Returns 0 and
 * sets *json (free with fovea_free_string), or non-zero with *error. */
int fovea_module_geometry(int64_t count, const int64_t *frame_indices,
                          double source_fps, const int64_t *tubelet_counts,
                          int64_t num_tubelet_counts, char **json,
                          char **error);

void fovea_module_destroy(fovea_module *module);
void fovea_tensor_release(fovea_tensor *tensor);
void fovea_free_error(char *error);
void fovea_free_string(char *text);

#ifdef __cplusplus
}
#endif

#endif /* FOVEA_RUNTIME_FOVEA_RUNTIME_H */
