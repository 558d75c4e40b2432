/* The C API, used from C: pins of every kind, a launch variable, shaped tensors, a descriptor,
 * explain, introspection, every error path, and the exact launch the (fake) driver received.
 * Compiled as C11 with -Wall -Wextra -Werror -Wpedantic; runs without a GPU (capi_testing.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c/capi_testing.h"
#include "tritonpack/tritonpack.h"

static int failures = 0;

#define CHECK(cond)                                                                                  \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #cond,       \
              tp_last_error());                                                                      \
      ++failures;                                                                                    \
    }                                                                                                \
  } while (0)

/* The call returns `status`; on a mismatch prints both names and the message. */
#define CHECK_STATUS(call, status)                                                                   \
  do {                                                                                               \
    const tp_status got_ = (call);                                                                   \
    if (got_ != (status)) {                                                                          \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__,   \
              #call, tp_status_name(got_), tp_status_name(status), tp_last_error());                 \
      ++failures;                                                                                    \
    }                                                                                                \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, TP_OK)

/* `text` contains `part`. */
#define CHECK_HAS(text, part)                                                                        \
  do {                                                                                               \
    const char* text_ = (text);                                                                      \
    if (text_ == NULL || strstr(text_, (part)) == NULL) {                                            \
      fprintf(stderr, "%s:%d: expected to find\n  %s\nin\n  %s\n", __FILE__, __LINE__, (part),       \
              text_ ? text_ : "(null)");                                                             \
      ++failures;                                                                                    \
    }                                                                                                \
  } while (0)

/* The call fails with `status` and a last error containing `part`. */
#define CHECK_FAILS(call, status, part)                                                              \
  do {                                                                                               \
    CHECK_STATUS(call, status);                                                                      \
    CHECK_HAS(tp_last_error(), part);                                                                \
  } while (0)

#define X ((CUdeviceptr)0x700000000000ull)
#define Y ((CUdeviceptr)0x700000100000ull)

/* rownorm's arguments: x and y of shape [m, n], stride, scale, then the launch variable rows. */
typedef struct rownorm_launch {
  int64_t x_shape[2];
  int64_t y_shape[2];
  tp_arg args[5];
} rownorm_launch;

static void rownorm_args(rownorm_launch* l, tp_dtype t, int64_t m, int64_t n, int64_t rows) {
  l->x_shape[0] = l->y_shape[0] = m;
  l->x_shape[1] = l->y_shape[1] = n;
  l->args[0] = tp_tensor_shaped(X, t, 2, l->x_shape);
  l->args[1] = tp_tensor_shaped(Y, t, 2, l->y_shape);
  l->args[2] = tp_int(n);
  l->args[3] = tp_float(0.5);
  l->args[4] = tp_int(rows); /* launch variable: after the kernel's arguments */
}

/* Options that pin each of rownorm's six constexprs (one of every kind) to its value in variant 3. */
static void pin_variant_3(tp_constexpr pins[6], tp_launch_options* o) {
  pins[0] = tp_constexpr_string("ACT", "gelu");
  pins[1] = tp_constexpr_bool("HAS_BIAS", 1);
  pins[2] = tp_constexpr_float("EPS", 1e-6);
  pins[3] = tp_constexpr_dtype("OUT_DTYPE", TP_FP32);
  pins[4] = tp_constexpr_none("BIAS");
  pins[5] = tp_constexpr_int("BLOCK_N", 128);
  memset(o, 0, sizeof *o);
  o->pinned = pins;
  o->num_pinned = 6;
}

/* Explains into a fixed buffer and returns the chosen variant's id (-1: none). */
static int32_t explain(tp_kernel* k, const tp_arg* args, size_t n, const tp_launch_options* o, uint32_t arch,
                       char* text, size_t size) {
  int32_t chosen = -2;
  size_t needed = 0;
  CHECK_OK(tp_kernel_explain(k, args, n, o, arch, text, size, &needed, &chosen));
  CHECK(needed == strlen(text) + 1);
  return chosen;
}

