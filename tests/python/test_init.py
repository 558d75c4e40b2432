"""Tests of `tritonpack init` (python/tritonpack_init): a starting spec from a Triton function.

Run: python3 tests/python/test_init.py  (or through CTest). Needs no GPU. Without Triton only the
TOML writer and heuristic translation tests run; without the C++ CLI (env TRITONPACK_CLI) the
shipped kernels' specs are not compiled. Either way the script then exits 77 (CTest: "skipped").
Conversions run as a subprocess (`python3 -m tritonpack_init`), as the C++ CLI runs them.
"""

from __future__ import annotations

import math  # noqa: F401 (named by the heuristics below, which are parsed, never run)
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

SKIP_EXIT_CODE = 77
try:
    import tomllib  # Python >= 3.11
except ImportError:
    print("SKIPPED: tomllib needs Python 3.11", file=sys.stderr)
    sys.exit(SKIP_EXIT_CODE)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON_DIR = os.path.join(REPO, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from tritonpack_init.heuristics import Untranslatable, translate  # noqa: E402
from tritonpack_init.toml_writer import Table, render  # noqa: E402

try:
    import triton  # noqa: F401
    HAVE_TRITON = True
except ImportError:
    HAVE_TRITON = False
CLI = os.environ.get("TRITONPACK_CLI", "")
HAVE_CLI = bool(CLI) and os.access(CLI, os.X_OK)

SHIPPED = {  # kernel file, function -> the hand-written spec
    "vector_add": ("kernels/vector_add/vector_add.py", "add_kernel", "kernels/vector_add/vector_add.toml"),
    "softmax": ("kernels/softmax/softmax.py", "softmax_kernel", "kernels/softmax/softmax.toml"),
    "fmha": ("kernels/fmha/fmha.py", "fused_attention_kernel", "kernels/fmha/fmha.toml"),
    "matmul": ("kernels/matmul/matmul.py", "matmul_kernel", "kernels/matmul/matmul.toml"),
}

# Triton's tutorial 03 matmul, with 3 autotune configs and a string ACTIVATION.
MATMUL = '''
import triton
import triton.language as tl


@triton.autotune(
    configs=[
        triton.Config({'BLOCK_SIZE_M': 128, 'BLOCK_SIZE_N': 256, 'BLOCK_SIZE_K': 64, 'GROUP_SIZE_M': 8},
                      num_stages=3, num_warps=8),
        triton.Config({'BLOCK_SIZE_M': 64, 'BLOCK_SIZE_N': 256, 'BLOCK_SIZE_K': 32, 'GROUP_SIZE_M': 8},
                      num_stages=4, num_warps=4, maxnreg=128),
        triton.Config({'BLOCK_SIZE_M': 128, 'BLOCK_SIZE_N': 128, 'BLOCK_SIZE_K': 32, 'GROUP_SIZE_M': 8},
                      num_stages=4, num_warps=4),
    ],
    key=['M', 'N', 'K'],
)
@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn,
                  stride_cm, stride_cn, BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr,
                  BLOCK_SIZE_K: tl.constexpr, GROUP_SIZE_M: tl.constexpr, ACTIVATION: tl.constexpr):
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m
    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)
    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    if ACTIVATION == "leaky_relu":
        accumulator = leaky_relu(accumulator)
    c = accumulator.to(tl.float16)
    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


@triton.jit
def leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)
'''

# The kernel of /work/shared/checks/C2-init-from-source (short block names: no BLOCK to guess a grid from).
MM_CHECK = '''
import triton
import triton.language as tl

@triton.autotune(
    configs=[
        triton.Config({'BM': 128, 'BN': 256, 'BK': 64}, num_stages=3, num_warps=8),
        triton.Config({'BM': 64, 'BN': 128, 'BK': 32}, num_stages=4, num_warps=4),
        triton.Config({'BM': 128, 'BN': 64, 'BK': 32}, num_stages=4, num_warps=4),
    ],
    key=['M', 'N', 'K'],
)
@triton.jit
def mm_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_bk, stride_cm,
              BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, ACTIVATION: tl.constexpr):
    pid = tl.program_id(0)
    tl.store(c_ptr + pid, tl.load(a_ptr + pid) + tl.load(b_ptr + pid))
'''

SOFTMAX_HEURISTIC = '''
import triton
import triton.language as tl


@triton.heuristics({'BLOCK_SIZE': lambda args: triton.next_power_of_2(args['n_cols'])})
@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                   BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    x = tl.load(input_ptr + row * input_row_stride + cols, mask=cols < n_cols, other=-float("inf"))
    y = tl.exp(x - tl.max(x, axis=0))
    tl.store(output_ptr + row * output_row_stride + cols, y / tl.sum(y, axis=0), mask=cols < n_cols)
'''

# Signature features: annotations, do_not_specialize, defaults of every constexpr form, a tensor
# descriptor, heuristics that do not translate, an autotune config that leaves a constexpr unset.
FEATURES = '''
import triton
import triton.language as tl


@triton.autotune(configs=[triton.Config({'BLOCK_M': 64, 'SPLIT': 2}, num_warps=4),
                          triton.Config({'BLOCK_M': 128}, num_warps=8, num_ctas=2)],
                 key=['n'], reset_to_zero=['out'])
@triton.heuristics({'EVEN': lambda args: args['n'] % args['BLOCK_M'] == 0,
                    'ODD': lambda args: args['n'] if args['n'] > 2 else 4})
@triton.jit(do_not_specialize=['n'], do_not_specialize_on_alignment=['x'])
def features_kernel(x: "*bf16", out: tl.tensor, a_desc, n: "i64", eps, flag: bool, weights_ptr, count,
                    BLOCK_M: tl.constexpr, SPLIT: tl.constexpr, EVEN: tl.constexpr, ODD: tl.constexpr,
                    IS_CAUSAL: tl.constexpr, DT: tl.constexpr = tl.float16,
                    NAME: tl.constexpr = 'say "hi"\\\\n\\n', NOTHING: tl.constexpr = None,
                    RATIO: tl.constexpr = 0.5):
    tile = a_desc.load([0, 0])
    tl.store(out, tl.load(weights_ptr))
'''

GLUON = '''
from triton.experimental import gluon
from triton.experimental.gluon import language as gl


@gluon.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: gl.constexpr):
    pass
'''


def run_init(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(env if env is not None else os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "tritonpack_init", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def unwrapped(text: str) -> str:
    """Comments as one line each: the writer wraps them at 100 columns."""
    return text.replace("\n#   ", " ")


def decide_comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("# DECIDE:")]


# ---------------------------------------------------------------------------------------------------
# No Triton needed


class TomlWriterTest(unittest.TestCase):
    def test_values_round_trip(self):
        values = {"plain": "x", "quotes": 'a "b" \\c', "controls": "tab\tnl\ncr\r\x00\x1f\x7f", "utf8": "µ→✓",
                  "int": -9223372036854775808, "float": 0.1, "whole": 2.0, "big": 1e300, "bool": True,
                  "list": [1, "two", False], "inline": {"dtype": "fp16", "odd key": 1}, "empty": {}}
        t = Table("t")
        for k, v in values.items():
            t.add(k, v)
        self.assertEqual(tomllib.loads(render([t]))["t"], values)

    def test_special_floats_and_keys(self):
        t = Table("configs", array=True)
        t.add("a.b", float("inf"))
        t.add("n", float("-inf"))
        t.add("nan", float("nan"))
        doc = tomllib.loads(render([t]))["configs"][0]
        self.assertEqual(doc["a.b"], float("inf"))
        self.assertEqual(doc["n"], float("-inf"))
        self.assertTrue(math.isnan(doc["nan"]))

    def test_comments_stay_comments(self):
        top = Table(None)
        top.comment_above("line one\nline two\r\x00 " + "long " * 40)
        top.add("k", 1)
        t = Table("t")
        t.decide("what to decide\nacross lines")
        t.add("v", "x")
        text = render([top, t])
        self.assertEqual(tomllib.loads(text), {"k": 1, "t": {"v": "x"}})
        self.assertTrue(all(len(line) <= 100 for line in text.splitlines()), text)
        self.assertIn("# DECIDE: what to decide?across lines", text)

    def test_refuses_what_toml_cannot_hold(self):
        t = Table("t")
        t.add("too_big", 2**63)
        with self.assertRaises(ValueError):
            render([t])
        t = Table("t")
        t.add("surrogate", "\ud800")
        with self.assertRaises(ValueError):
            render([t])


# Heuristics as users write them. They are parsed from this file, never called.
INTS = {"n", "n_cols", "n_rows", "K", "BLOCK_K", "D", "a", "b", "c", "BLOCK"}
H_POW2 = lambda args: triton.next_power_of_2(args['n_cols'])  # noqa: E731
H_DOUBLE_QUOTES = lambda args: args["n"] // 2 + 1  # noqa: E731
H_PARENS = lambda args: (args['a'] + args['b']) * 2 - (args['a'] - (args['b'] - args['c']))  # noqa: E731
H_EVEN = lambda args: args['K'] % args['BLOCK_K'] == 0  # noqa: E731
H_IN = lambda args: args['D'] in (64, 128)  # noqa: E731
H_LOG = lambda meta: int(math.log2(meta['n'])) + abs(-meta['a'] * 2)  # noqa: E731
H_MINMAX = lambda args: max(16, min(args['n'], 256)) + triton.cdiv(args['n'], args['BLOCK'])  # noqa: E731
H_COMPARE_IN_SUM = lambda args: (args['a'] < args['b']) + 1  # noqa: E731
H_TWO = {"A": lambda args: args['a'], "B": lambda args: args['b'] + 1}  # two lambdas on one line
H_TERNARY = lambda args: 1 if args['n'] > 2 else 4  # noqa: E731
H_CHAIN = lambda args: 0 < args['n'] < 9  # noqa: E731
H_TRUEDIV = lambda args: args['n'] / 2  # noqa: E731
H_POINTER = lambda args: args['x_ptr'].dtype.itemsize  # noqa: E731
H_TENSOR_NAME = lambda args: args['x_ptr'] * 2  # noqa: E731
H_OTHER_DICT = lambda args: META['n']  # noqa: E731,F821
H_UNKNOWN_PARAM = lambda args: args['m'] * 2  # noqa: E731
H_FLOAT = lambda args: args['n'] * 0.5  # noqa: E731
H_OTHER_CALL = lambda args: len(args['n'])  # noqa: E731


def H_FUNCTION(args):
    """A named function: one return is enough."""
    return triton.next_power_of_2(args['n']) // 4


class HeuristicTranslationTest(unittest.TestCase):
    def check(self, fn, expected: str, target: str = "X", comparison: bool = False) -> None:
        t = translate(target, fn, INTS)
        self.assertEqual(t.expression, expected)
        self.assertEqual(t.is_comparison, comparison)

    def test_translated(self):
        self.check(H_POW2, "next_power_of_2(n_cols)")
        self.check(H_DOUBLE_QUOTES, "n / 2 + 1")
        self.check(H_PARENS, "(a + b) * 2 - (a - (b - c))")
        self.check(H_EVEN, "K % BLOCK_K == 0", comparison=True)
        self.check(H_IN, "D in {64, 128}", comparison=True)
        self.check(H_LOG, "log2(n) + abs(-a * 2)")
        self.check(H_MINMAX, "max(16, min(n, 256)) + cdiv(n, BLOCK)")
        self.check(H_COMPARE_IN_SUM, "(a < b) + 1")
        self.check(H_FUNCTION, "next_power_of_2(n) / 4")

    def test_picks_the_lambda_of_its_key(self):
        self.check(H_TWO["A"], "a", target="A")
        self.check(H_TWO["B"], "b + 1", target="B")

    def test_untranslatable_says_why(self):
        cases = [(H_TERNARY, "has no counterpart"), (H_CHAIN, "chained comparison"),
                 (H_TRUEDIV, "has no counterpart"), (H_POINTER, "has no counterpart"),
                 (H_TENSOR_NAME, "'x_ptr' is not an i32/i64 scalar"), (H_OTHER_DICT, "is not args['<parameter>']"),
                 (H_UNKNOWN_PARAM, "'m' is not an i32/i64 scalar or constexpr"),
                 (H_FLOAT, "has no counterpart"), (H_OTHER_CALL, "only abs, cdiv")]
        for fn, reason in cases:
            with self.subTest(reason=reason), self.assertRaises(Untranslatable) as ctx:
                translate("X", fn, INTS)
            self.assertIn(reason, str(ctx.exception))
            self.assertTrue(ctx.exception.source.startswith("lambda args:"), ctx.exception.source)


class WithoutTritonTest(unittest.TestCase):
    def test_missing_triton_exits_2(self):
        # -S leaves site-packages, and so Triton, off the path.
        tmp = tempfile.mkdtemp(prefix="tritonpack-init-")
        self.addCleanup(shutil.rmtree, tmp, True)
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
        r = subprocess.run([sys.executable, "-S", "-m", "tritonpack_init", "k.py:k", "-o", "spec.toml"],
                           capture_output=True, text=True, env=env, timeout=60, cwd=tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertTrue(r.stderr.startswith(f"init: Triton is not installed for {sys.executable} ("), r.stderr)
        self.assertIn("pip install triton", r.stderr)
        self.assertEqual(os.listdir(tmp), [])


# ---------------------------------------------------------------------------------------------------
# Triton needed (imported, never run on a GPU)


@unittest.skipUnless(HAVE_TRITON, "Triton is not installed")
class _InitCase(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tritonpack-init-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def init_ok(self, target: str, out_name: str = "spec.toml", *extra: str) -> tuple[str, dict]:
        """(the spec's text with comments unwrapped, the parsed spec)."""
        out = os.path.join(self.tmp, out_name)
        r = run_init(target, "-o", out, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        with open(out) as f:
            text = f.read()
        return unwrapped(text), tomllib.loads(text)

    def init_fails(self, target: str, code: int, *expected: str, extra: tuple = ()) -> str:
        r = run_init(target, "-o", os.path.join(self.tmp, "fail.toml"), *extra)
        self.assertEqual(r.returncode, code, f"stdout: {r.stdout}\nstderr: {r.stderr}")
        self.assertTrue(r.stderr.startswith("init: "), r.stderr)
        for text in expected:
            self.assertIn(text, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "fail.toml")))
        return r.stderr


class MatmulTest(_InitCase):
    """Acceptance (b): params in order, constexprs marked, one [[configs]] per triton.Config."""

    def test_tutorial_matmul(self):
        text, spec = self.init_ok(self.write("matmul.py", MATMUL) + ":matmul_kernel")
        params = {p["name"]: p for p in spec["params"]}
        self.assertEqual(list(params), ["a_ptr", "b_ptr", "c_ptr", "M", "N", "K", "stride_am", "stride_ak",
                                        "stride_bk", "stride_bn", "stride_cm", "stride_cn", "BLOCK_SIZE_M",
                                        "BLOCK_SIZE_N", "BLOCK_SIZE_K", "GROUP_SIZE_M", "ACTIVATION"])
        self.assertEqual(spec["kernel"], {"name": "matmul", "source": "matmul.py", "function": "matmul_kernel",
                                          "archs": ["sm_80", "sm_90"],
                                          "grid": ["cdiv(M, BLOCK_SIZE_M)", "1", "1"]})
        self.assertEqual(spec["types"], {"T": ["fp16"]})
        self.assertEqual([params[n]["io"] for n in ("a_ptr", "b_ptr", "c_ptr")], ["in", "in", "out"])
        self.assertTrue(all(params[n] == {"name": n, "kind": "scalar", "dtype": "i32"}
                            for n in ("M", "N", "K", "stride_am", "stride_cn")))
        for n in ("BLOCK_SIZE_M", "BLOCK_SIZE_N", "BLOCK_SIZE_K", "GROUP_SIZE_M"):
            self.assertEqual(params[n], {"name": n, "kind": "constexpr"})  # the configs set them
        self.assertEqual(params["ACTIVATION"], {"name": "ACTIVATION", "kind": "constexpr",
                                                "values": ["", "leaky_relu"]})
        self.assertEqual(spec["configs"], [
            {"name": "c0", "num_warps": 8, "num_stages": 3, "num_ctas": 1, "constexprs": {
                "BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 256, "BLOCK_SIZE_K": 64, "GROUP_SIZE_M": 8}},
            {"name": "c1", "num_warps": 4, "num_stages": 4, "num_ctas": 1, "constexprs": {
                "BLOCK_SIZE_M": 64, "BLOCK_SIZE_N": 256, "BLOCK_SIZE_K": 32, "GROUP_SIZE_M": 8}},
            {"name": "c2", "num_warps": 4, "num_stages": 4, "num_ctas": 1, "constexprs": {
                "BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 128, "BLOCK_SIZE_K": 32, "GROUP_SIZE_M": 8}}])
        self.assertIn("# @triton.autotune key = ['M', 'N', 'K'] (used by ahead-of-time tuning)\n[[configs]]", text)
        self.assertIn("# maxnreg = 128 in the autotune config", text)
        self.assertIn('body compares it with "leaky_relu"', text)

    def test_the_shared_check_kernel(self):
        # What /work/shared/checks/C2-init-from-source asks, on its own kernel.
        _, spec = self.init_ok(self.write("mm.py", MM_CHECK) + ":mm_kernel", "mm.toml")
        self.assertEqual([p["name"] for p in spec["params"]], ["a_ptr", "b_ptr", "c_ptr", "M", "N", "K", "stride_am",
                                                               "stride_bk", "stride_cm", "BM", "BN", "BK",
                                                               "ACTIVATION"])
        kinds = {p["name"]: p["kind"] for p in spec["params"]}
        self.assertTrue(all(kinds[n] == "constexpr" for n in ("BM", "BN", "BK", "ACTIVATION")))
        self.assertEqual([c["num_warps"] for c in spec["configs"]], [8, 4, 4])
        self.assertEqual(spec["kernel"]["grid"], ["1", "1", "1"])  # no BLOCK name to guess from
        self.assertEqual(spec["params"][-1]["value"], 64)          # ACTIVATION: unused, no default


class HeuristicSpecTest(_InitCase):
    """Acceptance (c)."""

    def test_softmax_next_power_of_2(self):
        text, spec = self.init_ok(self.write("softmax.py", SOFTMAX_HEURISTIC) + ":softmax_kernel")
        block = spec["params"][-1]
        self.assertEqual(block["heuristic"], "next_power_of_2(n_cols)")
        self.assertEqual(block["values"], [1024, 2048, 4096])
        self.assertIn("(n_cols from 513 to 4096)", text)
        self.assertIn("# from @triton.heuristics: lambda args: triton.next_power_of_2(args['n_cols'])", text)
        self.assertEqual(spec["kernel"]["grid"], ["cdiv(input_row_stride, BLOCK_SIZE)", "1", "1"])
        self.assertNotIn("configs", spec)


class SignatureFeaturesTest(_InitCase):
    def setUp(self) -> None:
        super().setUp()
        self.text, spec = self.init_ok(self.write("features.py", FEATURES) + ":features_kernel")
        self.spec = spec
        self.params = {p["name"]: p for p in spec["params"]}

    def test_annotations_and_specialization(self):
        p = self.params
        self.assertEqual(p["x"], {"name": "x", "kind": "tensor", "dtype": "bf16", "io": "in"})  # no alignment hint
        self.assertEqual(p["out"]["io"], "out")
        self.assertEqual(p["a_desc"]["kind"], "tensordesc")
        self.assertEqual(p["a_desc"]["block"], [64, 64])
        self.assertEqual(p["n"], {"name": "n", "kind": "scalar", "dtype": "i64"})
        self.assertEqual(p["eps"]["dtype"], "fp32")
        self.assertEqual(p["flag"]["dtype"], "i32")
        self.assertEqual((p["weights_ptr"]["kind"], p["weights_ptr"]["io"]), ("tensor", "in"))
        self.assertEqual(p["count"]["dtype"], "i32")
        self.assertEqual(self.spec["types"]["T"], ["fp16"])

    def test_constexpr_sources(self):
        p = self.params
        self.assertEqual(p["EVEN"]["heuristic"], "n % BLOCK_M == 0")
        self.assertEqual(p["EVEN"]["values"], [False, True])
        self.assertNotIn("heuristic", p["ODD"])
        self.assertIn("# DECIDE: could not translate: lambda args: args['n'] if args['n'] > 2 else 4", self.text)
        self.assertIn('# heuristic = "<expression over i32/i64 scalars and constexprs>"', self.text)
        self.assertEqual(p["IS_CAUSAL"]["value"], False)
        self.assertEqual(p["DT"]["value"], {"dtype": "fp16"})
        self.assertEqual(p["NAME"]["value"], 'say "hi"\\n\n')
        self.assertEqual(p["NOTHING"]["value"], {"none": True})
        self.assertEqual(p["RATIO"]["value"], 0.5)

    def test_configs(self):
        self.assertEqual(self.spec["configs"], [
            {"name": "c0", "num_warps": 4, "num_stages": 3, "num_ctas": 1, "constexprs": {"BLOCK_M": 64, "SPLIT": 2}},
            {"name": "c1", "num_warps": 8, "num_stages": 3, "num_ctas": 2,
             "constexprs": {"BLOCK_M": 128, "SPLIT": 64}}])
        self.assertIn("# DECIDE: SPLIT: this autotune config does not set it", self.text)
        self.assertIn("reset_to_zero=['out']", self.text)

    def test_every_guess_says_what_to_decide(self):
        decides = decide_comments(self.text)
        self.assertGreater(len(decides), 10)
        for line in decides:
            self.assertGreater(len(line), len("# DECIDE: ") + 20, line)


@unittest.skipUnless(HAVE_TRITON, "Triton is not installed")
class DtypeNamesTest(unittest.TestCase):
    """tritonpack_common.dtypes against triton.language, both ways."""

    def test_every_dtype_round_trips(self):
        import triton.language as tl

        from tritonpack_common.dtypes import DTYPES, from_triton_name, triton_name
        from tritonpack_init.guesses import constexpr_value

        for dtype, attribute in DTYPES.items():
            with self.subTest(dtype=dtype):
                self.assertEqual(tl.dtype(triton_name(dtype)), getattr(tl, attribute))
                self.assertEqual(from_triton_name(getattr(tl, attribute).name), dtype)
                self.assertEqual(constexpr_value(getattr(tl, attribute)), {"dtype": dtype})
                self.assertEqual(constexpr_value(tl.constexpr(getattr(tl, attribute))), {"dtype": dtype})
        self.assertIsNone(constexpr_value(tl.float8e4b15))  # a Triton dtype no spec names


class CommandLineTest(_InitCase):
    def test_gluon_function(self):
        text, spec = self.init_ok(self.write("copy.py", GLUON) + ":copy_kernel")
        self.assertIn("# a @gluon.jit function", text)
        self.assertEqual([p["kind"] for p in spec["params"]], ["tensor", "tensor", "scalar", "constexpr"])
        self.assertEqual(spec["params"][1]["io"], "out")  # by its name: the body is empty

    def test_import_failure(self):
        path = self.write("broken.py", "import triton\n\nraise RuntimeError('kernel file exploded')\n")
        err = self.init_fails(path + ":k", 2, "importing", "failed (RuntimeError: kernel file exploded)",
                              'broken.py", line 3, in <module>')
        self.assertNotIn("importlib", err)
        self.assertNotIn("tritonpack_common", err)

    def test_driver_needed_at_import(self):
        path = self.write("gpu.py", "import triton\nTARGET = triton.runtime.driver.active.get_current_target()\n")
        r = run_init(path + ":k", "-o", os.path.join(self.tmp, "x.toml"))
        if r.returncode != 0:  # on a machine with a GPU the import works and the function is missing
            self.assertIn("asks Triton for the GPU driver", r.stderr)

    def test_function_errors(self):
        path = self.write("k.py", SOFTMAX_HEURISTIC + "\n\ndef plain(x):\n    return x\n")
        self.init_fails(path + ":nothing", 2, "defines no 'nothing' (it defines: softmax_kernel)")
        self.init_fails(path + ":plain", 2, "not a Triton kernel: it is a function")
        self.init_fails(path, 2, "is not KERNEL.py:FUNCTION")
        self.init_fails(os.path.join(self.tmp, "missing.py") + ":k", 2, "does not exist")
        twice = SOFTMAX_HEURISTIC.replace(
            "@triton.jit", "@triton.autotune(configs=[triton.Config({}, num_warps=4)], key=['n_cols'])\n"
                           "@triton.autotune(configs=[triton.Config({}, num_warps=8)], key=['n_rows'])\n@triton.jit")
        path = self.write("twice.py", twice)
        self.init_fails(path + ":softmax_kernel", 2, f"softmax_kernel in {path} has two @triton.autotune decorators; "
                                                     "init reads one")

    def test_output_exists(self):
        path = self.write("k.py", SOFTMAX_HEURISTIC) + ":softmax_kernel"
        out = self.write("spec.toml", "old\n")
        r = run_init(path, "-o", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists; pass --force", r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "old\n")
        self.init_ok(path, "spec.toml", "--force")
        r = run_init(path, "-o", os.path.join(self.tmp, "no", "dir.toml"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)

    def test_output_is_a_folder_or_cannot_be_written(self):
        path = self.write("k.py", SOFTMAX_HEURISTIC) + ":softmax_kernel"
        folder = os.path.join(self.tmp, "a_folder")
        os.mkdir(folder)
        for extra in ((), ("--force",)):
            r = run_init(path, "-o", folder, *extra)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(r.stderr, f"init: cannot write {folder}: it is a folder\n")
        # A name too long for the file system passes the checks and fails when written (root too).
        too_long = os.path.join(self.tmp, "s" * 300 + ".toml")
        r = run_init(path, "-o", too_long)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stderr.startswith(f"init: cannot write {too_long}: "), r.stderr)
        self.assertIn("too long", r.stderr)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["a_folder", "k.py"], "no temporary file is left")

    def test_interpreter_mode_is_ignored(self):
        path = self.write("k.py", SOFTMAX_HEURISTIC) + ":softmax_kernel"
        r = run_init(path, "-o", os.path.join(self.tmp, "i.toml"), env=dict(os.environ, TRITON_INTERPRET="1"))
        self.assertEqual(r.returncode, 0, r.stderr)


class ShippedKernelsTest(_InitCase):
    """Acceptance (a), the part without the CLI: params as in the hand-written specs."""

    def test_params_match_the_hand_written_specs(self):
        for name, (source, function, hand_written) in SHIPPED.items():
            with self.subTest(kernel=name):
                _, spec = self.init_ok(os.path.join(REPO, source) + ":" + function, f"{name}.toml")
                with open(os.path.join(REPO, hand_written), "rb") as f:
                    want = tomllib.load(f)
                self.assertEqual([(p["name"], p["kind"]) for p in spec["params"]],
                                 [(p["name"], p["kind"]) for p in want["params"]])
                scalars = [(p["name"], p.get("dtype")) for p in spec["params"] if p["kind"] == "scalar"]
                self.assertEqual(scalars, [(p["name"], p["dtype"]) for p in want["params"] if p["kind"] == "scalar"])
                for got, hand in zip(spec["params"], want["params"]):
                    if hand.get("io") in ("in", "out"):  # "scratch" is a plugin's choice, not the kernel's
                        self.assertEqual(got.get("io"), hand["io"], got["name"])

    def test_source_is_relative_to_the_spec(self):
        source, function, _ = SHIPPED["vector_add"]
        _, spec = self.init_ok(os.path.join(REPO, source) + ":" + function)
        resolved = os.path.join(self.tmp, spec["kernel"]["source"])
        self.assertEqual(os.path.realpath(resolved), os.path.realpath(os.path.join(REPO, source)))


@unittest.skipUnless(HAVE_TRITON and HAVE_CLI, "needs Triton and the tritonpack CLI (env TRITONPACK_CLI)")
class ShippedKernelsCompileTest(_InitCase):
    """Acceptance (a): the spec init writes compiles unchanged with `tritonpack compile`."""

    def test_compiles_unchanged(self):
        cache = os.path.join(self.tmp, "cache")
        for name, (source, function, _) in SHIPPED.items():
            with self.subTest(kernel=name):
                self.init_ok(os.path.join(REPO, source) + ":" + function, f"{name}.toml")
                r = subprocess.run([CLI, "compile", os.path.join(self.tmp, f"{name}.toml"), "-o",
                                    os.path.join(self.tmp, f"{name}.tpack"), "--cache-dir", cache],
                                   capture_output=True, text=True, timeout=600,
                                   env=dict(os.environ, TRITONPACK_PYTHON_DIR=PYTHON_DIR))
                self.assertEqual(r.returncode, 0, f"stdout: {r.stdout}\nstderr: {r.stderr}")
                self.assertTrue(os.path.isfile(os.path.join(self.tmp, f"{name}.tpack")))


if __name__ == "__main__":
    program = unittest.main(exit=False, verbosity=2)
    if not program.result.wasSuccessful():
        sys.exit(1)
    missing = [what for what, have in (("Triton", HAVE_TRITON), ("the CLI (TRITONPACK_CLI)", HAVE_CLI)) if not have]
    if missing:
        print(f"SKIPPED: {' and '.join(missing)} missing; the tests that need it were skipped", file=sys.stderr)
        sys.exit(SKIP_EXIT_CODE)
    sys.exit(0)
