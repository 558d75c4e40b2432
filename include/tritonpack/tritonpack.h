/* tritonpack C API: opaque handles, status codes, and a thread-local message for the last error.
 * It offers what the C++ API (tritonpack/runtime.h) offers; docs/c-api.md describes each call.
 *
 * Ownership: every tp_*_create/open returns an owned handle that the caller releases with the
 * matching tp_*_destroy/close (NULL is accepted and ignored). Every pointer passed in (arguments,
 * shapes, strides, names, strings, options, buffers) is borrowed for the duration of the call
 * only: the library keeps none of them. Strings returned are owned by the library and say how
 * long they stay valid. No function calls exit or abort; none throws.
 *
 * Threads (docs/thread-safety.md): every call on a tp_pack or tp_kernel may run on several threads
 * at once, except tp_pack_close and tp_kernel_destroy, which must not overlap another call on the
 * same handle. Each kernel call acts in the calling thread's current CUDA context.
 *
 * The header is C99 and C++ (it compiles alone as either).
 */
#ifndef TRITONPACK_TRITONPACK_H_
#define TRITONPACK_TRITONPACK_H_

#include <cuda.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; tp_version() gives the library's ("0.1.0"). Both follow the project's
   VERSION file (src/capi/capi.cpp refuses to build if these differ from it). */
#define TP_VERSION_MAJOR 0
#define TP_VERSION_MINOR 1
#define TP_VERSION_PATCH 0

typedef enum tp_status {
  TP_OK = 0,
  TP_ERROR_INVALID_ARGUMENT = 1,
  TP_ERROR_NOT_FOUND = 2,
  TP_ERROR_NO_MATCHING_VARIANT = 3,
  TP_ERROR_CORRUPT_PACK = 4,
  TP_ERROR_INVALID_SPEC = 5,
  TP_ERROR_PARSE = 6,
  TP_ERROR_EVALUATION = 7,
  TP_ERROR_NO_DRIVER = 8,
  TP_ERROR_DRIVER = 9,
  TP_ERROR_UNSUPPORTED = 10,
  TP_ERROR_IO = 11,
  TP_ERROR_COMPILE = 12,
  TP_ERROR_INTERNAL = 13,
  TP_ERROR_SHAPE = 14,
  /* A caller's buffer is too small for the text; the call reported the size it needs. */
  TP_ERROR_BUFFER_TOO_SMALL = 15
} tp_status;

/* Element types; the names match Triton's ("fp16", "bf16", ...). */
typedef enum tp_dtype {
  TP_FP16 = 0, TP_BF16, TP_FP32, TP_FP64, TP_I8, TP_I16, TP_I32, TP_I64,
  TP_U8, TP_U16, TP_U32, TP_U64, TP_I1, TP_FP8E4NV, TP_FP8E5
} tp_dtype;

typedef enum tp_arg_kind {
  TP_ARG_TENSOR = 0,     /* a device pointer (tensor param), optionally with its shape */
  TP_ARG_INT = 1,        /* an integer scalar or a launch variable */
  TP_ARG_FLOAT = 2,      /* a float scalar */
  TP_ARG_DESCRIPTOR = 3  /* a host tensor descriptor (tensordesc param): pointer, shape, strides */
} tp_arg_kind;

/* One runtime argument. Arguments are the kernel's non-constexpr params in order, then its
 * launch variables (values the grid and rules use that the kernel does not receive), each as a
 * TP_ARG_INT; tp_kernel_num_args / tp_kernel_arg_name list them.
 *
 * Tensors may carry their shape (rank > 0): the runtime then checks it against the spec's dims
 * and rules and heuristics may use the dim names (a rule that needs a dim refuses a launch
 * without the shape). Descriptors need rank 1..5, shape and strides (in elements, the last 1);
 * the runtime builds the CUtensorMap. `shape` and `strides` are borrowed for the call only.
 * Build args with the helpers below (tp_tensor, tp_tensor_shaped, tp_descriptor, tp_int,
 * tp_float), which set every field; code that fills the struct itself should zero it first. */
typedef struct tp_arg {
  tp_arg_kind kind;
  tp_dtype dtype; /* tensors and descriptors: element dtype */
  union {
    CUdeviceptr pointer;
    int64_t int_value;
    double float_value;
  } value;
  uint32_t rank;          /* tensors: 0 = shape not given (at most 8); descriptors: 1..5 */
  const int64_t* shape;   /* `rank` sizes, outermost first; borrowed */
  const int64_t* strides; /* descriptors: `rank` strides in elements; borrowed; else unused */
} tp_arg;