static void test_version_and_status_names(void) {
  char header_version[32];
  snprintf(header_version, sizeof header_version, "%d.%d.%d", TP_VERSION_MAJOR, TP_VERSION_MINOR, TP_VERSION_PATCH);
  CHECK(strcmp(tp_version(), TRITONPACK_TEST_VERSION) == 0); /* the VERSION file's, from the build */
  CHECK(strcmp(tp_version(), header_version) == 0);
  CHECK(strcmp(tp_status_name(TP_OK), "ok") == 0);
  CHECK(strcmp(tp_status_name(TP_ERROR_NO_MATCHING_VARIANT), "no matching variant") == 0);
  CHECK(strcmp(tp_status_name(TP_ERROR_BUFFER_TOO_SMALL), "buffer too small") == 0);
  CHECK(strcmp(tp_status_name((tp_status)99), "unknown status") == 0);
}

static void test_null_handles(void) {
  size_t count = 0;
  const char* name = NULL;
  tp_arg_kind kind = TP_ARG_INT;
  char text[8];
  tp_pack_close(NULL);
  tp_kernel_destroy(NULL);
  CHECK_FAILS(tp_pack_open(NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "tp_pack_open: path and out must not be NULL");
  CHECK_FAILS(tp_kernel_create(NULL, "rownorm", NULL), TP_ERROR_INVALID_ARGUMENT, "must not be NULL");
  CHECK_FAILS(tp_kernel_num_args(NULL, &count), TP_ERROR_INVALID_ARGUMENT, "kernel and count must not be NULL");
  CHECK_FAILS(tp_kernel_arg_name(NULL, 0, &name), TP_ERROR_INVALID_ARGUMENT, "tp_kernel_arg_name: kernel is NULL");
  CHECK_FAILS(tp_kernel_arg_kind(NULL, 0, &kind), TP_ERROR_INVALID_ARGUMENT, "tp_kernel_arg_kind: kernel is NULL");
  CHECK_FAILS(tp_kernel_launch(NULL, NULL, 0, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "tp_kernel_launch: kernel is NULL");
  CHECK_FAILS(tp_kernel_workspace_size(NULL, NULL, 0, NULL, &count), TP_ERROR_INVALID_ARGUMENT, "must not be NULL");
  CHECK_FAILS(tp_kernel_explain(NULL, NULL, 0, NULL, 90, text, sizeof text, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "tp_kernel_explain: kernel is NULL");
  CHECK_FAILS(tp_kernel_unload(NULL), TP_ERROR_INVALID_ARGUMENT, "tp_kernel_unload: kernel is NULL");
  {
    tp_pack* pack = (tp_pack*)&count; /* any value: a failed open sets it to NULL */
    CHECK_FAILS(tp_pack_open("/nonexistent/x.tpack", &pack), TP_ERROR_IO, "/nonexistent/x.tpack");
    CHECK(pack == NULL);
  }
}

static void test_introspection(tp_kernel* k) {
  static const char* const names[] = {"x", "y", "stride", "scale", "rows"};
  static const tp_arg_kind kinds[] = {TP_ARG_TENSOR, TP_ARG_TENSOR, TP_ARG_INT, TP_ARG_FLOAT, TP_ARG_INT};
  size_t count = 0;
  size_t i;
  const char* name = NULL;
  tp_arg_kind kind = TP_ARG_TENSOR;
  CHECK_OK(tp_kernel_num_args(k, &count));
  CHECK(count == 5);
  for (i = 0; i < 5; ++i) {
    CHECK_OK(tp_kernel_arg_name(k, i, &name));
    CHECK(name != NULL && strcmp(name, names[i]) == 0);
    CHECK_OK(tp_kernel_arg_kind(k, i, &kind));
    CHECK(kind == kinds[i]);
  }
  CHECK(strcmp(tp_last_error(), "") == 0); /* success clears it */
  CHECK_FAILS(tp_kernel_arg_name(k, 5, &name), TP_ERROR_INVALID_ARGUMENT,
              "tp_kernel_arg_name: index 5 is out of range: kernel 'rownorm' takes 5 arguments");
  CHECK(name == NULL);
  CHECK_FAILS(tp_kernel_arg_kind(k, 0, NULL), TP_ERROR_INVALID_ARGUMENT, "kind must not be NULL");
}

static void test_launch_with_pins_shapes_and_a_launch_variable(tp_kernel* k) {
  rownorm_launch l;
  tp_constexpr pins[6];
  tp_launch_options o;
  unsigned grid[3] = {0, 0, 0};
  unsigned block_x = 0;
  uint64_t params[6] = {0, 0, 0, 0, 0, 0};
  const float half = 0.5f;
  uint32_t half_bits;
  memcpy(&half_bits, &half, sizeof half_bits);

  /* No options: the heuristic gives BLOCK_N = next_power_of_2(100) = 128 -> variant 1. */
  rownorm_args(&l, TP_FP16, 4, 100, 3);
  tp_testing_record_params(6);
  CHECK_OK(tp_kernel_launch(k, l.args, 5, (CUstream)0x55, NULL));
  CHECK(tp_testing_num_launches() == 1);
  CHECK(tp_testing_last_launch(grid, &block_x, params, 6) == 6);
  CHECK(grid[0] == 3 && grid[1] == 1 && grid[2] == 1); /* grid = (rows, 1, 1) */
  CHECK(block_x == 128);
  CHECK(params[0] == X && params[1] == Y);
  CHECK((uint32_t)params[2] == 100u);    /* stride as i32 */
  CHECK((uint32_t)params[3] == half_bits); /* scale as a 4-byte float */
  CHECK(params[4] == 0 && params[5] == 0); /* Triton's hidden scratch pointers */

  /* Pins of every kind choose variant 3. */
  pin_variant_3(pins, &o);
  o.config = "w4";
  CHECK_OK(tp_kernel_launch(k, l.args, 5, NULL, &o));
  CHECK(tp_testing_num_launches() == 2);
  {
    char text[4096];
    CHECK(explain(k, l.args, 5, &o, 0, text, sizeof text) == 3);
    CHECK_HAS(text, "pinned: ACT='gelu'");
    CHECK_HAS(text, "pinned: HAS_BIAS=True");
    CHECK_HAS(text, "pinned: OUT_DTYPE=fp32");
    CHECK_HAS(text, "pinned: BIAS=None");
    CHECK_HAS(text, "variant 0 (T=fp16, BLOCK_N=64, ACT='relu', HAS_BIAS=False, EPS=1e-05, OUT_DTYPE=fp16, BIAS=None, config w4, x%16, y%16, sm_90): ACT='relu', pinned to 'gelu'");
    CHECK_HAS(text, "variant 3 (T=fp16, BLOCK_N=128, ACT='gelu', HAS_BIAS=True, EPS=1e-06, OUT_DTYPE=fp32, BIAS=None, config w4, x%16, y%16, sm_90): chosen");
    /* Python's ==: the integer 1 pins True. */
    pins[1] = tp_constexpr_int("HAS_BIAS", 1);
    CHECK(explain(k, l.args, 5, &o, 90, text, sizeof text) == 3);
    /* fp32 tensors: variant 4 (only the dtype pin and the defaults). */
    rownorm_args(&l, TP_FP32, 4, 100, 4);
    o.num_pinned = 0;
    o.pinned = NULL;
    CHECK(explain(k, l.args, 5, &o, 90, text, sizeof text) == 4);
    CHECK_HAS(text, "x is fp32, variant needs fp16");
  }

  /* A variant id, still checked. */
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  memset(&o, 0, sizeof o);
  o.use_variant_id = 1;
  o.variant_id = 1;
  CHECK_OK(tp_kernel_launch(k, l.args, 5, NULL, &o));
  o.variant_id = 0;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_NO_MATCHING_VARIANT,
              "rule 'N <= BLOCK_N' does not hold: N=100, BLOCK_N=64");
  CHECK_HAS(tp_last_error(), "not the requested variant 0");
  o.variant_id = -1;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT,
              "options.variant_id is -1 with use_variant_id set");
  CHECK(tp_testing_num_launches() == 3);
}

static void test_more_pins_than_the_stack_holds(tp_kernel* k) {
  rownorm_launch l;
  tp_constexpr pins[40];
  tp_launch_options o;
  char text[8192];
  int i;
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  for (i = 0; i < 40; ++i) pins[i] = tp_constexpr_string("ACT", "gelu");
  memset(&o, 0, sizeof o);
  o.pinned = pins;
  o.num_pinned = 40;
  CHECK(explain(k, l.args, 5, &o, 90, text, sizeof text) == 3);
  CHECK_OK(tp_kernel_launch(k, l.args, 5, NULL, &o));
}

/* Pins convert into stack arrays: a launch query with six pins (names and strings of up to 15
 * bytes) allocates nothing, like the same query without pins. */
static void test_pins_add_no_allocation(tp_kernel* k) {
  rownorm_launch l;
  tp_constexpr pins[6];
  tp_launch_options o;
  size_t bytes = 1, before, plain, pinned;
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  pin_variant_3(pins, &o);
  CHECK_OK(tp_kernel_workspace_size(k, l.args, 5, &o, &bytes)); /* warm: the context is known */
  CHECK(bytes == 0);
  before = tp_testing_allocations();
  CHECK_OK(tp_kernel_workspace_size(k, l.args, 5, NULL, &bytes));
  plain = tp_testing_allocations() - before;
  before = tp_testing_allocations();
  CHECK_OK(tp_kernel_workspace_size(k, l.args, 5, &o, &bytes));
  pinned = tp_testing_allocations() - before;
  if (pinned != 0 || plain != 0) fprintf(stderr, "allocations: %zu without pins, %zu with six pins\n", plain, pinned);
  CHECK(pinned == plain);
  CHECK(pinned == 0); /* the whole query allocates nothing once the context is known */
}

static void test_explain(tp_kernel* k) {
  rownorm_launch l;
  char text[4096];
  char small[16];
  size_t needed = 0;
  int32_t chosen = -2;

  /* The heuristic: N = 60 -> BLOCK_N 64, so variant 1 (128) is refused with the values. */
  rownorm_args(&l, TP_FP16, 4, 60, 4);
  CHECK(explain(k, l.args, 5, NULL, 90, text, sizeof text) == 0);
  CHECK_HAS(text, "arguments: x=fp16 tensor [4x60] at 0x700000000000, y=fp16 tensor [4x60] at 0x700000100000, stride=60, scale=0.5, rows=4");
  CHECK_HAS(text, "heuristic: BLOCK_N = next_power_of_2(N) = 64 (N=60); compiled values: 64, 128");
  CHECK_HAS(text, "heuristic BLOCK_N = next_power_of_2(N) gives 64, the variant has BLOCK_N=128 (N=60)");

  /* Nothing can serve: not an error for explain; the rule and its values are shown. */
  rownorm_args(&l, TP_FP16, 4, 300, 4);
  CHECK(explain(k, l.args, 5, NULL, 90, text, sizeof text) == -1);
  CHECK_HAS(text, "rule 'N <= BLOCK_N' does not hold: N=300, BLOCK_N=128");

  /* Another arch: every variant is sm_90a. */
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  CHECK(explain(k, l.args, 5, NULL, 80, text, sizeof text) == -1);
  CHECK_HAS(text, "built for sm_90a, the device is sm_80 (arch-specific code runs only on its own arch)");

  /* The size: asked for, then too small a buffer (never cut short), then exactly enough. */
  CHECK_OK(tp_kernel_explain(k, l.args, 5, NULL, 90, NULL, 0, &needed, &chosen));
  CHECK(chosen == 1);
  CHECK(needed > sizeof small);
  memset(small, 'x', sizeof small);
  chosen = -2;
  CHECK_FAILS(tp_kernel_explain(k, l.args, 5, NULL, 90, small, sizeof small, &needed, &chosen),
              TP_ERROR_BUFFER_TOO_SMALL, "tp_kernel_explain: the text needs");
  CHECK_HAS(tp_last_error(), "bytes, the buffer has 16");
  CHECK(small[0] == '\0');
  CHECK(chosen == 1);
  {
    char* exact = (char*)malloc(needed);
    size_t again = 0;
    CHECK(exact != NULL);
    if (exact != NULL) {
      CHECK_OK(tp_kernel_explain(k, l.args, 5, NULL, 90, exact, needed, &again, NULL));
      CHECK(again == needed && strlen(exact) + 1 == needed);
      CHECK_HAS(exact, ": chosen");
      free(exact);
    }
  }
  CHECK_FAILS(tp_kernel_explain(k, l.args, 5, NULL, 90, NULL, 0, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "give a buffer, or needed");
  CHECK_FAILS(tp_kernel_explain(k, l.args, 5, NULL, 90, NULL, 8, &needed, NULL), TP_ERROR_INVALID_ARGUMENT,
              "buffer is NULL but buffer_size is not 0");
  /* Malformed arguments are errors, as for launch. */
  CHECK_FAILS(tp_kernel_explain(k, l.args, 4, NULL, 90, text, sizeof text, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "takes 5 arguments (x, y, stride, scale, rows; the last 1 are launch variables), got 4");
}

static void test_errors(tp_kernel* k) {
  rownorm_launch l;
  tp_constexpr pin;
  tp_launch_options o;
  const size_t launches = tp_testing_num_launches();

  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[0] = tp_float(1.0);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "kernel 'rownorm' argument 0 'x' must be a tensor, got a float");
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[2] = tp_float(100.0);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "argument 2 'stride' must be an integer (i32), got a float");
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[1].kind = (tp_arg_kind)42;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "argument 1 has an unknown kind 42");
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[1].dtype = (tp_dtype)77;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "argument 1 has an unknown dtype 77");
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[0].rank = 9;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "argument 0 has rank 9, above the limit 8");
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[0].shape = NULL;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "argument 'x' has a rank but no shape");
  CHECK_FAILS(tp_kernel_launch(k, NULL, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "args is NULL but num_args is not 0");
  CHECK_FAILS(tp_kernel_launch(k, l.args, 100, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "more than 64 arguments (100)");

  /* Shapes: a rule needs them; they must agree with each other. */
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.args[0] = tp_tensor(X, TP_FP16);
  l.args[1] = tp_tensor(Y, TP_FP16);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "rule 'N <= BLOCK_N' needs the shape of x (dim 'N')");
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  l.y_shape[1] = 99;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT, "argument 'y' dim 1 ('N') is 99");

  /* The launch variable: its range, and a launch-wide rule that uses it. */
  rownorm_args(&l, TP_FP16, 4, 100, 0);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "launch variable 'rows' = 0 is outside 1..2147483647");
  rownorm_args(&l, TP_FP16, 4, 100, 5);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_NO_MATCHING_VARIANT,
              "kernel 'rownorm' cannot serve this launch: rule 'rows <= M' does not hold: rows=5, M=4");

  /* No variant: every candidate with its first failing condition. */
  rownorm_args(&l, TP_FP16, 4, 300, 4);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_NO_MATCHING_VARIANT,
              "no variant of kernel 'rownorm' in pack '");
  CHECK_HAS(tp_last_error(), "variant 1 (T=fp16, BLOCK_N=128, ACT='relu', HAS_BIAS=False, EPS=1e-05, OUT_DTYPE=fp16, BIAS=None, config w4, x%16, y%16, sm_90): rule 'N <= BLOCK_N' does not hold: N=300, BLOCK_N=128");
  CHECK_HAS(tp_last_error(), "variant 4 (T=fp32,");

  /* Options. */
  rownorm_args(&l, TP_FP16, 4, 100, 4);
  memset(&o, 0, sizeof o);
  pin = tp_constexpr_int("NOPE", 1);
  o.pinned = &pin;
  o.num_pinned = 1;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT,
              "cannot pin 'NOPE': kernel 'rownorm'");
  CHECK_HAS(tp_last_error(), "has no constexpr of that name");
  pin = tp_constexpr_int("BIAS", 0);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_NO_MATCHING_VARIANT, "BIAS=None, pinned to 0");
  pin = tp_constexpr_string("ACT", NULL);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT, "pinned constexpr 'ACT' is a NULL string");
  pin = tp_constexpr_int(NULL, 1);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT, "pinned constexpr 0 has a NULL name");
  pin = tp_constexpr_int("ACT", 1);
  pin.kind = (tp_constexpr_kind)9;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT, "pinned constexpr 'ACT' has an unknown kind 9");
  pin = tp_constexpr_dtype("OUT_DTYPE", (tp_dtype)-3);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT, "pinned constexpr 'OUT_DTYPE' has an unknown dtype -3");
  o.pinned = NULL;
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_INVALID_ARGUMENT,
              "options.pinned is NULL but options.num_pinned is not 0");
  o.num_pinned = 0;
  o.config = "w8";
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, &o), TP_ERROR_NOT_FOUND, "no config 'w8'");
  CHECK_HAS(tp_last_error(), "(configs: w4)");

  CHECK(tp_testing_num_launches() == launches); /* nothing launched */
}

