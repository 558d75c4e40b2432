"""Test kernel: a Gluon (@gluon.jit) copy that reads through a host tensor descriptor with an
NVMMASharedLayout: TMA brings each tile into shared memory, the tile is read back into registers
in a BlockedLayout, and stored through a pointer.

Host-side semantics (for a double-precision reference):
    x: an M x N row-major matrix of dtype T (fp16 or bf16), given as a host tensor descriptor
    (base, shape [M, N], strides [row stride, 1] in elements).
    out: M x N, row-major and contiguous (row stride N), dtype T.
    out[i * N + j] = x[i, j] bit for bit, for 0 <= i < M, 0 <= j < N; nothing else is written.

Any M, N >= 1 work: TMA reads past the edge as zeros and the store is masked. TMA needs the
descriptor's base 16-byte aligned and its row stride a multiple of 16 bytes (the runtime
refuses other launches). The descriptor's type in the signature is
tensordesc<T[64, 64],NVMMASharedLayout(...)> exactly as Triton's JIT spells it (spec:
gluon_tma_copy.toml); 64 two-byte elements make 128-byte rows, hence the 128-byte swizzle.

Grid: (cdiv(M, BLOCK_M), cdiv(N, BLOCK_N), 1); one program per 64 x 64 tile. sm_90 and newer.
"""

from triton.experimental import gluon
from triton.experimental.gluon import language as gl
from triton.experimental.gluon.language.nvidia.hopper import fence_async_shared, mbarrier, tma


@gluon.jit
def gluon_tma_copy_kernel(in_desc, out_ptr, M, N, BLOCK_M: gl.constexpr, BLOCK_N: gl.constexpr):
    row = gl.program_id(0) * BLOCK_M
    col = gl.program_id(1) * BLOCK_N

    tile_smem = gl.allocate_shared_memory(in_desc.dtype, in_desc.block_type.shape, in_desc.layout)
    ready = gl.allocate_shared_memory(gl.int64, [1], mbarrier.MBarrierLayout())
    mbarrier.init(ready, count=1)
    fence_async_shared()  # the barrier's initialization is visible to the TMA unit
    mbarrier.expect(ready, in_desc.block_type.nbytes)
    tma.async_copy_global_to_shared(in_desc, [row, col], ready, tile_smem)
    mbarrier.wait(ready, phase=0)
    mbarrier.invalidate(ready)

    # Each thread reads 8 consecutive elements (16 bytes) of a row; a warp covers 4 rows.
    layout: gl.constexpr = gl.BlockedLayout(size_per_thread=[1, 8], threads_per_warp=[4, 8],
                                            warps_per_cta=[gl.num_warps(), 1], order=[1, 0])
    tile = tile_smem.load(layout)
    rows = row + gl.arange(0, BLOCK_M, layout=gl.SliceLayout(1, layout))
    cols = col + gl.arange(0, BLOCK_N, layout=gl.SliceLayout(0, layout))
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    gl.store(out_ptr + rows[:, None].to(gl.int64) * N + cols[None, :], tile, mask=mask)