/* The kind of a constexpr value, as Triton's JIT takes them. */
typedef enum tp_constexpr_kind {
  TP_CONSTEXPR_INT = 0,
  TP_CONSTEXPR_BOOL = 1,
  TP_CONSTEXPR_FLOAT = 2,
  TP_CONSTEXPR_STRING = 3,
  TP_CONSTEXPR_NONE = 4,
  TP_CONSTEXPR_DTYPE = 5 /* a Triton dtype (tl.float16 -> TP_FP16) */
} tp_constexpr_kind;

/* A constexpr the variant must have: name and value, both borrowed for the call. Values compare
 * as Python's == does (True == 1 == 1.0; strings, None and dtypes only with their own kind). */
typedef struct tp_constexpr {
  const char* name;
  tp_constexpr_kind kind;
  union {
    int64_t int_value;        /* TP_CONSTEXPR_INT */
    int32_t bool_value;       /* TP_CONSTEXPR_BOOL: 0 = False, else True */
    double float_value;       /* TP_CONSTEXPR_FLOAT */
    const char* string_value; /* TP_CONSTEXPR_STRING: NUL-terminated */
    tp_dtype dtype_value;     /* TP_CONSTEXPR_DTYPE */
  } value;
} tp_constexpr;

/* Options of a launch (and of the calls that answer for one). A zero-filled struct, like NULL,
 * means the defaults: first config with a match, no pins, any variant, internal scratch pool. */
typedef struct tp_launch_options {
  const char* config;      /* NULL or "" = first config (spec order) with a matching variant */
  CUdeviceptr workspace;   /* 0 = internal scratch pool; see tp_kernel_workspace_size */
  size_t workspace_size;
  const tp_constexpr* pinned; /* constexprs the variant must have (any kind); may be NULL if num_pinned is 0 */
  size_t num_pinned;
  /* Nonzero: run exactly the variant with id `variant_id` (its conditions are still checked).
   * A flag rather than "-1 = any" so that a zero-filled struct keeps meaning "any variant". */
  int32_t use_variant_id;
  int32_t variant_id;
  /* Nonzero: ignore the pack's tuning table (`tritonpack tune`) and try configs in spec order,
   * as for a pack without one. Zero: a tuned pack runs the config measured fastest for the
   * launch's bin (docs/tuning.md). */
  int32_t ignore_tuning;
} tp_launch_options;

typedef struct tp_pack tp_pack;
typedef struct tp_kernel tp_kernel;

/* "0.1.0": the library's version (TP_VERSION_* are the header's). Static storage. */
const char* tp_version(void);

/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
const char* tp_last_error(void);
/* "ok", "invalid argument", ...; static storage; "unknown status" for a value not listed above. */
const char* tp_status_name(tp_status status);

/* Reads a pack and checks everything but its blobs' bytes (TP_ERROR_IO, TP_ERROR_CORRUPT_PACK).
 * Each blob's SHA-256 is checked when a launch first loads it: a corrupt blob then fails that
 * launch with TP_ERROR_CORRUPT_PACK ("blobs[i]: hash mismatch: ..."), and every later one. */
tp_status tp_pack_open(const char* path, tp_pack** out);
/* Checks every blob's SHA-256 now; TP_ERROR_CORRUPT_PACK names the first corrupt blob. */
tp_status tp_pack_verify(const tp_pack* pack);
void tp_pack_close(tp_pack* pack);

/* The kernel keeps the pack alive; the pack may be closed right after. */
tp_status tp_kernel_create(tp_pack* pack, const char* kernel_name, tp_kernel** out);
void tp_kernel_destroy(tp_kernel* kernel);

/* Its runtime arguments: the kernel's non-constexpr params, then its launch variables. Names are
 * owned by the kernel and valid until tp_kernel_destroy. The kind is what to pass: TP_ARG_TENSOR,
 * TP_ARG_DESCRIPTOR, TP_ARG_INT (integer scalars and launch variables) or TP_ARG_FLOAT (float
 * scalars, which also take TP_ARG_INT). */
tp_status tp_kernel_num_args(const tp_kernel* kernel, size_t* count);
tp_status tp_kernel_arg_name(const tp_kernel* kernel, size_t index, const char** name);
tp_status tp_kernel_arg_kind(const tp_kernel* kernel, size_t index, tp_arg_kind* kind);

/* Launches on `stream` in the current CUDA context. An empty grid launches nothing. A kernel in
 * steps (docs/spec-format.md, "Steps") runs every step, in order, unless the options pin a step
 * constexpr or give a variant id (as Kernel::launch, include/tritonpack/runtime.h). */
tp_status tp_kernel_launch(tp_kernel* kernel, const tp_arg* args, size_t num_args, CUstream stream,
                           const tp_launch_options* options /* may be NULL */);
/* Bytes of workspace the launch needs (0: none); on the current context's device. A kernel in
 * steps: the most any step needs (the steps share it). */
tp_status tp_kernel_workspace_size(tp_kernel* kernel, const tp_arg* args, size_t num_args,
                                   const tp_launch_options* options /* may be NULL */, size_t* bytes);

