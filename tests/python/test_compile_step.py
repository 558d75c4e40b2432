"""Tests of the Triton compile step (python/tritonpack_compile), no GPU needed.

Run: PYTHONPATH=python python3 tests/python/test_compile_step.py  (or through CTest).
The compile step runs as a subprocess, exactly as the C++ CLI runs it. Tests that
need Triton are skipped without it; the script then exits 77, which CTest reports
as skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON_DIR = os.path.join(REPO, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from tritonpack_compile import abi, cache, toolchain  # noqa: E402
from tritonpack_compile.jobs import JobFileError, parse_job_file  # noqa: E402

HAVE_TRITON = importlib.util.find_spec("triton") is not None
SKIP_EXIT_CODE = 77

VECTOR_ADD = os.path.join(REPO, "kernels", "vector_add", "vector_add.py")
SOFTMAX = os.path.join(REPO, "kernels", "softmax", "softmax.py")


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


@unittest.skipUnless(HAVE_TRITON, "Triton is not installed")
class CompileStepTest(_TempDirCase):
    def test_vector_add_sm80_sm90_then_cached_then_no_cache(self):
        jobs = [vector_add_job(0, 80), vector_add_job(1, 90),
                vector_add_job(2, 90, dtype="fp32", n_div=1, block=4096, num_warps=8)]
        doc = job_file(VECTOR_ADD, "add_kernel", self.cache_dir, jobs)
        rc, events, stderr, _ = self.run_step(doc, "--parallel", "2")
        self.assertEqual(rc, 0, stderr)
        results = self.assert_protocol(events, 3)
        self.assertEqual(events[0]["cached"], 0)
        for job in jobs:
            event = results[job["id"]]
            self.assertEqual(event["event"], "done", event)
            self.assertFalse(event["cached"])
            self.assertTrue(event["dir"].startswith(os.path.join(self.cache_dir, "v1") + os.sep))
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
        self.assertEqual(len({e["dir"] for e in results.values()}), 3)
        leftovers = [n for n in os.listdir(os.path.join(self.cache_dir, "v1")) if n.startswith(".")]
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
        message = self.assert_protocol(events, 1)[0]["message"]
        self.assertIn("add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE)", message)
        self.assertIn("position 3: the function has n_elements, the job has n", message)

        job = vector_add_job(0, 90)
        job["signature"][3] = ["n_elements", "constexpr"]
        job["divisibility"] = {}
        job["constexprs"]["n_elements"] = 5
        rc, events, stderr, _ = self.run_step(job_file(VECTOR_ADD, "add_kernel", self.cache_dir, [job]))
        self.assertEqual(rc, 1, stderr)
        self.assertIn("n_elements is not a constexpr in the function", events[1]["message"])

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
    ARGS = [("p", "ptr"), ("n", "i32"), ("scale", "fp32"), ("h", "fp16")]

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
        self.assertIn("parameter 2 (scale: fp32, 4 bytes) is declared .f64 (8 bytes)", text)
        self.assertIn("argument table: [p:ptr(8B), n:i32(4B), scale:fp32(4B), h:fp16(2B)", text)
        self.assertIn("PTX parameters: [u64, u32, f64, b8[2], u64, u64]", text)

    def test_missing_hidden_pointer_is_refused(self):
        ptx = self.PTX.replace(",\n\t.param .u64 .ptr .global .align 1 k_param_5", "")
        with self.assertRaisesRegex(abi.AbiError, r"declares 5 parameters, .* needs 4 \+ 2 hidden = 6"):
            abi.check(self.ARGS, abi.entry_params(ptx, "k"), "k")

    def test_no_entry(self):
        with self.assertRaisesRegex(abi.AbiError, "no .entry other"):
            abi.entry_params(self.PTX, "other")


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
        self.assertEqual(sorted(os.listdir(os.path.join(tmp, "v1"))), ["k"])

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
