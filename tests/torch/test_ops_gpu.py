"""The op library on a GPU (docs/torch.md): torch.ops.tritonpack.tritonpack_fmha from the shipped
attention pack (compiled with Triton) against PyTorch's scaled_dot_product_attention(is_causal=True)
in float64, on fresh random inputs, with the caching allocator poisoned (NaN) before every call so
an element the kernel did not write fails; eager, torch.compile(fullgraph=True) with static and
dynamic shapes, torch.library.opcheck, streams, threads, the launch cache past its size, and the
refusals (non-contiguous, mixed devices, CPU). With two GPUs (issue 12), with cuda:0 current: the
op eager and compiled on inputs on cuda:1, on cuda:1's current stream; inputs split across the two
refused; two threads alternating between them. With one GPU those cases report SKIPPED.

Usage: test_ops_gpu.py FMHA_PACK   (TRITONPACK_TORCH_LIBRARY and PYTHONPATH as for test_ops_meta.py)
  TRITONPACK_TORCH_PLUGINGEN_PACK=<pack of PluginGen's FMHA config>: also PluginGen's op
    (torch.ops.tritonpack.fused_attention_kernel: an int field, outputs Out, L, M) against the
    reference, and opcheck on it.
  TRITONPACK_TORCH_CASES=a,b: run only these cases (e.g. under compute-sanitizer).
Exit 0 if no check fails (some may be skipped), 1 if one fails, 77 (skipped) without CUDA, without
the pack, or when every selected case was skipped.
"""

import contextlib
import math
import os
import re
import sys
import threading

import torch

if not torch.cuda.is_available():
    print("SKIPPED: no CUDA device (torch.cuda.is_available() is False)")
    sys.exit(77)
if len(sys.argv) != 2 or not os.path.isfile(sys.argv[1]):
    print(f"SKIPPED: no compiled attention pack ({sys.argv[1:]}); compile kernels/fmha/fmha.toml with Triton")
    sys.exit(77)

import tritonpack
from _cases import Skipped, case, finish  # noqa: E402

tritonpack.load(sys.argv[1])
fmha = torch.ops.tritonpack.tritonpack_fmha
TOL = {torch.float16: (2.5e-3, 1e-2), torch.bfloat16: (1e-2, 4e-2)}  # atol, rtol (tests/gpu/plugin_gpu_test.cpp)


