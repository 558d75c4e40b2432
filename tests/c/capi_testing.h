/* A test-only seam for the C API test (capi_test.c): a fake CUDA driver (tests/fault/fake_driver.h)
 * behind kernels made here, a pack to open, and what the fake driver recorded. Implemented in C++
 * (capi_testing.cpp) and linked into the test only; none of it is part of tritonpack.h.
 */
#ifndef TRITONPACK_TESTS_C_CAPI_TESTING_H_
#define TRITONPACK_TESTS_C_CAPI_TESTING_H_

#include <stddef.h>
#include <stdint.h>

#include "tritonpack/tritonpack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A fresh fake GPU: device 0 is sm_90 (its context current on this thread), device 1 sm_80. */
void tp_testing_reset_fake_gpu(void);

/* Writes the test pack (tests/c/capi_fixture.h: kernels "rownorm" and "desc_copy") to a new
 * temporary file and puts its NUL-terminated path into `path`. */
tp_status tp_testing_write_pack(char* path, size_t size);
/* The same pack with one byte of every blob flipped: it opens, and each blob fails its hash. */
tp_status tp_testing_write_pack_with_corrupt_blobs(char* path, size_t size);

/* Like tp_kernel_create, with the kernel bound to the fake driver. */
tp_status tp_testing_kernel_create_fake(tp_pack* pack, const char* kernel_name, tp_kernel** out);

/* Launches recorded record the first `count` 8-byte kernel parameters (at most what the kernel
 * takes, the two scratch pointers included). */
void tp_testing_record_params(size_t count);
size_t tp_testing_num_launches(void);
/* The last launch: grid, block size x, and up to `max_params` recorded parameters; returns how
 * many parameters it recorded (0 when nothing launched). */
size_t tp_testing_last_launch(unsigned grid[3], unsigned* block_x, uint64_t* params, size_t max_params);
/* The last cuTensorMapEncodeTiled call: rank and dims (innermost first); returns 0 if none. */
int tp_testing_last_encode(unsigned* rank, uint64_t dims[5]);

/* operator new calls in this process so far. */
size_t tp_testing_allocations(void);

#ifdef __cplusplus
}
#endif

#endif /* TRITONPACK_TESTS_C_CAPI_TESTING_H_ */
