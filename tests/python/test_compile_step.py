"""Tests of the Triton compile step (python/tritonpack_compile), no GPU needed.

Run: PYTHONPATH=python python3 tests/python/test_compile_step.py  (or through CTest).
The compile step runs as a subprocess, exactly as the C++ CLI runs it. Tests that
need Triton are skipped without it; the script then exits 77, which CTest reports
as skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import types
import unittest
from unittest import mock

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON_DIR = os.path.join(REPO, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from tritonpack_compile import abi, cache, resources, toolchain, worker  # noqa: E402
from tritonpack_compile.jobs import (DtypeValue, Job, JobFileError, Param, parse_descriptor,  # noqa: E402
                                     parse_job_file)

HAVE_TRITON = importlib.util.find_spec("triton") is not None
SKIP_EXIT_CODE = 77

VECTOR_ADD = os.path.join(REPO, "kernels", "vector_add", "vector_add.py")
SOFTMAX = os.path.join(REPO, "kernels", "softmax", "softmax.py")

# Kernels of the tests below, written to a temporary file by each test that uses them.
CONSTEXPR_KINDS_KERNEL = """
    import triton
    import triton.language as tl

    @triton.jit
    def kinds(out_ptr, F: tl.constexpr, S: tl.constexpr, NONE: tl.constexpr, DT: tl.constexpr,
              B: tl.constexpr, BLOCK: tl.constexpr):
        v = tl.full([BLOCK], F, DT)
        if S == "twice":
            v = v * 2
        if NONE is not None:
            v = v + 100
        if B:
            v = v + 1
        tl.store(out_ptr + tl.arange(0, BLOCK), v.to(tl.float32))
    """

DESCRIPTOR_KERNEL = """
    import triton
    import triton.language as tl

    @triton.jit
    def desc_copy(in_desc, out_desc, BM: tl.constexpr, BN: tl.constexpr):
        m = tl.program_id(0) * BM
        n = tl.program_id(1) * BN
        out_desc.store([m, n], in_desc.load([m, n]))

    @triton.jit
    def desc_inc3(d):
        d.store([0, 0, 0], d.load([0, 0, 0]) + 1)
    """

PDL_KERNELS = """
import triton
import triton.language as tl


@triton.jit
def waits(x_ptr, BLOCK: tl.constexpr):
    tl.extra.cuda.gdc_wait()
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs) + 1.0)


