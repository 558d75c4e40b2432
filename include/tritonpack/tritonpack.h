/* tritonpack C API: opaque handles, status codes, and a thread-local message for the last error.
 *
 * Ownership: every tp_*_create/open returns an owned handle that the caller releases with the
 * matching tp_*_destroy/close (NULL is accepted and ignored). Pointers passed in are borrowed for
 * the duration of the call only. No function calls exit or abort; none throws.
 */
#ifndef TRITONPACK_TRITONPACK_H_
#define TRITONPACK_TRITONPACK_H_

#include <cuda.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
  TP_ERROR_SHAPE = 14
} tp_status;

/* Element types; the names match Triton's ("fp16", "bf16", ...). */
typedef enum tp_dtype {
  TP_FP16 = 0, TP_BF16, TP_FP32, TP_FP64, TP_I8, TP_I16, TP_I32, TP_I64,
  TP_U8, TP_U16, TP_U32, TP_U64, TP_I1, TP_FP8E4NV, TP_FP8E5
} tp_dtype;

typedef enum tp_arg_kind { TP_ARG_TENSOR = 0, TP_ARG_INT = 1, TP_ARG_FLOAT = 2 } tp_arg_kind;

typedef struct tp_arg {
  tp_arg_kind kind;
  tp_dtype dtype; /* tensors only */
  union {
    CUdeviceptr pointer;
    int64_t int_value;
    double float_value;
  } value;
} tp_arg;

typedef struct tp_launch_options {
  const char* config;      /* NULL or "" = first config with a matching variant */
  CUdeviceptr workspace;   /* 0 = internal scratch pool */
  size_t workspace_size;
} tp_launch_options;

typedef struct tp_pack tp_pack;
typedef struct tp_kernel tp_kernel;

/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
const char* tp_last_error(void);
const char* tp_status_name(tp_status status);

tp_status tp_pack_open(const char* path, tp_pack** out);
void tp_pack_close(tp_pack* pack);

/* The kernel keeps the pack alive; the pack may be closed right after. */
tp_status tp_kernel_create(tp_pack* pack, const char* kernel_name, tp_kernel** out);
void tp_kernel_destroy(tp_kernel* kernel);

tp_status tp_kernel_launch(tp_kernel* kernel, const tp_arg* args, size_t num_args, CUstream stream,
                           const tp_launch_options* options /* may be NULL */);
tp_status tp_kernel_workspace_size(tp_kernel* kernel, const tp_arg* args, size_t num_args,
                                   const tp_launch_options* options, size_t* bytes);
/* Idempotent. */
tp_status tp_kernel_unload(tp_kernel* kernel);

#ifdef __cplusplus
}
#endif

#endif /* TRITONPACK_TRITONPACK_H_ */