static void test_descriptor(tp_pack* pack) {
  tp_kernel* k = NULL;
  const int64_t shape[2] = {256, 128};
  const int64_t strides[2] = {128, 1};
  const int64_t bad_strides[2] = {128, 2};
  tp_arg args[2];
  unsigned grid[3], block_x = 0, rank = 0;
  uint64_t params[8], dims[5];
  tp_arg_kind kind = TP_ARG_INT;

  CHECK_OK(tp_testing_kernel_create_fake(pack, "desc_copy", &k));
  if (k == NULL) return;
  CHECK_OK(tp_kernel_arg_kind(k, 0, &kind));
  CHECK(kind == TP_ARG_DESCRIPTOR);
  args[0] = tp_descriptor(X, TP_FP16, 2, shape, strides);
  args[1] = tp_tensor(Y, TP_FP16);
  tp_testing_record_params(8);
  CHECK_OK(tp_kernel_launch(k, args, 2, NULL, NULL));
  CHECK(tp_testing_last_encode(&rank, dims) == 1);
  CHECK(rank == 2 && dims[0] == 128 && dims[1] == 256); /* the driver takes dims innermost first */
  CHECK(tp_testing_last_launch(grid, &block_x, params, 8) == 8);
  CHECK(params[0] == X);                                     /* the tensor map's address */
  CHECK((uint32_t)params[1] == 256 && (uint32_t)params[2] == 128); /* shape (i32) */
  CHECK(params[3] == 128 && params[4] == 1);                 /* strides (i64) */
  CHECK(params[5] == Y);

  args[0] = tp_descriptor(X, TP_FP16, 2, shape, bad_strides);
  CHECK_FAILS(tp_kernel_launch(k, args, 2, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "descriptor 'src' needs its last stride to be 1 (contiguous rows), got 2");
  args[0] = tp_descriptor(X, TP_FP16, 2, shape, NULL);
  CHECK_FAILS(tp_kernel_launch(k, args, 2, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "descriptor 'src' needs a shape of 1 to 5 dims and as many strides");
  args[0] = tp_tensor_shaped(X, TP_FP16, 2, shape);
  CHECK_FAILS(tp_kernel_launch(k, args, 2, NULL, NULL), TP_ERROR_INVALID_ARGUMENT,
              "argument 0 'src' must be a tensor descriptor (Arg::descriptor), got a tensor");
  tp_kernel_destroy(k);
}

/* A pack whose blobs are all corrupt opens (open does not hash blobs); tp_pack_verify and the
 * launch that would load a blob fail with the blob's message, and nothing launches. */
static void test_corrupt_blobs(void) {
  char path[4096];
  tp_pack* pack = NULL;
  tp_kernel* k = NULL;
  rownorm_launch l;
  const size_t launches = tp_testing_num_launches();
  CHECK_OK(tp_testing_write_pack_with_corrupt_blobs(path, sizeof path));
  CHECK_OK(tp_pack_open(path, &pack));
  remove(path);
  if (pack == NULL) return;
  CHECK_FAILS(tp_pack_verify(pack), TP_ERROR_CORRUPT_PACK, "': blobs[0]: hash mismatch: the manifest says ");
  CHECK_HAS(tp_last_error(), path);
  CHECK_OK(tp_testing_kernel_create_fake(pack, "rownorm", &k));
  tp_pack_close(pack);
  if (k == NULL) return;
  rownorm_args(&l, TP_FP16, 4, 100, 3);
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_CORRUPT_PACK, "]: hash mismatch: the manifest says ");
  CHECK_FAILS(tp_kernel_launch(k, l.args, 5, NULL, NULL), TP_ERROR_CORRUPT_PACK, "]: hash mismatch: the manifest says ");
  CHECK(tp_testing_num_launches() == launches);
  tp_kernel_destroy(k);
  CHECK_FAILS(tp_pack_verify(NULL), TP_ERROR_INVALID_ARGUMENT, "tp_pack_verify: pack is NULL");
}

/* A tuning table orders the configs unless ignore_tuning is set. "tuned" (capi_fixture.h):
 * grid (cdiv(n, BLOCK)); the table's entry for n = 1000, M = 100 ranks c2 (BLOCK 256) first,
 * spec order starts with c0 (BLOCK 64). Variant 6 is c2's fp16 sm_90 variant, 0 is c0's. */
static void test_tuning(tp_pack* pack) {
  tp_kernel* k = NULL;
  tp_launch_options o;
  int64_t shape[2] = {100, 8};
  tp_arg args[3];
  unsigned grid[3] = {0, 0, 0};
  unsigned block_x = 0;
  uint64_t params[1] = {0};
  char text[4096];
  CHECK_OK(tp_testing_kernel_create_fake(pack, "tuned", &k));
  if (k == NULL) return;
  /* Only grids are read here. The 8 parameters test_descriptor asked for are more than this
   * kernel's: the fake would read kernel-parameter pointers past the launch's. */
  tp_testing_record_params(0);
  args[0] = tp_tensor_shaped(X, TP_FP16, 2, shape);
  args[1] = tp_tensor_shaped(Y, TP_FP16, 2, shape);
  args[2] = tp_int(1000);

  CHECK_OK(tp_kernel_launch(k, args, 3, NULL, NULL));
  tp_testing_last_launch(grid, &block_x, params, 0);
  CHECK(grid[0] == 4);
  memset(&o, 0, sizeof o); /* zero-filled: the defaults, tuning included */
  CHECK_OK(tp_kernel_launch(k, args, 3, NULL, &o));
  tp_testing_last_launch(grid, &block_x, params, 0);
  CHECK(grid[0] == 4);
  o.ignore_tuning = 1;
  CHECK_OK(tp_kernel_launch(k, args, 3, NULL, &o));
  tp_testing_last_launch(grid, &block_x, params, 0);
  CHECK(grid[0] == 16);

  CHECK(explain(k, args, 3, NULL, 90, text, sizeof text) == 6);
  CHECK_HAS(text, "tuning: table 'Fake GPU' (sm_90, same arch, tuned 2026-11-29T16:40:00Z); key n = 1000 (bin 512..1023)");
  CHECK_HAS(text, "; entry 0 (n 512..1023, M 64..255): c2 1 us, c0 2 us, c1 3 us");
  CHECK(explain(k, args, 3, &o, 90, text, sizeof text) == 0);
  CHECK_HAS(text, "; ignored (use_tuning = false): configs in spec order");
  CHECK(explain(k, args, 3, NULL, 89, text, sizeof text) == 2); /* c0's sm_80 variant: no sm_89 table */
  CHECK_HAS(text, "tuning: no table for this device (sm_89; the pack has 1); configs in spec order");
  tp_kernel_destroy(k);
}

int main(void) {
  char path[4096];
  tp_pack* pack = NULL;
  tp_kernel* k = NULL;

  test_version_and_status_names();
  test_null_handles();

  tp_testing_reset_fake_gpu();
  CHECK_OK(tp_testing_write_pack(path, sizeof path));
  CHECK_OK(tp_pack_open(path, &pack));
  remove(path);
  if (pack == NULL) return 1;
  CHECK_OK(tp_pack_verify(pack));
  CHECK_FAILS(tp_testing_kernel_create_fake(pack, "nope", &k), TP_ERROR_NOT_FOUND, "nope");
  CHECK_OK(tp_testing_kernel_create_fake(pack, "rownorm", &k));
  if (k == NULL) return 1;

  test_introspection(k);
  test_launch_with_pins_shapes_and_a_launch_variable(k);
  test_more_pins_than_the_stack_holds(k);
  test_pins_add_no_allocation(k);
  test_explain(k);
  test_errors(k);
  test_descriptor(pack);
  test_tuning(pack);

  tp_pack_close(pack); /* the kernel keeps the pack alive */
  CHECK_OK(tp_kernel_unload(k));
  CHECK_OK(tp_kernel_unload(k));
  tp_kernel_destroy(k);
  test_corrupt_blobs();

  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}