def poison_allocator(nbytes, device="cuda"):
    # Fills blocks of the caching allocator with NaN and frees them: the op's outputs and workspace
    # are then likely carved from poisoned memory, so an unwritten element shows as NaN. Blocks
    # are kept per device and per stream: poison where the op will allocate.
    for _ in range(4):
        torch.full((nbytes // 2 + 4096,), float("nan"), dtype=torch.float16, device=device)


def inputs(b, h, s, d, dtype, seed, device="cuda"):
    g = torch.Generator(device=device).manual_seed(seed)
    return [torch.randn(b, h, s, d, dtype=dtype, device=device, generator=g) for _ in range(3)]


def reference(q, k, v, scale):
    return torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True,
                                                            scale=scale)


def check_close(got, q, k, v, scale, what):
    want = reference(q, k, v, scale)
    assert got.shape == want.shape and got.dtype == q.dtype, (what, got.shape, got.dtype)
    atol, rtol = TOL[q.dtype]
    g = got.double()
    assert not torch.isnan(g).any(), f"{what}: NaN in the output (an element left unwritten?)"
    worst = ((g - want).abs() / (atol + rtol * want.abs())).max().item()  # every element compared
    assert worst <= 1.0, f"{what}: worst |got - want| / (atol + rtol |want|) = {worst:.3f}"
    return worst


def raises(pattern, *args):
    try:
        fmha(*args)
    except RuntimeError as e:
        assert re.search(pattern, str(e), re.S), str(e)[:1000]
        return
    raise AssertionError(f"no RuntimeError matching {pattern!r}")


@case
def eager_matches_sdpa_float64():
    seed = 0
    for dtype in (torch.float16, torch.bfloat16):
        for d in (64, 128):
            for b, h, s in ((2, 4, 77), (1, 3, 1000), (1, 1, 1), (2, 2, 128), (1, 2, 4099)):
                seed += 1
                q, k, v = inputs(b, h, s, d, dtype, seed)
                scale = 1.0 / math.sqrt(d) if seed % 2 else 0.3
                poison_allocator(q.numel() * q.element_size() + 8 * b * h * s)
                out = fmha(q, k, v, scale)
                torch.cuda.synchronize()
                worst = check_close(out, q, k, v, scale, f"{dtype} B={b} H={h} S={s} D={d}")
                print(f"  {str(dtype):15} B={b} H={h} S={s:5} D={d:3} worst {worst:.3f}")


@case
def compile_fullgraph_matches_eager():
    def attention(q, k, v):
        return fmha(q, k, v, 0.125) * 1.0

    torch._dynamo.reset()
    for dynamic in (False, True):
        compiled = torch.compile(attention, fullgraph=True, dynamic=dynamic)
        for s in (77, 1000, 333):
            q, k, v = inputs(2, 4, s, 64, torch.float16, 100 + s)
            poison_allocator(q.numel() * 2 + 64 * s)
            got = compiled(q, k, v)
            want = fmha(q, k, v, 0.125)
            torch.cuda.synchronize()
            assert torch.equal(got, want), f"dynamic={dynamic} S={s}: compiled differs from eager"
            check_close(got, q, k, v, 0.125, f"compiled dynamic={dynamic} S={s}")


@case
def opcheck_passes():
    for dtype, s, d in ((torch.float16, 77, 64), (torch.bfloat16, 256, 128)):
        q, k, v = inputs(1, 2, s, d, dtype, 7)
        torch.library.opcheck(fmha, (q, k, v, 0.125))


@case
def runs_on_the_current_stream():
    q, k, v = inputs(2, 4, 1000, 64, torch.float16, 11)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        torch.cuda._sleep(50_000_000)  # the op must queue behind this on `stream`
        out = fmha(q, k, v, 0.125)
    stream.synchronize()
    check_close(out, q, k, v, 0.125, "side stream")


@case
def threads_and_a_cache_past_its_size():
    errors = []

    def worker(t):
        try:
            torch.cuda.set_stream(torch.cuda.Stream())
            for i in range(12):
                s = 16 + 37 * ((t * 12 + i) % 40)  # 40 shapes: more than the cache keeps (32)
                q, k, v = inputs(1, 2, s, 64, torch.float16, 1000 * t + i)
                out = fmha(q, k, v, 0.2)
                torch.cuda.current_stream().synchronize()
                check_close(out, q, k, v, 0.2, f"thread {t} S={s}")
        except Exception as e:  # reported by the main thread
            errors.append(f"thread {t}: {e!r}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@case
def refusals_are_runtime_errors():
    q, k, v = inputs(2, 4, 128, 64, torch.float16, 21)
    raises(r"input 'Q' is not contiguous .*make it contiguous first", q.transpose(2, 3).contiguous().transpose(2, 3),
           k, v, 0.1)
    raises(r"input 'K' is on cpu but 'Q' is on cuda:0: every input must be on the same CUDA device", q, k.cpu(), v, 0.1)
    raises(r"CPU", q.cpu(), k.cpu(), v.cpu(), 0.1)  # no CPU kernel: the dispatcher's message
    raises(r"no variant of kernel 'fmha'.*D == BLOCK_DMODEL", *inputs(1, 1, 64, 96, torch.float16, 3), 0.1)
    raises(r"requires grad", q.clone().requires_grad_(), k, v, 0.1)


# Issue 12: inputs on cuda:1 while cuda:0 is current. The op must follow its inputs (run on their
# device, on that device's current stream) and leave the current device as it found it.


def second_gpu():
    """cuda:1, with cuda:0 made current; Skipped on a machine with fewer than two GPUs."""
    if torch.cuda.device_count() < 2:
        raise Skipped(f"needs two CUDA devices; this machine has {torch.cuda.device_count()}")
    torch.cuda.set_device(0)
    return torch.device("cuda", 1)


@contextlib.contextmanager
def current_stream_on(stream):
    # Makes `stream` current on its own device and leaves the current device as it was:
    # torch.cuda.stream / set_stream would make the stream's device current too.
    with torch.cuda.device(stream.device):
        before = torch.cuda.current_stream()
        torch.cuda.set_stream(stream)
    try:
        yield
    finally:
        with torch.cuda.device(stream.device):
            torch.cuda.set_stream(before)


@case
def eager_on_cuda1_while_cuda0_is_current():
    dev = second_gpu()
    seed = 300
    for dtype in (torch.float16, torch.bfloat16):
        for b, h, s, d in ((2, 4, 77, 64), (1, 2, 1000, 128), (1, 3, 4099, 64)):
            seed += 1
            q, k, v = inputs(b, h, s, d, dtype, seed, device=dev)
            poison_allocator(q.numel() * q.element_size() + 8 * b * h * s, device=dev)
            out = fmha(q, k, v, 0.125)
            assert out.device == dev, f"output on {out.device}, inputs on {dev}"
            assert torch.cuda.current_device() == 0, f"the op left cuda:{torch.cuda.current_device()} current"
            torch.cuda.synchronize(dev)
            worst = check_close(out, q, k, v, 0.125, f"cuda:1 {dtype} B={b} H={h} S={s} D={d}")
            print(f"  cuda:1 {str(dtype):15} B={b} H={h} S={s:5} D={d:3} worst {worst:.3f}")

    # cuda:1's current stream is a side stream that fills the inputs with NaN, sleeps, then writes
    # their values: the op reads the values only if it queues on that stream (not on cuda:1's
    # default stream, nor on cuda:0's).
    q0, k0, v0 = inputs(2, 4, 1000, 64, torch.float16, 311, device=dev)
    side = torch.cuda.Stream(device=dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with current_stream_on(side):
        assert torch.cuda.current_device() == 0 and torch.cuda.current_stream(dev) == side
        q, k, v = (torch.full_like(t, float("nan")) for t in (q0, k0, v0))
        with torch.cuda.device(dev):
            torch.cuda._sleep(50_000_000)
        for t, values in ((q, q0), (k, k0), (v, v0)):
            t.copy_(values)
        out = fmha(q, k, v, 0.125)
        assert torch.cuda.current_device() == 0, f"the op left cuda:{torch.cuda.current_device()} current"
    side.synchronize()
    check_close(out, q, k, v, 0.125, "cuda:1's side stream")


@case
def compile_on_cuda1_while_cuda0_is_current():
    dev = second_gpu()

    def attention(q, k, v):
        return fmha(q, k, v, 0.125) * 1.0

    torch._dynamo.reset()
    for dynamic in (False, True):
        compiled = torch.compile(attention, fullgraph=True, dynamic=dynamic)
        # One function on cuda:0 then cuda:1 inputs: a graph per device, each following its inputs.
        for device, s in (("cuda:0", 77), (dev, 77), (dev, 333)):
            q, k, v = inputs(2, 4, s, 64, torch.float16, 400 + s, device=device)
            poison_allocator(q.numel() * 2 + 64 * s, device=device)
            got = compiled(q, k, v)
            assert got.device == q.device, f"dynamic={dynamic}: output on {got.device}, inputs on {q.device}"
            assert torch.cuda.current_device() == 0, f"the graph left cuda:{torch.cuda.current_device()} current"
            want = fmha(q, k, v, 0.125)
            torch.cuda.synchronize(device)
            assert torch.equal(got, want), f"dynamic={dynamic} {device} S={s}: compiled differs from eager"
            check_close(got, q, k, v, 0.125, f"compiled dynamic={dynamic} {device} S={s}")


@case
def inputs_split_across_two_gpus_are_refused():
    dev = second_gpu()
    q0, k0, v0 = inputs(1, 2, 128, 64, torch.float16, 31, device="cuda:0")
    q1, k1, v1 = (t.to(dev) for t in (q0, k0, v0))
    same = r": every input must be on the same CUDA device"
    raises(r"input 'K' is on cuda:1 but 'Q' is on cuda:0" + same, q0, k1, v0, 0.1)
    raises(r"input 'K' is on cuda:0 but 'Q' is on cuda:1" + same, q1, k0, v1, 0.1)
    raises(r"input 'V' is on cuda:0 but 'Q' is on cuda:1" + same, q1, k1, v0, 0.1)


@case
def two_threads_alternating_between_two_gpus():
    # Each thread alternates between cuda:0 and cuda:1 on side streams of its own, with cuda:0
    # current: the op binds each device's context on each thread, and its launch cache is keyed
    # by device.
    dev = second_gpu()
    errors = []

    def worker(t):
        try:
            streams = [torch.cuda.Stream(device=d) for d in ("cuda:0", dev)]
            for i in range(10):
                device = (t + i) % 2
                s = 16 + 37 * (5 * t + i)
                with current_stream_on(streams[device]):
                    q, k, v = inputs(1, 2, s, 64, torch.float16, 2000 + 100 * t + i, device=f"cuda:{device}")
                    out = fmha(q, k, v, 0.2)
                    assert out.device == q.device, f"output on {out.device}, inputs on {q.device}"
                    assert torch.cuda.current_device() == 0, f"the op left cuda:{torch.cuda.current_device()} current"
                    streams[device].synchronize()
                    check_close(out, q, k, v, 0.2, f"thread {t} cuda:{device} S={s}")
        except Exception as e:  # reported by the main thread
            errors.append(f"thread {t}: {e!r}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


PLUGINGEN_PACK = os.environ.get("TRITONPACK_TORCH_PLUGINGEN_PACK", "")
if PLUGINGEN_PACK:
    tritonpack.load(PLUGINGEN_PACK)

    @case
    def plugingen_op_matches_the_reference_and_opcheck_passes():
        # Out is causal attention; L and M the kernel's row sums and maxima of exp(scores - M), in
        # float32 (tests/gpu/plugin_gpu_test.cpp's reference).
        op = torch.ops.tritonpack.fused_attention_kernel
        for b, h, s in ((2, 3, 77), (1, 4, 300)):
            q, k, v = inputs(b, h, s, 64, torch.float16, 500 + s)
            scale = 0.125
            poison_allocator(q.numel() * 2 + 8 * b * h * s)
            out, l_rows, m_rows = op(q, k, v, scale, h)
            torch.cuda.synchronize()
            check_close(out, q, k, v, scale, f"PluginGen op B={b} H={h} S={s}")
            scores = (q.double() @ k.double().transpose(-1, -2)) * scale
            scores = scores.masked_fill(torch.ones(s, s, dtype=torch.bool, device="cuda").triu(1), float("-inf"))
            m_want = scores.amax(-1)
            l_want = (scores - m_want[..., None]).exp().sum(-1)
            for name, got, want in (("L", l_rows, l_want), ("M", m_rows, m_want)):
                assert got.dtype == torch.float32 and got.shape == want.shape, (name, got.dtype, got.shape)
                worst = ((got.double() - want).abs() / (1e-4 + 2e-3 * want.abs())).max().item()
                assert worst <= 1.0, f"PluginGen op {name} B={b} H={h} S={s}: worst {worst:.3f}"
            torch.library.opcheck(op, (q, k, v, scale, h))


finish()