/* Which variant a launch would run on a device of compute capability `arch` (90 = sm_90; 0 = the
 * current context's device), and why each other variant would not: a summary of the launch, then
 * one line per variant in preference order ("variant 3 (...): chosen", "variant 2 (...): rule
 * 'N <= BLOCK_N' does not hold: N=100, BLOCK_N=64"). A launch nothing can serve is not an error:
 * the call returns TP_OK with *chosen_variant_id = -1 and the lines say why. Malformed arguments
 * are errors, as for tp_kernel_launch. A kernel in steps without a step pinned: a section per step
 * ("step 1 of 2 (PHASE=0): grid (...)", then its lines), and *chosen_variant_id is the first
 * step's, or -1 unless every step can run: passed back as use_variant_id it launches that step
 * alone, not the operation.
 *
 * The text (NUL-terminated) goes to `buffer`. `needed` (may be NULL) receives its size in bytes,
 * NUL included. buffer NULL with buffer_size 0 only asks for the size (needed must then be given).
 * A buffer too small gets "" and TP_ERROR_BUFFER_TOO_SMALL, with `needed` and
 * `chosen_variant_id` still set; the text is never cut short.
 * `chosen_variant_id` (may be NULL) receives the chosen variant's id, or -1. */
tp_status tp_kernel_explain(tp_kernel* kernel, const tp_arg* args, size_t num_args,
                            const tp_launch_options* options /* may be NULL */, uint32_t arch, char* buffer,
                            size_t buffer_size, size_t* needed, int32_t* chosen_variant_id);

/* Unloads every module and frees pooled scratch in every context. Idempotent. */
tp_status tp_kernel_unload(tp_kernel* kernel);

/* Helpers that build arguments and pinned constexprs (nothing is copied: pointers stay borrowed). */
static inline tp_arg tp_tensor(CUdeviceptr pointer, tp_dtype dtype) {
  tp_arg a;
  a.kind = TP_ARG_TENSOR;
  a.dtype = dtype;
  a.value.pointer = pointer;
  a.rank = 0;
  a.shape = NULL;
  a.strides = NULL;
  return a;
}
static inline tp_arg tp_tensor_shaped(CUdeviceptr pointer, tp_dtype dtype, uint32_t rank, const int64_t* shape) {
  tp_arg a = tp_tensor(pointer, dtype);
  a.rank = rank;
  a.shape = shape;
  return a;
}
static inline tp_arg tp_descriptor(CUdeviceptr pointer, tp_dtype dtype, uint32_t rank, const int64_t* shape,
                                   const int64_t* strides) {
  tp_arg a = tp_tensor_shaped(pointer, dtype, rank, shape);
  a.kind = TP_ARG_DESCRIPTOR;
  a.strides = strides;
  return a;
}
static inline tp_arg tp_int(int64_t value) {
  tp_arg a = tp_tensor(0, TP_I64);
  a.kind = TP_ARG_INT;
  a.value.int_value = value;
  return a;
}
static inline tp_arg tp_float(double value) {
  tp_arg a = tp_tensor(0, TP_FP64);
  a.kind = TP_ARG_FLOAT;
  a.value.float_value = value;
  return a;
}

static inline tp_constexpr tp_constexpr_int(const char* name, int64_t value) {
  tp_constexpr c;
  c.name = name;
  c.kind = TP_CONSTEXPR_INT;
  c.value.int_value = value;
  return c;
}
static inline tp_constexpr tp_constexpr_bool(const char* name, int value) {
  tp_constexpr c;
  c.name = name;
  c.kind = TP_CONSTEXPR_BOOL;
  c.value.int_value = 0; /* the whole union defined */
  c.value.bool_value = value != 0;
  return c;
}
static inline tp_constexpr tp_constexpr_float(const char* name, double value) {
  tp_constexpr c;
  c.name = name;
  c.kind = TP_CONSTEXPR_FLOAT;
  c.value.float_value = value;
  return c;
}
static inline tp_constexpr tp_constexpr_string(const char* name, const char* value) {
  tp_constexpr c;
  c.name = name;
  c.kind = TP_CONSTEXPR_STRING;
  c.value.string_value = value;
  return c;
}
static inline tp_constexpr tp_constexpr_none(const char* name) {
  tp_constexpr c;
  c.name = name;
  c.kind = TP_CONSTEXPR_NONE;
  c.value.int_value = 0;
  return c;
}
static inline tp_constexpr tp_constexpr_dtype(const char* name, tp_dtype value) {
  tp_constexpr c;
  c.name = name;
  c.kind = TP_CONSTEXPR_DTYPE;
  c.value.int_value = 0;
  c.value.dtype_value = value;
  return c;
}

#ifdef __cplusplus
}
#endif

#endif /* TRITONPACK_TRITONPACK_H_ */