@triton.jit
def never_waits(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs) + 1.0)
"""

GLUON_KERNEL = """
    from triton.experimental import gluon
    from triton.experimental.gluon import language as gl
    from triton.experimental.gluon.language.nvidia.hopper import fence_async_shared, mbarrier, tma

    @gluon.jit
    def gl_add(x_ptr, y_ptr, out_ptr, n, BLOCK: gl.constexpr):
        layout: gl.constexpr = gl.BlockedLayout([4], [32], [4], [0])
        offs = gl.program_id(0) * BLOCK + gl.arange(0, BLOCK, layout=layout)
        mask = offs < n
        gl.store(out_ptr + offs, gl.load(x_ptr + offs, mask=mask) + gl.load(y_ptr + offs, mask=mask), mask=mask)

    @gluon.jit
    def gl_tma_copy(in_desc, out_desc):
        smem = gl.allocate_shared_memory(in_desc.dtype, in_desc.block_type.shape, in_desc.layout)
        bar = gl.allocate_shared_memory(gl.int64, [1], mbarrier.MBarrierLayout())
        mbarrier.init(bar, count=1)
        mbarrier.expect(bar, in_desc.block_type.nbytes)
        tma.async_copy_global_to_shared(in_desc, [0, 0], bar, smem)
        mbarrier.wait(bar, phase=0)
        mbarrier.invalidate(bar)
        fence_async_shared()
        tma.async_copy_shared_to_global(out_desc, [0, 0], smem)
        tma.store_wait(0)
    """

# How Triton 3.6's JIT spells a Gluon descriptor's layout: str(layout) of
# gl.NVMMASharedLayout.get_default_for([64, 64], gl.float16).
NVMMA_FP16_64x64 = ("NVMMASharedLayout(swizzle_byte_width=128, element_bitwidth=16, rank=2, transposed=False, "
                    "fp4_padded=False, cga_layout=[])")

# Records every call of triton.compile in a file next to the kernel: the preflight tests
# check that nothing was compiled.
COMPILE_RECORDER = """
    import os
    import triton
    import triton.language as tl

    _compile = triton.compile

    def _recording_compile(*args, **kwargs):
        with open(os.path.join(os.path.dirname(__file__), "compiled.log"), "a") as f:
            f.write("compile\\n")
        return _compile(*args, **kwargs)

    triton.compile = _recording_compile
    """


def vector_add_job(job_id: int, arch: int, dtype: str = "fp16", n_div: int = 16, block: int = 1024,
                   num_warps: int = 4) -> dict:
    return {
        "id": job_id,
        "signature": [["x_ptr", f"*{dtype}"], ["y_ptr", f"*{dtype}"], ["output_ptr", f"*{dtype}"],
                      ["n_elements", "i32"], ["BLOCK_SIZE", "constexpr"]],
        "constexprs": {"BLOCK_SIZE": block},
        "divisibility": {"x_ptr": 16, "y_ptr": 16, "output_ptr": 16, "n_elements": n_div},
        "arch": arch,
        "options": {"num_warps": num_warps, "num_stages": 2, "num_ctas": 1},
    }


def job_file(source: str, function: str, cache_dir: str, jobs: list[dict]) -> dict:
    return {"schema": "tritonpack-compile-jobs", "version": 1, "source_file": source, "function": function,
            "cache_dir": cache_dir, "jobs": jobs}


class _TempDirCase(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tritonpack-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.cache_dir = os.path.join(self.tmp, "cache")

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def run_step(self, jobs_or_path, *extra: str, python_flags: tuple[str, ...] = ()):
        """Runs the compile step; returns (exit code, events, stderr, wall seconds)."""
        if isinstance(jobs_or_path, str):
            path = jobs_or_path
        else:
            path = os.path.join(self.tmp, f"jobs-{time.monotonic_ns()}.json")
            with open(path, "w") as f:
                json.dump(jobs_or_path, f)
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR,
                   TRITON_CACHE_DIR=os.path.join(self.tmp, "triton-cache"))
        start = time.monotonic()
        proc = subprocess.run([sys.executable, *python_flags, "-m", "tritonpack_compile", path, *extra],
                              env=env, capture_output=True, text=True, timeout=300)
        seconds = time.monotonic() - start
        events = []
        for line in proc.stdout.splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                self.fail(f"stdout line is not JSON: {line!r}\nstderr:\n{proc.stderr}")
        return proc.returncode, events, proc.stderr, seconds

    def assert_protocol(self, events: list[dict], total: int) -> dict[int, dict]:
        """Checks plan first, finished last, one result per job; returns the results by id."""
        self.assertGreaterEqual(len(events), 2, events)
        self.assertEqual(events[0]["event"], "plan")
        self.assertEqual(events[0]["total"], total)
        self.assertEqual(events[-1]["event"], "finished")
        results = {e["id"]: e for e in events[1:-1]}
        self.assertEqual(len(results), total, events)
        self.assertTrue(all(e["event"] in ("done", "failed") for e in events[1:-1]), events)
        ok = sum(e["event"] == "done" for e in results.values())
        self.assertEqual((events[-1]["ok"], events[-1]["failed"]), (ok, total - ok))
        return results

    def read_meta(self, event: dict) -> dict:
        with open(os.path.join(event["dir"], "meta.json")) as f:
            return json.load(f)

    def assert_stages_and_resources(self, event: dict, meta: dict) -> None:
        """Every folder holds the IR stages it lists and the resource numbers, ptxas's agreeing with the cubin's."""
        expected_ir = ["ttgir", "llir"] if meta["language"] == "gluon" else ["ttir", "ttgir", "llir"]
        self.assertEqual(meta["ir"], expected_ir)
        for stage in meta["ir"]:
            self.assertGreater(os.path.getsize(os.path.join(event["dir"], f"kernel.{stage}")), 0, stage)
        self.assertIsInstance(meta["registers"], int)
        self.assertGreater(meta["registers"], 0)
        self.assertEqual(meta["registers"], meta["cubin_registers"], "ptxas's -v report against EIATTR_REGCOUNT")
        for key in ("spill_stores", "spill_loads", "stack_frame"):
            self.assertIsInstance(meta[key], int, key)
            self.assertGreaterEqual(meta[key], 0, key)

    def assert_failed_all(self, events: list[dict], total: int, count: int) -> str:
        """plan, one failed_all, finished; returns its message."""
        self.assertEqual([e["event"] for e in events], ["plan", "failed_all", "finished"], events)
        self.assertEqual(events[0]["total"], total)
        self.assertEqual(events[1]["count"], count)
        self.assertEqual((events[2]["ok"], events[2]["failed"]), (total - count, count))
        return events[1]["message"]


@unittest.skipUnless(HAVE_TRITON, "Triton is not installed")
class CompileStepTest(_TempDirCase):
    def test_vector_add_sm80_sm90_then_cached_then_no_cache(self):
        jobs = [vector_add_job(0, 80), vector_add_job(1, 90),
                vector_add_job(2, 90, dtype="fp32", n_div=1, block=4096, num_warps=8)]
        doc = job_file(VECTOR_ADD, "add_kernel", self.cache_dir, jobs)
        rc, events, stderr, _ = self.run_step(doc, "--parallel", "2")
        self.assertEqual(rc, 0, stderr)
        self.assertNotIn("ptxas info", stderr, "the routine resource report is read, not echoed")
        results = self.assert_protocol(events, 3)
        self.assertEqual(events[0]["cached"], 0)
        for job in jobs:
            event = results[job["id"]]
            self.assertEqual(event["event"], "done", event)
            self.assertFalse(event["cached"])
            self.assertTrue(event["dir"].startswith(os.path.join(self.cache_dir, "v2") + os.sep))
            with open(os.path.join(event["dir"], "kernel.cubin"), "rb") as f:
                self.assertEqual(f.read(4), b"\x7fELF")
            meta = self.read_meta(event)
            self.assertEqual(meta["entry"], "add_kernel")
            self.assertEqual(meta["arch"], job["arch"])
            self.assertEqual(meta["ptx_target"], "sm_80" if job["arch"] == 80 else "sm_90a")
            self.assertEqual(meta["num_warps"], job["options"]["num_warps"])
            self.assertEqual((meta["num_stages"], meta["num_ctas"], meta["cluster_dims"]), (2, 1, [1, 1, 1]))
            self.assertEqual(meta["args"], [{"name": "x_ptr", "type": "ptr"}, {"name": "y_ptr", "type": "ptr"},
                                            {"name": "output_ptr", "type": "ptr"},
                                            {"name": "n_elements", "type": "i32"}])
            self.assertEqual(meta["ptx_params"], ["u64", "u64", "u64", "u32", "u64", "u64"])
            self.assertEqual(meta["global_scratch_size"], 0)
            self.assertFalse(meta["launch_pdl"] or meta["launch_cooperative_grid"])
            self.assertEqual(len(meta["hash"]), 64)
            self.assertIsInstance(meta["shared"], int)
            self.assertEqual((meta["language"], meta["tensordesc_meta"]), ("triton", []))
            self.assert_stages_and_resources(event, meta)
            self.assertEqual((meta["spill_stores"], meta["spill_loads"]), (0, 0))
        self.assertEqual(len({e["dir"] for e in results.values()}), 3)
        with open(os.path.join(results[1]["dir"], "kernel.cubin"), "rb") as f:
            cubin = f.read()
        self.assertEqual(resources.cubin_register_count(cubin, "add_kernel"), self.read_meta(results[1])["registers"])
        with self.assertRaisesRegex(resources.CubinError, "no EIATTR_REGCOUNT for other_kernel in .nv.info"):
            resources.cubin_register_count(cubin, "other_kernel")
        with self.assertRaisesRegex(resources.CubinError, "out of bounds"):
            resources.cubin_register_count(cubin[:len(cubin) // 2], "add_kernel")
        leftovers = [n for n in os.listdir(os.path.join(self.cache_dir, "v2")) if n.startswith(".")]
        self.assertEqual(leftovers, [])

        rc, again, stderr, seconds = self.run_step(doc)
        self.assertEqual(rc, 0, stderr)
        cached = self.assert_protocol(again, 3)
        self.assertEqual(again[0]["cached"], 3)
        for job_id, event in cached.items():
            self.assertTrue(event["cached"])
            self.assertEqual(event["dir"], results[job_id]["dir"])
        self.assertLess(seconds, 1.0, "a fully cached run must not import Triton")

        rc, fresh, stderr, _ = self.run_step(doc, "--no-cache", "--parallel", "2")
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(fresh[0]["cached"], 0)
        self.assertTrue(all(not e["cached"] for e in self.assert_protocol(fresh, 3).values()))

    def test_a_change_to_a_module_beside_the_kernel_is_a_cache_miss(self):
        # The kernel imports a @triton.jit helper from its folder (kernels/attention's decode member
        # does): the cache key covers that file too, so editing it compiles again.
        helper = """
            import triton

            @triton.jit
            def scale(x):
                return x * {factor}
            """
        self.write("helper.py", helper.format(factor="2.0"))
        source = self.write("scaled_add.py", """
            import triton
            import triton.language as tl
            from helper import scale

            @triton.jit
            def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
                offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
                mask = offsets < n_elements
                x = tl.load(x_ptr + offsets, mask=mask)
                y = tl.load(y_ptr + offsets, mask=mask)
                tl.store(output_ptr + offsets, scale(x + y), mask=mask)
            """)
        doc = job_file(source, "add_kernel", self.cache_dir, [vector_add_job(0, 80)])
        rc, first, stderr, _ = self.run_step(doc)
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(first[0]["cached"], 0)
        rc, again, stderr, _ = self.run_step(doc)
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(again[0]["cached"], 1)
        self.write("helper.py", helper.format(factor="3.0"))
        rc, edited, stderr, _ = self.run_step(doc)
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(edited[0]["cached"], 0, "the helper changed: the cached kernel is stale")
        ptx = []
        for events in (first, edited):
            with open(os.path.join(self.assert_protocol(events, 1)[0]["dir"], "kernel.ptx")) as f:
                ptx.append(f.read())
        self.assertNotEqual(ptx[0], ptx[1])

    def test_triton_error_fails_only_its_job(self):
        source = self.write("broken.py", """
            import triton
            import triton.language as tl

            @triton.jit
            def fill(out_ptr, BLOCK: tl.constexpr):
                tl.static_print("compile-time print must not reach stdout", BLOCK)
                tl.store(out_ptr + tl.arange(0, BLOCK), 1.0)
            """)
        sig = [["out_ptr", "*fp32"], ["BLOCK", "constexpr"]]
        jobs = [{"id": 7, "signature": sig, "constexprs": {"BLOCK": 1000}, "arch": 90},
                {"id": 8, "signature": sig, "constexprs": {"BLOCK": 1024}, "arch": 90}]
        rc, events, stderr, _ = self.run_step(job_file(source, "fill", self.cache_dir, jobs), "--parallel", "2")
        self.assertEqual(rc, 1, stderr)
        results = self.assert_protocol(events, 2)
        self.assertEqual(results[7]["event"], "failed")
        message = results[7]["message"]
        self.assertIn("job 7", message)
        self.assertIn("BLOCK=1000", message)
        self.assertIn("power of 2", message)  # Triton's own words about tl.arange
        self.assertIn("CompilationError", message)
        self.assertEqual(results[8]["event"], "done")
        self.assertIn("compile-time print must not reach stdout", stderr)

    def test_signature_mismatch_names_both(self):
        job = vector_add_job(0, 90)
        job["signature"][3] = ["n", "i32"]
        job["divisibility"] = {"x_ptr": 16}
        rc, events, stderr, _ = self.run_step(job_file(VECTOR_ADD, "add_kernel", self.cache_dir, [job]))
        self.assertEqual(rc, 1, stderr)
        message = self.assert_failed_all(events, 1, 1)
        self.assertIn("add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE)", message)
        self.assertIn("position 3: the function has n_elements, the job has n", message)

        job = vector_add_job(0, 90)
        job["signature"][3] = ["n_elements", "constexpr"]
        job["divisibility"] = {}
        job["constexprs"]["n_elements"] = 5
        rc, events, stderr, _ = self.run_step(job_file(VECTOR_ADD, "add_kernel", self.cache_dir, [job]))
        self.assertEqual(rc, 1, stderr)
        self.assertIn("n_elements is not a constexpr in the function", self.assert_failed_all(events, 1, 1))

    def test_scalar_abi_mapping(self):
        source = self.write("scalars.py", """
            import triton
            import triton.language as tl

            @triton.jit
            def scalars(out_ptr, a, b, c, d, e, BLOCK: tl.constexpr):
                v = a.to(tl.float32) + b.to(tl.float32) + c + d.to(tl.float32) + e.to(tl.float32)
                tl.store(out_ptr + tl.arange(0, BLOCK), v + tl.zeros([BLOCK], tl.float32))
            """)
        sig = [["out_ptr", "*fp32"], ["a", "i32"], ["b", "i64"], ["c", "fp32"], ["d", "fp16"], ["e", "bf16"],
               ["BLOCK", "constexpr"]]
        jobs = [{"id": 0, "signature": sig, "constexprs": {"BLOCK": 128}, "arch": 90,
                 "options": {"num_warps": 4}}]
        rc, events, stderr, _ = self.run_step(job_file(source, "scalars", self.cache_dir, jobs))
        self.assertEqual(rc, 0, stderr)
        meta = self.read_meta(self.assert_protocol(events, 1)[0])
        self.assertEqual([a["type"] for a in meta["args"]], ["ptr", "i32", "i64", "fp32", "fp16", "bf16"])
        self.assertEqual(meta["ptx_params"], ["u64", "u32", "u64", "f32", "b8[2]", "b8[2]", "u64", "u64"])

    def test_softmax_sm90(self):
        sig = [["output_ptr", "*fp16"], ["input_ptr", "*fp16"], ["input_row_stride", "i32"],
               ["output_row_stride", "i32"], ["n_rows", "i32"], ["n_cols", "i32"], ["scale", "fp32"],
               ["BLOCK_SIZE", "constexpr"]]
        jobs = [{"id": i, "signature": sig, "constexprs": {"BLOCK_SIZE": block}, "arch": 90,
                 "divisibility": {"output_ptr": 16, "input_ptr": 16},
                 "options": {"num_warps": 8, "num_stages": 2}} for i, block in enumerate((1024, 4096))]
        rc, events, stderr, _ = self.run_step(job_file(SOFTMAX, "softmax_kernel", self.cache_dir, jobs),
                                              "--parallel", "2")
        self.assertEqual(rc, 0, stderr)
        for event in self.assert_protocol(events, 2).values():
            meta = self.read_meta(event)
            self.assertEqual(meta["entry"], "softmax_kernel")
            self.assertEqual([a["name"] for a in meta["args"]], [p[0] for p in sig[:-1]])
            self.assertEqual(meta["args"][6], {"name": "scale", "type": "fp32"})
            self.assertEqual(meta["ptx_params"], ["u64", "u64", "u32", "u32", "u32", "u32", "f32", "u64", "u64"])

    def test_compiler_crash_fails_only_its_job(self):
        # The kernel module wraps triton.compile so that compiling for sm_80 kills the
        # worker process, as an LLVM assertion would.
        source = self.write("crashing.py", """
            import os
            import triton
            import triton.language as tl

            _compile = triton.compile

            def _crash_on_sm80(src, target=None, options=None):
                if target.arch == 80:
                    os._exit(134)
                return _compile(src, target=target, options=options)

            triton.compile = _crash_on_sm80

            @triton.jit
            def fill(out_ptr, BLOCK: tl.constexpr):
                tl.store(out_ptr + tl.arange(0, BLOCK), 1.0)
            """)
        sig = [["out_ptr", "*fp32"], ["BLOCK", "constexpr"]]
        jobs = [{"id": i, "signature": sig, "constexprs": {"BLOCK": 256}, "arch": arch}
                for i, arch in enumerate((90, 80, 90))]
        jobs[2]["constexprs"]["BLOCK"] = 512
        rc, events, stderr, _ = self.run_step(job_file(source, "fill", self.cache_dir, jobs), "--parallel", "2")
        self.assertEqual(rc, 1, stderr)
        results = self.assert_protocol(events, 3)
        self.assertEqual(results[1]["event"], "failed")
        self.assertIn("compiler process died", results[1]["message"])
        self.assertEqual((results[0]["event"], results[2]["event"]), ("done", "done"))

    def test_missing_triton_exits_3(self):
        # -S leaves site-packages, and so Triton, off the path.
        doc = job_file(VECTOR_ADD, "add_kernel", self.cache_dir, [vector_add_job(0, 90)])
        rc, events, stderr, _ = self.run_step(doc, python_flags=("-S",))
        self.assertEqual(rc, 3)
        self.assertEqual(events, [])
        self.assertIn(f"Triton is not installed for {sys.executable}", stderr)
        self.assertIn("-m pip install triton==", stderr)


def _sm90_descriptor_params(ndim: int) -> list[str]:
    """The PTX parameters Triton 3.6 declares for one TMA descriptor (measured)."""
    return ["b8[128]"] + ["u32"] * ndim + ["u64"] * ndim


def _non_tma_descriptor_params(ndim: int) -> list[str]:
    """The PTX parameters Triton 3.6 declares for a descriptor not lowered to TMA (measured on sm_80)."""
    return ["u64"] + ["u64"] * (2 * ndim) + ["u8"] + ["u32"] * ndim + ["u64"] * ndim


@unittest.skipUnless(HAVE_TRITON, "Triton is not installed")
class KernelKindsTest(_TempDirCase):
    """Constexprs of every kind, host tensor descriptors, Gluon: real compiles for sm_80 and sm_90."""

    def compile_ok(self, source: str, function: str, jobs: list[dict]) -> dict[int, tuple[dict, dict]]:
        """Compiles; every job must succeed. Returns {id: (event, meta)}."""
        rc, events, stderr, _ = self.run_step(job_file(source, function, self.cache_dir, jobs), "--parallel", "2")
        self.assertEqual(rc, 0, stderr)
        results = self.assert_protocol(events, len(jobs))
        out = {}
        for job_id, event in results.items():
            self.assertEqual(event["event"], "done", event)
            meta = self.read_meta(event)
            self.assert_stages_and_resources(event, meta)
            out[job_id] = (event, meta)
        return out

    def test_constexpr_values_of_every_kind(self):
        source = self.write("kinds.py", CONSTEXPR_KINDS_KERNEL)
        sig = [["out_ptr", "*fp32"], *[[n, "constexpr"] for n in ("F", "S", "NONE", "DT", "B", "BLOCK")]]
        values = [{"F": 1.5, "S": "twice", "NONE": None, "DT": {"dtype": "fp32"}, "B": False, "BLOCK": 128},
                  {"F": 1.5, "S": "once", "NONE": 7, "DT": {"dtype": "fp16"}, "B": True, "BLOCK": 128}]
        jobs = [{"id": i, "signature": sig, "constexprs": v, "arch": arch}
                for i, (v, arch) in enumerate(zip(values, (90, 80)))]
        results = self.compile_ok(source, "kinds", jobs)
        # Each kernel stores one constant, which shows that every value reached the compiler.
        for job_id, stored in ((0, 3.0), (1, 102.5)):  # 1.5 * 2 ("twice"); 1.5 + 100 (NONE=7) + 1 (B) in fp16
            bits = struct.unpack("<I", struct.pack("<f", stored))[0]
            with open(os.path.join(results[job_id][0]["dir"], "kernel.ptx")) as f:
                self.assertRegex(f.read(), rf"mov\.b32\s+%r\d+, {bits};", f"job {job_id} should store {stored}")
        self.assertEqual(results[0][1]["args"], [{"name": "out_ptr", "type": "ptr"}])

    def test_tensor_descriptors_sm80_and_sm90(self):
        source = self.write("descriptors.py", DESCRIPTOR_KERNEL)
        sig = [["in_desc", "tensordesc<fp16[64, 128]>"], ["out_desc", "tensordesc<fp16[64,128]>"],
               ["BM", "constexpr"], ["BN", "constexpr"]]
        jobs = [{"id": arch, "signature": sig, "constexprs": {"BM": 64, "BN": 128}, "arch": arch}
                for arch in (80, 90)]
        results = self.compile_ok(source, "desc_copy", jobs)
        sm80, sm90 = results[80][1], results[90][1]
        for meta, tma in ((sm80, False), (sm90, True)):
            self.assertEqual(meta["args"], [{"name": "in_desc", "type": "tensordesc", "ndim": 2, "tma": tma},
                                            {"name": "out_desc", "type": "tensordesc", "ndim": 2, "tma": tma}])
        self.assertEqual(sm90["ptx_params"], _sm90_descriptor_params(2) * 2 + ["u64", "u64"])
        self.assertEqual(sm80["ptx_params"], _non_tma_descriptor_params(2) * 2 + ["u64", "u64"])
        # The box is Triton's block_size, not the declared block: 128 fp16 = 256 bytes is over a 128B swizzle.
        box = {"swizzle": 3, "elem_size": 2, "elem_type": 6, "block_size": [64, 64], "fp4_padded": False}
        self.assertEqual(sm90["tensordesc_meta"], [box, box])
        self.assertEqual(sm80["tensordesc_meta"], [None, None])

        sig3 = [["d", "tensordesc<fp32[2,8,32]>"]]
        meta3 = self.compile_ok(source, "desc_inc3", [{"id": 0, "signature": sig3, "arch": 90}])[0][1]
        self.assertEqual(meta3["args"], [{"name": "d", "type": "tensordesc", "ndim": 3, "tma": True}])
        self.assertEqual(meta3["ptx_params"], _sm90_descriptor_params(3) + ["u64", "u64"])

    def test_gluon_kernels(self):
        source = self.write("gluon_kernels.py", GLUON_KERNEL)
        sig = [["x_ptr", "*fp32"], ["y_ptr", "*fp32"], ["out_ptr", "*fp32"], ["n", "i32"], ["BLOCK", "constexpr"]]
        jobs = [{"id": arch, "signature": sig, "constexprs": {"BLOCK": 512}, "arch": arch,
                 "divisibility": {"x_ptr": 16, "y_ptr": 16, "out_ptr": 16}} for arch in (80, 90)]
        for event, meta in self.compile_ok(source, "gl_add", jobs).values():
            self.assertEqual(meta["language"], "gluon")
            self.assertFalse(os.path.exists(os.path.join(event["dir"], "kernel.ttir")))
            self.assertEqual(meta["ptx_params"], ["u64", "u64", "u64", "u32", "u64", "u64"])

        desc = f"tensordesc<fp16[64, 64],{NVMMA_FP16_64x64}>"
        tma_job = {"id": 0, "signature": [["in_desc", desc], ["out_desc", desc]], "arch": 90}
        meta = self.compile_ok(source, "gl_tma_copy", [tma_job])[0][1]
        self.assertEqual(meta["language"], "gluon")
        self.assertEqual([a["tma"] for a in meta["args"]], [True, True])
        self.assertEqual(meta["ptx_params"], _sm90_descriptor_params(2) * 2 + ["u64", "u64"])
        self.assertEqual(meta["tensordesc_meta"][0]["block_size"], [64, 64])

        # The layout belongs to Gluon descriptors only; either mistake stops the run before compiling.
        bare = {**tma_job, "signature": [["in_desc", "tensordesc<fp16[64, 64]>"], ["out_desc", desc]]}
        rc, events, stderr, _ = self.run_step(job_file(source, "gl_tma_copy", self.cache_dir, [bare]))
        self.assertEqual(rc, 1, stderr)
        self.assertIn("in_desc: a Gluon kernel's tensor descriptor needs its layout",
                      self.assert_failed_all(events, 1, 1))
        triton_source = self.write("descriptors.py", DESCRIPTOR_KERNEL)
        with_layout = {"id": 0, "arch": 90, "signature": [["d", f"tensordesc<fp32[2,8,32],{NVMMA_FP16_64x64}>"]]}
        rc, events, stderr, _ = self.run_step(job_file(triton_source, "desc_inc3", self.cache_dir, [with_layout]))
        self.assertEqual(rc, 1, stderr)
        self.assertIn("d: only Gluon kernels take a layout", self.assert_failed_all(events, 1, 1))

    def test_launch_pdl_needs_a_wait(self):
        # Programmatic dependent launch: the kernel that waits (gdc_wait) compiles with launch_pdl in
        # its metadata; the one that does not is refused, naming what to do.
        source = self.write("pdl.py", PDL_KERNELS)
        job = {"id": 0, "signature": [["x_ptr", "*fp32"], ["BLOCK", "constexpr"]], "constexprs": {"BLOCK": 128},
               "arch": 90, "options": {"num_warps": 4, "launch_pdl": True}}
        meta = self.compile_ok(source, "waits", [job])[0][1]
        self.assertTrue(meta["launch_pdl"])
        rc, events, stderr, _ = self.run_step(job_file(source, "never_waits", self.cache_dir, [job]))
        self.assertEqual(rc, 1, stderr)
        result = self.assert_protocol(events, 1)[0]
        self.assertEqual(result["event"], "failed", result)
        self.assertIn("never_waits is compiled for programmatic dependent launch (its config sets launch_pdl) but "
                      "never waits for the launch before it (no griddepcontrol.wait in its PTX)", result["error"])

    def test_spills_are_reported(self):
        # The sm_80 (non-TMA) descriptor copy needs ~200 registers; capped at 32 it must spill.
        source = self.write("descriptors.py", DESCRIPTOR_KERNEL)
        sig = [["in_desc", "tensordesc<fp16[64, 128]>"], ["out_desc", "tensordesc<fp16[64,128]>"],
               ["BM", "constexpr"], ["BN", "constexpr"]]
        job = {"id": 0, "signature": sig, "constexprs": {"BM": 64, "BN": 128}, "arch": 80,
               "options": {"maxnreg": 32}}
        meta = self.compile_ok(source, "desc_copy", [job])[0][1]
        self.assertLessEqual(meta["registers"], 32)
        self.assertGreater(meta["spill_stores"], 0)
        self.assertGreater(meta["spill_loads"], 0)
        self.assertGreater(meta["stack_frame"], 0)


@unittest.skipUnless(HAVE_TRITON, "Triton is not installed")
class PreflightTest(_TempDirCase):
    """Problems every job would hit are found once, before anything compiles."""

    def fill_jobs(self, count: int, signature: list | None = None) -> list[dict]:
        sig = signature or [["out_ptr", "*fp32"], ["BLOCK", "constexpr"]]
        return [{"id": i, "signature": sig, "constexprs": {"BLOCK": 64 << i}, "arch": 90} for i in range(count)]

    def test_import_error_is_reported_once(self):
        source = self.write("broken_import.py", """
            import triton
            raise RuntimeError("this kernel file cannot be imported")
            """)
        rc, events, stderr, _ = self.run_step(job_file(source, "fill", self.cache_dir, self.fill_jobs(8)),
                                              "--parallel", "2")
        self.assertEqual(rc, 1, stderr)
        message = self.assert_failed_all(events, 8, 8)
        self.assertEqual(message.count("RuntimeError: this kernel file cannot be imported"), 1, message)
        self.assertIn(f"importing {source} failed", message)
        self.assertFalse(os.path.exists(self.cache_dir), "nothing may be compiled or published")

    def test_crash_while_importing_is_reported_once(self):
        source = self.write("crash_import.py", """
            import os
            os._exit(134)
            """)
        rc, events, stderr, _ = self.run_step(job_file(source, "fill", self.cache_dir, self.fill_jobs(3)))
        self.assertEqual(rc, 1, stderr)
        self.assertIn("died while importing", self.assert_failed_all(events, 3, 3))

    def test_signature_mismatch_stops_before_compiling(self):
        source = self.write("recorded.py", textwrap.dedent(COMPILE_RECORDER) + textwrap.dedent("""
            @triton.jit
            def fill(out_ptr, n, BLOCK: tl.constexpr):
                offs = tl.arange(0, BLOCK)
                tl.store(out_ptr + offs, 1.0, mask=offs < n)
            """))
        good = [["out_ptr", "*fp32"], ["n", "i32"], ["BLOCK", "constexpr"]]
        bad = [["out_ptr", "*fp32"], ["count", "i32"], ["BLOCK", "constexpr"]]
        jobs = self.fill_jobs(2, good) + [{**j, "id": j["id"] + 2} for j in self.fill_jobs(5, bad)]
        rc, events, stderr, _ = self.run_step(job_file(source, "fill", self.cache_dir, jobs), "--parallel", "2")
        self.assertEqual(rc, 1, stderr)
        message = events[1]["message"]
        self.assertEqual([e["event"] for e in events], ["plan", "failed_all", "finished"], events)
        self.assertEqual(events[1]["count"], 5, "the jobs with the wrong signature")
        self.assertIn("position 1: the function has n, the job has count", message)
        self.assertEqual(message.count("position 1"), 1, message)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "compiled.log")), "triton.compile was called")

        rc, events, stderr, _ = self.run_step(job_file(source, "fill", self.cache_dir, jobs[:2]), "--parallel", "2")
        self.assertEqual(rc, 0, stderr)
        self.assert_protocol(events, 2)
        with open(os.path.join(self.tmp, "compiled.log")) as f:
            self.assertEqual(f.read().count("compile"), 2, "the recorder works")

    def test_every_failing_signature_is_counted_and_the_first_shown(self):
        # worker.preflight in this process, as the pool's first worker runs it.
        source = self.write("fill.py", """
            import triton
            import triton.language as tl

            @triton.jit
            def fill(out_ptr, n, BLOCK: tl.constexpr):
                offs = tl.arange(0, BLOCK)
                tl.store(out_ptr + offs, 1.0, mask=offs < n)
            """)
        with open(source, "rb") as f:
            sha256 = hashlib.sha256(f.read()).hexdigest()
        good = (Param("out_ptr", "*fp32"), Param("n", "i32"), Param("BLOCK", "constexpr"))
        renamed = (Param("out_ptr", "*fp32"), Param("count", "i32"), Param("BLOCK", "constexpr"))
        not_constexpr = (Param("out_ptr", "*fp32"), Param("n", "i32"), Param("BLOCK", "i32"))
        request = {"source_file": source, "source_sha256": sha256, "function": "fill"}
        self.assertIsNone(worker.preflight({**request, "signatures": [(good, 5)]}))
        stop = worker.preflight({**request, "signatures": [(good, 2), (renamed, 3), (not_constexpr, 4)]})
        self.assertEqual(stop["count"], 7, "the jobs of both failing signatures")
        self.assertIn("position 1: the function has n, the job has count", stop["message"])
        self.assertNotIn("BLOCK is annotated tl.constexpr", stop["message"], "only the first failure is shown")
        self.assertTrue(stop["message"].endswith(
            "\n(and 1 more of the job file's 3 signatures do not match either)"), stop["message"])
        one = worker.preflight({**request, "signatures": [(good, 2), (not_constexpr, 4)]})
        self.assertEqual(one["count"], 4)
        self.assertIn("BLOCK is annotated tl.constexpr in the function but typed 'i32' in the job", one["message"])
        self.assertNotIn("more of the job file", one["message"])

    def test_pointer_and_bare_descriptor_are_different_signatures(self):
        # For a Gluon kernel a pointer passes the check and a descriptor without its layout does not:
        # the preflight must check both, as nothing checks the signature after it.
        source = self.write("gluon_kernels.py", GLUON_KERNEL)
        pointers = {"id": 0, "arch": 90, "signature": [["in_desc", "*fp16"], ["out_desc", "*fp16"]]}
        bare = {"id": 1, "arch": 90, "signature": [["in_desc", "tensordesc<fp16[64, 64]>"], ["out_desc", "*fp16"]]}
        rc, events, stderr, _ = self.run_step(job_file(source, "gl_tma_copy", self.cache_dir, [pointers, bare]))
        self.assertEqual(rc, 1, stderr)
        self.assertEqual([e["event"] for e in events], ["plan", "failed_all", "finished"], events)
        self.assertEqual(events[1]["count"], 1, "the job with the bare descriptor")
        self.assertIn("in_desc: a Gluon kernel's tensor descriptor needs its layout", events[1]["message"])
        self.assertEqual((events[2]["ok"], events[2]["failed"]), (0, 1))
        self.assertFalse(os.path.exists(self.cache_dir), "nothing may be compiled or published")

    def test_same_error_in_every_job_has_one_error_text(self):
        jobs = [{**vector_add_job(i, arch), "options": {"num_warps": 4, "no_such_option": 1}}
                for i, arch in enumerate((80, 90))]
        rc, events, stderr, _ = self.run_step(job_file(VECTOR_ADD, "add_kernel", self.cache_dir, jobs),
                                              "--parallel", "2")
        self.assertEqual(rc, 1, stderr)
        results = self.assert_protocol(events, 2)
        self.assertEqual(results[0]["error"], results[1]["error"])
        self.assertIn("unknown compile option no_such_option", results[0]["error"])
        for job_id, event in results.items():
            self.assertTrue(event["message"].endswith(": " + event["error"]), event)
            self.assertTrue(event["message"].startswith(f"job {job_id} (sm_"))


CLI = os.environ.get("TRITONPACK_CLI", os.path.join(REPO, "build", "tritonpack"))


@unittest.skipUnless(os.access(CLI, os.X_OK), f"the tritonpack CLI is not built at {CLI} (set TRITONPACK_CLI)")
class CliFailureReportTest(_TempDirCase):
    """`tritonpack compile`'s final error, fed canned events by a stand-in for the Python step."""

    def run_cli(self, events: list[dict]) -> str:
        fake_python = self.write("fake-python.sh", "#!/bin/sh\ncat <<'EOF'\n"
                                 + "".join(json.dumps(e) + "\n" for e in events) + "EOF\nexit 1\n")
        os.chmod(fake_python, 0o755)
        spec = os.path.join(REPO, "kernels", "vector_add", "vector_add.toml")
        proc = subprocess.run([CLI, "compile", spec, "-o", os.path.join(self.tmp, "x.tpack"), "--cache-dir",
                               self.cache_dir, "--python", fake_python], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        return proc.stderr

    def test_identical_errors_are_shown_once(self):
        def failed(job_id: int, error: str) -> dict:
            return {"event": "failed", "id": job_id, "message": f"job {job_id} (sm_90: ...): {error}", "error": error}

        same = "Triton failed to compile add_kernel: CompilationError: at 3:33:\nthe same for all"
        events = [{"event": "plan", "total": 24, "cached": 0},
                  *[failed(i, same) for i in range(22)], failed(22, "other error A"), failed(23, "other error B"),
                  {"event": "finished", "ok": 0, "failed": 24, "seconds": 1.0}]
        stderr = self.run_cli(events)
        self.assertIn("24 of 24 variants of 'vector_add' failed to compile:", stderr)
        self.assertIn(f"--- the same error in 22 of 24 variants: {same}\n  in:\n    variant 0 (T=", stderr)
        self.assertEqual(stderr.count("the same for all"), 1, stderr)
        self.assertIn("\n    and 18 more: variants 4-21", stderr)
        self.assertIn("job 22 (sm_90: ...): other error A", stderr)
        self.assertIn("--- variant 23 (T=", stderr)

    def test_failed_all_is_shown_once(self):
        events = [{"event": "plan", "total": 24, "cached": 0},
                  {"event": "failed_all", "count": 24, "message": "importing /k.py failed:\nRuntimeError: boom"},
                  {"event": "finished", "ok": 0, "failed": 24, "seconds": 0.5}]
        stderr = self.run_cli(events)
        self.assertIn("24 variants of 'vector_add' planned, none compiled:\nimporting /k.py failed:\n"
                      "RuntimeError: boom", stderr)
        self.assertIn("compiling: 0/24 variants (0 cached, 24 failed)", stderr)
        self.assertEqual(stderr.count("boom"), 1, stderr)


class MalformedJobFileTest(_TempDirCase):
    """Exit 2 with a message naming the problem; no Triton needed."""

    def check(self, doc, fragment: str) -> None:
        rc, events, stderr, _ = self.run_step(doc)
        self.assertEqual(rc, 2, stderr)
        self.assertEqual(events, [])
        self.assertIn(fragment, stderr)

    def test_malformed(self):
        good = job_file(VECTOR_ADD, "add_kernel", self.cache_dir, [vector_add_job(0, 90)])
        self.check(self.write("bad.json", "{not json"), "not valid JSON")
        self.check(os.path.join(self.tmp, "missing.json"), "cannot read")
        self.check({**good, "schema": "other"}, "schema: expected 'tritonpack-compile-jobs'")
        self.check({**good, "version": 2}, "reads version 1, the file has version 2")
        self.check({k: v for k, v in good.items() if k != "jobs"}, "missing field jobs")
        self.check({**good, "source_file": "vector_add.py"}, "is not an absolute path")
        self.check({**good, "source_file": "/nonexistent/k.py"}, "does not exist")

        def with_job(**changes):
            return {**good, "jobs": [{**vector_add_job(0, 90), **changes}]}

        self.check(with_job(arch="sm_90"), "jobs[0] (id 0).arch: expected an integer")
        sig = vector_add_job(0, 90)["signature"]
        self.check(with_job(signature=sig[:3] + [["n_elements", "f32"]] + sig[4:]),
                   "unknown type 'f32' for 'n_elements'")
        self.check(with_job(constexprs={}), "no value for constexpr parameter BLOCK_SIZE")
        self.check(with_job(divisibility={"x_ptr": 12}), "divisibility.x_ptr: 12 is not a power of two")
        self.check(with_job(options={"num_warps": 3}), "num_warps: 3 is not a power of two")
        self.check(with_job(options={"arch": "sm90"}), "options.arch: not allowed")
        self.check(with_job(extra=1), "unknown field extra")
        self.check({**good, "jobs": [vector_add_job(4, 80), vector_add_job(4, 90)]},
                   "jobs[1].id: id 4 is also used by jobs[0]")
        rc, _, stderr, _ = self.run_step(good, "--parallel", "0")
        self.assertEqual(rc, 2)
        self.assertIn("--parallel must be at least 1", stderr)


class AbiCheckTest(unittest.TestCase):
    """The PTX parameter check, on text: no Triton needed."""

    PTX = textwrap.dedent("""\
        .version 8.7
        .target sm_90a
        .address_size 64
        .visible .entry k(
        \t.param .u64 .ptr .global .align 1 k_param_0,
        \t.param .u32 k_param_1,
        \t.param .f32 k_param_2,
        \t.param .align 2 .b8 k_param_3[2],
        \t.param .u64 .ptr .global .align 1 k_param_4,
        \t.param .u64 .ptr .global .align 1 k_param_5
        )
        .reqntid 128
        {
        """)
    ARGS = [abi.Arg("p", "ptr"), abi.Arg("n", "i32"), abi.Arg("scale", "fp32"), abi.Arg("h", "fp16")]

    def test_reads_entry_and_target(self):
        params = abi.entry_params(self.PTX, "k")
        self.assertEqual([str(p) for p in params], ["u64", "u32", "f32", "b8[2]", "u64", "u64"])
        self.assertEqual([p.size for p in params], [8, 4, 4, 2, 8, 8])
        self.assertEqual(abi.ptx_target(self.PTX), "sm_90a")
        abi.check(self.ARGS, params, "k")

    def test_fp32_declared_as_double_is_refused(self):
        ptx = self.PTX.replace(".param .f32 k_param_2", ".param .f64 k_param_2")
        with self.assertRaises(abi.AbiError) as ctx:
            abi.check(self.ARGS, abi.entry_params(ptx, "k"), "k")
        text = str(ctx.exception)
        self.assertIn("parameter 2 (scale: fp32) is declared .f64 (8 bytes), expected 4 bytes", text)
        self.assertIn("argument table: [p:ptr(8B), n:i32(4B), scale:fp32(4B), h:fp16(2B)", text)
        self.assertIn("PTX parameters: [u64, u32, f64, b8[2], u64, u64]", text)

    def test_missing_hidden_pointer_is_refused(self):
        ptx = self.PTX.replace(",\n\t.param .u64 .ptr .global .align 1 k_param_5", "")
        with self.assertRaisesRegex(abi.AbiError, r"declares 5 parameters, .* needs 4 \+ 2 hidden = 6"):
            abi.check(self.ARGS, abi.entry_params(ptx, "k"), "k")

    def test_no_entry(self):
        with self.assertRaisesRegex(abi.AbiError, "no .entry other"):
            abi.entry_params(self.PTX, "other")

    def test_arguments_named_like_the_hidden_pointers_are_arguments(self):
        u32, u64 = abi.PtxParam("u32", 1, "k_param_0"), abi.PtxParam("u64", 1, "k_param_1")
        # An i32 argument called global_scratch is checked as an i32, not as a scratch pointer.
        abi.check([abi.Arg("global_scratch", "i32")], [u32, u64, u64], "k")
        abi.check([abi.Arg("profile_scratch", "i32"), abi.Arg("global_scratch", "ptr")], [u32, u64, u64, u64], "k")
        with self.assertRaisesRegex(abi.AbiError, r"parameter 0 \(global_scratch: i32\) is declared \.u64 "
                                                  r"\(8 bytes\), expected 4 bytes"):
            abi.check([abi.Arg("global_scratch", "i32")], [u64, u64, u64], "k")
        # The appended scratch pointers themselves are still checked as hidden pointers.
        with self.assertRaisesRegex(abi.AbiError, r"hidden parameter 1 \(global_scratch: ptr\) is declared \.u32 "
                                                  r"\(4 bytes\), expected a 64-bit pointer"):
            abi.check([abi.Arg("global_scratch", "i32")], [u32, u32, u64], "k")
        self.assertEqual([s.hidden for s in abi.expand([abi.Arg("global_scratch", "ptr")])], [False, True, True])

    def test_unreadable_param_declarations_are_refused(self):
        for decl in (".param .align 2 .align 4 .b8 k_param_3[2]",  # two .align tokens
                     ".param .align two .b8 k_param_3[2]",  # a non-numeric alignment
                     ".param .b8 .u16 k_param_3",  # two types
                     ".param k_param_3"):  # no type
            with self.subTest(decl=decl):
                ptx = self.PTX.replace(".param .align 2 .b8 k_param_3[2]", decl)
                with self.assertRaisesRegex(abi.AbiError, "cannot read the PTX parameter declaration "
                                            + re.escape(repr(decl)) + " of .entry k"):
                    abi.entry_params(ptx, "k")

    # A 2-D descriptor and a pointer, as Triton 3.6 declares them for sm_90 (TMA) and sm_80 (not).
    TMA_PTX = textwrap.dedent("""\
        .visible .entry d(
        \t.param .align 64 .b8 d_param_0[128],
        \t.param .u32 d_param_1,
        \t.param .u32 d_param_2,
        \t.param .u64 d_param_3,
        \t.param .u64 d_param_4,
        \t.param .u64 .ptr .global .align 1 d_param_5,
        \t.param .u64 .ptr .global .align 1 d_param_6,
        \t.param .u64 .ptr .global .align 1 d_param_7
        )
        """)
    NON_TMA_PTX = textwrap.dedent("""\
        .visible .entry d(
        \t.param .u64 .ptr .global .align 1 d_param_0,
        \t.param .u64 d_param_1, .param .u64 d_param_2, .param .u64 d_param_3, .param .u64 d_param_4,
        \t.param .u8 d_param_5,
        \t.param .u32 d_param_6, .param .u32 d_param_7,
        \t.param .u64 d_param_8, .param .u64 d_param_9,
        \t.param .u64 .ptr .global .align 1 d_param_10,
        \t.param .u64 .ptr .global .align 1 d_param_11,
        \t.param .u64 .ptr .global .align 1 d_param_12
        )
        """)

    def test_descriptor_expansions(self):
        tma = [abi.Arg("a", "tensordesc", ndim=2, tma=True), abi.Arg("out", "ptr")]
        params = abi.entry_params(self.TMA_PTX, "d")
        self.assertEqual((params[0].align, str(params[0])), (64, "b8[128]"))
        abi.check(tma, params, "d")
        self.assertEqual([str(s) for s in abi.expand(tma)][:5],
                         ["a.tensormap:tensormap(128B)", "a.shape[0]:i32(4B)", "a.shape[1]:i32(4B)",
                          "a.strides[0]:i64(8B)", "a.strides[1]:i64(8B)"])
        plain = [abi.Arg("a", "tensordesc", ndim=2, tma=False), abi.Arg("out", "ptr")]
        abi.check(plain, abi.entry_params(self.NON_TMA_PTX, "d"), "d")
        self.assertEqual([s.type for s in abi.expand(plain)],
                         ["ptr", "i64", "i64", "i64", "i64", "i1", "i32", "i32", "i64", "i64", "ptr", "ptr", "ptr"])

    def test_descriptor_mismatches_are_refused(self):
        tma = [abi.Arg("a", "tensordesc", ndim=2, tma=True), abi.Arg("out", "ptr")]
        misaligned = self.TMA_PTX.replace(".align 64 .b8", ".align 16 .b8")
        with self.assertRaisesRegex(abi.AbiError, r"parameter 0 \(a.tensormap: tensormap\) is declared "
                                                  r"\.b8\[128\] \.align 16 \(128 bytes\), expected \.align 64"):
            abi.check(tma, abi.entry_params(misaligned, "d"), "d")
        # Read as TMA, the non-TMA list is 5 parameters longer.
        with self.assertRaisesRegex(abi.AbiError, r"declares 13 parameters, .* needs 6 \(tensor descriptors "
                                                  r"expanded: 1\) \+ 2 hidden = 8"):
            abi.check(tma, abi.entry_params(self.NON_TMA_PTX, "d"), "d")
        no_flag = self.NON_TMA_PTX.replace(".param .u8 d_param_5", ".param .u32 d_param_5")
        with self.assertRaisesRegex(abi.AbiError, r"parameter 5 \(a.padding_nan: i1\) is declared \.u32"):
            abi.check([abi.Arg("a", "tensordesc", ndim=2), abi.Arg("out", "ptr")],
                      abi.entry_params(no_flag, "d"), "d")


class ResourcesTest(unittest.TestCase):
    """ptxas's -v report and the cubin reader, on text and bytes: no Triton needed."""

    LOG = textwrap.dedent("""\
        ptxas info    : 0 bytes gmem
        ptxas info    : Function properties for helper
            8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
        ptxas info    : Compiling entry function 'other' for 'sm_90a'
        ptxas info    : Function properties for other
            0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 12 registers, used 0 barriers
        ptxas info    : Compiling entry function 'k' for 'sm_90a'
        ptxas info    : Function properties for helper
            8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
        ptxas info    : Function properties for k
            24 bytes stack frame, 16 bytes spill stores, 12 bytes spill loads
        ptxas info    : Used 255 registers, used 1 barriers, 384 bytes cmem[0]
        ptxas info    : Compile time = 4.805 ms
        """)

    def test_parse_ptxas_log_reads_the_entry_only(self):
        self.assertEqual(resources.parse_ptxas_log(self.LOG, "k"),
                         {"registers": 255, "spill_stores": 16, "spill_loads": 12, "stack_frame": 24})
        self.assertEqual(resources.parse_ptxas_log(self.LOG, "other")["registers"], 12)
        self.assertEqual(resources.parse_ptxas_log(self.LOG, "missing"),
                         dict.fromkeys(("registers", "spill_stores", "spill_loads", "stack_frame")))
        self.assertEqual(resources.parse_ptxas_log("", "k")["registers"], None)

    def test_report_lines_are_told_from_warnings(self):
        self.assertTrue(resources.is_ptxas_report_line("ptxas info    : Used 20 registers, used 0 barriers"))
        self.assertTrue(resources.is_ptxas_report_line("    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads"))
        self.assertFalse(resources.is_ptxas_report_line("ptxas warning : Registers are spilled to local memory"))

    def test_cubin_reader_refuses_what_it_cannot_read(self):
        with self.assertRaisesRegex(resources.CubinError, "not an ELF file"):
            resources.cubin_register_count(b"not a cubin", "k")
        with self.assertRaisesRegex(resources.CubinError, "not a 64-bit little-endian"):
            resources.cubin_register_count(b"\x7fELF\x01\x01" + bytes(64), "k")
        header = bytearray(b"\x7fELF\x02\x01" + bytes(58))
        struct.pack_into("<Q", header, 0x28, 4096)  # a section table past the end
        struct.pack_into("<HHH", header, 0x3A, 64, 3, 0)
        with self.assertRaisesRegex(resources.CubinError, "out of bounds"):
            resources.cubin_register_count(bytes(header), "k")


class WorkerHelpersTest(unittest.TestCase):
    """The worker's checks of what Triton returns, on fakes: no Triton needed."""

    META = {"swizzle": 3, "elem_size": 2, "elem_type": 6, "block_size": (64, 32), "fp4_padded": 0}

    @staticmethod
    def job(*signature: tuple[str, str]) -> Job:
        params = tuple(Param(n, t) for n, t in signature)
        return Job(id=7, signature=params, constexprs={}, divisibility={}, arch=90, options={}, raw={})

    def test_descriptor_args(self):
        job = self.job(("a", "tensordesc<fp16[64, 32]>"), ("x", "*fp16"), ("b", "tensordesc<fp16[64, 32]>"))
        args, metas = worker._descriptor_args(job, [None, self.META])
        self.assertEqual([(a.name, a.type, a.ndim, a.tma) for a in args],
                         [("a", "tensordesc", 2, False), ("x", "ptr", 0, False), ("b", "tensordesc", 2, True)])
        self.assertEqual(metas, [None, {**self.META, "block_size": [64, 32], "fp4_padded": False}])
        args, metas = worker._descriptor_args(job, [])  # none lowered to TMA (sm_80)
        self.assertEqual([a.tma for a in args], [False, False, False])
        self.assertEqual(metas, [None, None])

    def test_tensordesc_meta_problems(self):
        job = self.job(("a", "tensordesc<fp16[64, 32]>"), ("b", "tensordesc<fp16[64, 32]>"))
        with self.assertRaisesRegex(worker.JobFailure, r"^Triton's tensordesc_meta has 1 entries for 2 tensor "
                                                       r"descriptor arguments; cannot tell how to pass them$"):
            worker._descriptor_args(job, [self.META])
        partial = {"swizzle": 3, "elem_type": 6}
        with self.assertRaisesRegex(worker.JobFailure, r"^Triton's tensordesc_meta for b lacks elem_size, "
                                                       r"block_size, fp4_padded; the runtime cannot encode"):
            worker._descriptor_args(job, [self.META, partial])
        with self.assertRaisesRegex(worker.JobFailure, r"tensordesc_meta for a lacks swizzle"):
            worker._tensordesc_meta_json({}, "a")
        self.assertIsNone(worker._tensordesc_meta_json(None, "a"))

    def test_resource_usage_when_the_cubin_cannot_be_read_or_disagrees(self):
        compiled = types.SimpleNamespace(metadata=types.SimpleNamespace(name="k"), asm={"cubin": b"not a cubin"})
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            usage = worker._resource_usage(compiled, ResourcesTest.LOG)
        self.assertEqual((usage["registers"], usage["cubin_registers"]), (255, None))
        self.assertIn("tritonpack: cannot read the register count of k from its cubin: ", stderr.getvalue())
        self.assertIn("not an ELF file", stderr.getvalue())
        self.assertNotIn("ptxas reports", stderr.getvalue(), "no disagreement without the cubin's number")

        stderr = io.StringIO()
        with mock.patch.object(worker.resources, "cubin_register_count", return_value=168), \
                contextlib.redirect_stderr(stderr):
            usage = worker._resource_usage(compiled, ResourcesTest.LOG)
        self.assertEqual((usage["registers"], usage["cubin_registers"]), (255, 168))
        self.assertEqual(stderr.getvalue(), "tritonpack: ptxas reports 255 registers for k, its cubin says 168; "
                                            "the cubin's number is what the driver uses\n")

        stderr = io.StringIO()
        with mock.patch.object(worker.resources, "cubin_register_count", return_value=255), \
                contextlib.redirect_stderr(stderr):
            self.assertEqual(worker._resource_usage(compiled, ResourcesTest.LOG)["cubin_registers"], 255)
        self.assertEqual(stderr.getvalue(), "")

    def test_signature_key_tells_pointers_from_descriptors(self):
        pointer = self.job(("a", "*fp16"), ("n", "i32"))
        bare = self.job(("a", "tensordesc<fp16[64]>"), ("n", "i32"))
        other_block = self.job(("a", "tensordesc<bf16[128]>"), ("n", "i32"))
        laid_out = self.job(("a", f"tensordesc<fp16[64, 64],{NVMMA_FP16_64x64}>"), ("n", "i32"))
        keys = [j.signature_key() for j in (pointer, bare, laid_out)]
        self.assertEqual(len(set(keys)), 3, keys)
        self.assertEqual(bare.signature_key(), other_block.signature_key(), "dtype and block do not matter")
        self.assertEqual(pointer.signature_key(), self.job(("a", "*bf16"), ("n", "i64")).signature_key())

    def test_descriptor_is_parsed_once_and_pickles(self):
        p = Param("a", "tensordesc<fp16[64, 32]>")
        with mock.patch("tritonpack_compile.jobs.parse_descriptor", wraps=parse_descriptor) as parse:
            first = p.descriptor
            self.assertIs(p.descriptor, first)
            self.assertEqual(parse.call_count, 1)
        self.assertEqual((first.dtype, first.block, first.layout), ("fp16", (64, 32), None))
        copy = pickle.loads(pickle.dumps(p))  # as the process pool sends jobs to its workers
        self.assertEqual(copy, Param("a", "tensordesc<fp16[64, 32]>"))
        self.assertEqual(hash(copy), hash(Param("a", "tensordesc<fp16[64, 32]>")))
        self.assertEqual(copy.descriptor, first)
        self.assertIsNone(Param("x", "*fp16").descriptor)
        with self.assertRaises(AttributeError):  # still frozen
            p.type = "*fp16"


class JobValuesTest(unittest.TestCase):
    """Constexpr values and descriptor types in the job file: no Triton needed."""

    def parse_one(self, signature: list, constexprs: dict | None = None, **extra):
        job = {"id": 3, "arch": 90, "signature": signature, **extra}
        if constexprs is not None:
            job["constexprs"] = constexprs
        return parse_job_file(job_file(VECTOR_ADD, "f", "/tmp/c", [job]), "x.json").jobs[0]

    def test_constexpr_values_of_every_kind(self):
        names = ("ACT", "F", "B", "NONE", "DT", "N")
        job = self.parse_one([["x", "*fp16"], *[[n, "constexpr"] for n in names]],
                             {"ACT": "leaky_relu", "F": 1.5, "B": True, "NONE": None, "DT": {"dtype": "fp16"},
                              "N": 2 ** 40})
        self.assertEqual(job.constexprs["DT"], DtypeValue("fp16"))
        self.assertEqual(job.describe(), "job 3 (sm_90: x:*fp16, ACT='leaky_relu', F=1.5, B=True, NONE=None, "
                                         "DT=tl.float16, N=1099511627776)")
        self.assertEqual([DtypeValue(n).triton_name for n in ("fp16", "bf16", "i8", "u32", "i1", "fp8e5")],
                         ["fp16", "bf16", "int8", "uint32", "int1", "fp8e5"])
        self.assertEqual(repr(DtypeValue("bf16")), "tl.bfloat16")

    def test_bad_constexpr_values_name_the_field(self):
        sig = [["x", "*fp16"], ["DT", "constexpr"]]
        cases = [({"dtype": "float16"}, r"constexprs\.DT\.dtype: unknown dtype 'float16'; expected one of fp16, bf16"),
                 ({"dtype": 16}, r"constexprs\.DT\.dtype: expected a dtype name"),
                 ({"dtype": "fp16", "x": 1}, r"constexprs\.DT: an object value must be \{\"dtype\": NAME\}"),
                 ([16], r"constexprs\.DT: expected an integer, number, boolean, string, null or \{\"dtype\""),
                 (float("inf"), r"constexprs\.DT: must be finite")]
        for value, pattern in cases:
            with self.subTest(value=value), self.assertRaisesRegex(JobFileError, r"jobs\[0\] \(id 3\)\." + pattern):
                self.parse_one(sig, {"DT": value})

    def test_descriptor_types(self):
        layout = "NVMMASharedLayout(swizzle_byte_width=128, element_bitwidth=16, rank=2, transposed=False, " \
                 "fp4_padded=False, cga_layout=[[0, 1]])"
        job = self.parse_one([["a", "tensordesc<fp16[64, 128]>"], ["b", f"tensordesc<bf16[64,64],{layout}>"],
                              ["c", "tensordesc<fp8e4nv[1,2,4,8,16]>"]])
        a, b, c = (p.descriptor for p in job.signature)
        self.assertEqual((a.dtype, a.block, a.layout, a.ndim), ("fp16", (64, 128), None, 2))
        self.assertEqual((b.block, b.layout), ((64, 64), layout))
        self.assertEqual(c.ndim, 5)
        self.assertEqual([p.abi_type for p in job.signature], ["tensordesc"] * 3)
        self.assertEqual(job.signature[1].type, f"tensordesc<bf16[64,64],{layout}>", "passed to Triton verbatim")

    def test_bad_descriptor_types_name_the_field(self):
        cases = [("tensordesc<f16[64]>", "unknown element type 'f16'"),
                 ("tensordesc<fp16[0, 64]>", r"block shape \[0, 64\] must be positive integers"),
                 ("tensordesc<fp16[]>", r"block shape \[\] must be positive integers"),
                 ("tensordesc<fp16[1,1,1,1,1,1]>", "block shape has 6 dims; a descriptor has 1 to 5"),
                 ("tensordesc<fp16[64,64]", r"expected tensordesc<DTYPE\[B0, B1, \.\.\.\]>"),
                 ("tensordesc<fp16[64,64],>", "expected tensordesc"),
                 ("tensordesc<fp16[64,64]> ", "expected tensordesc")]
        for type_, pattern in cases:
            with self.subTest(type_=type_), self.assertRaisesRegex(
                    JobFileError, r"jobs\[0\] \(id 3\)\.signature\[0\]\[1\]: .* for 'a': " + pattern):
                self.parse_one([["a", type_]])
        with self.assertRaisesRegex(JobFileError, r"divisibility\.a: divisibility applies to pointers and integers"):
            self.parse_one([["a", "tensordesc<fp16[64]>"]], divisibility={"a": 16})


class PureHelpersTest(unittest.TestCase):
    def test_versions(self):
        self.assertEqual(toolchain.parse_version("3.3.0+git96316ce5"), (3, 3, 0))
        toolchain.check_version("3.6.0")
        toolchain.check_version("3.3.0+git96316ce5")
        with self.assertRaisesRegex(toolchain.ToolchainError, r"Triton 3.2.0 is too old .* needs Triton >= 3.3"):
            toolchain.check_version("3.2.0")

    def test_key_ignores_id_only(self):
        base = dict(triton_version="3.6.0", source_sha256="ab" * 32, function="add_kernel", environment={})
        job = vector_add_job(0, 90)
        key = cache.job_key(job=job, **base)
        self.assertEqual(key, cache.job_key(job={**job, "id": 5}, **base))
        self.assertNotEqual(key, cache.job_key(job={**job, "arch": 80}, **base))
        self.assertNotEqual(key, cache.job_key(job=job, **{**base, "triton_version": "3.5.0"}))
        self.assertNotEqual(key, cache.job_key(job=job, **{**base, "source_sha256": "cd" * 32}))
        self.assertNotEqual(key, cache.job_key(job=job, **{**base, "environment": {"TRITON_DEBUG": "1"}}))
        self.assertEqual(cache.compiler_environment({"TRITON_CACHE_DIR": "/x", "TRITON_DEBUG": "1", "HOME": "/"}),
                         {"TRITON_DEBUG": "1"})

    def test_publish_is_atomic_and_first_writer_wins(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        files = {"kernel.cubin": b"1", "kernel.ptx": b"p", "meta.json": b"{}"}
        first = cache.publish(tmp, "k", files, replace=False)
        self.assertTrue(cache.is_complete(first))
        second = cache.publish(tmp, "k", {**files, "kernel.cubin": b"2"}, replace=False)
        self.assertEqual(first, second)
        with open(os.path.join(first, "kernel.cubin"), "rb") as f:
            self.assertEqual(f.read(), b"1")
        cache.publish(tmp, "k", {**files, "kernel.cubin": b"3"}, replace=True)
        with open(os.path.join(first, "kernel.cubin"), "rb") as f:
            self.assertEqual(f.read(), b"3")
        os.remove(os.path.join(first, "kernel.ptx"))  # a damaged entry is a miss and gets replaced
        self.assertFalse(cache.is_complete(first))
        cache.publish(tmp, "k", files, replace=False)
        self.assertTrue(cache.is_complete(first))
        staged = {**files, "meta.json": b'{"ir": ["ttir", "ttgir"]}', "kernel.ttir": b"t", "kernel.ttgir": b"g"}
        cache.publish(tmp, "k", staged, replace=True)
        self.assertTrue(cache.is_complete(first))
        os.remove(os.path.join(first, "kernel.ttgir"))  # every stage meta.json lists must be there
        self.assertFalse(cache.is_complete(first))
        self.assertEqual(sorted(os.listdir(os.path.join(tmp, "v2"))), ["k"])

    def test_parse_job_file_names_the_field(self):
        with self.assertRaisesRegex(JobFileError, r"jobs\[0\] \(id 3\)\.divisibility\.scale: divisibility applies"):
            parse_job_file(job_file(VECTOR_ADD, "f", "/tmp/c", [{
                "id": 3, "arch": 90, "signature": [["scale", "fp32"]], "divisibility": {"scale": 16}}]), "x.json")


if __name__ == "__main__":
    program = unittest.main(exit=False, verbosity=2)
    if not program.result.wasSuccessful():
        sys.exit(1)
    if not HAVE_TRITON:
        print("SKIPPED: Triton is not installed; only the tests that need no Triton ran", file=sys.stderr)
        sys.exit(SKIP_EXIT_CODE)
    sys.exit(0)
