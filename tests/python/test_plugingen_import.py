"""Tests of the PluginGen importer (python/tritonpack_plugingen). Needs neither Triton nor TensorRT-LLM.

Run: python3 tests/python/test_plugingen_import.py  (or through CTest). Exits 0 when every test
passes. Conversions run as a subprocess (`python3 -m tritonpack_plugingen`), as a user runs them.
The FMHA config's conversion is compared with tests/plugingen/fmha_expected.toml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

try:
    import tomllib  # Python >= 3.11; without it, the tests that parse the TOML are skipped
except ImportError:
    tomllib = None

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON_DIR = os.path.join(REPO, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from tritonpack_common.files import OutputError, check_output, write_output  # noqa: E402
from tritonpack_plugingen.convert import ConversionError, convert, load_config, pick_kernel  # noqa: E402

PLUGINGEN_DIR = os.path.join(REPO, "tests", "plugingen")
FMHA_CONFIG = os.path.join(PLUGINGEN_DIR, "fmha_kernel_config.py")
FMHA_EXPECTED = os.path.join(PLUGINGEN_DIR, "fmha_expected.toml")
FMHA_KERNEL = os.path.join(REPO, "kernels", "fmha", "fmha.py")

# A small kernel for the error cases; it is parsed, never imported.
SCALE_KERNEL = '''
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, alpha, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * alpha, mask=offs < n)
'''

GOOD_IOS = '''[
            InputArg("x_ptr", Type("tensor[fp32]"), hints=["16", ""]),
            OutputArg("out_ptr", Type("tensor[fp32]"), hints=["16", "16"]),
            ParamArg("alpha", Type("fp32")),
            DimSizeArg("n", hints=["16", ""]),
            Constexpr(1024),
        ]'''
GOOD_RULES = '["x_ptr[*] -> out_ptr[*]", "x_ptr[a] : a -> n"]'


def scale_config(ios: str = GOOD_IOS, rules: str = GOOD_RULES, name: str = "scale_kernel",
                 header: str = "", kernels: str = "KERNELS = [meta()]") -> str:
    return textwrap.dedent(header) + textwrap.dedent(f'''
        import os
        from tensorrt_llm.tools.plugin_gen.core import *


        def meta(name="{name}"):
            return KernelMetaData(
                kernel_name=name,
                ios={ios},
                shape_infer_rules={rules},
                version=3,
                kernel_file=os.path.join(os.path.dirname(os.path.abspath(__file__)), "scale.py"),
                num_warps=8,
                num_stages=3,
                grid_dims=("(n + 1023) / 1024", "1", "1"),
            )


        ''') + kernels + "\n"


def run_importer(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "tritonpack_plugingen", *args], capture_output=True,
                          text=True, env=env, timeout=60)


class _TempDirCase(unittest.TestCase):
    def parse(self, text: str) -> dict:
        if tomllib is None:
            self.skipTest("tomllib needs Python 3.11")
        return tomllib.loads(text)

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tritonpack-plugingen-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(os.path.join(self.tmp, "scale.py"), "w") as f:
            f.write(SCALE_KERNEL)

    def write_config(self, text: str, name: str = "config.py") -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def convert_ok(self, config: str, *extra: str) -> str:
        out = os.path.join(self.tmp, "out.toml")
        r = run_importer(config, "-o", out, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        with open(out) as f:
            return f.read()

    def convert_fails(self, config: str, *expected: str, extra: tuple = ()) -> str:
        out = os.path.join(self.tmp, "out.toml")
        r = run_importer(config, "-o", out, *extra)
        self.assertEqual(r.returncode, 1, f"stdout: {r.stdout}\nstderr: {r.stderr}")
        self.assertTrue(r.stderr.startswith(f"import-plugingen: {config}: "), r.stderr)
        for text in expected:
            self.assertIn(text, r.stderr)
        self.assertFalse(os.path.exists(out), "a failed conversion must not write the output")
        return r.stderr


class FmhaGoldenTest(_TempDirCase):
    def test_matches_the_golden_file(self) -> None:
        # In process, with the TOML's folder = tests/plugingen, as if written next to the golden.
        kernel = pick_kernel(load_config(FMHA_CONFIG), None)
        text = convert(kernel, FMHA_CONFIG, PLUGINGEN_DIR)
        with open(FMHA_EXPECTED) as f:
            expected = f.read()
        self.assertEqual(text, expected)

    def test_command_line_output(self) -> None:
        text = self.convert_ok(FMHA_CONFIG)
        spec = self.parse(text)
        # Relative to the output's folder where they share a root below '/', else absolute (the
        # repository may itself live under the temporary folder, as in a fresh clone in /tmp).
        source = spec["kernel"]["source"]
        resolved = source if os.path.isabs(source) else os.path.join(self.tmp, source)
        self.assertEqual(os.path.realpath(resolved), os.path.realpath(FMHA_KERNEL))
        # Apart from those paths, the same text as the golden file.
        with open(FMHA_EXPECTED) as f:
            expected = f.read()
        strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith(("source = ", "# Converted from"))]
        self.assertEqual(strip(text), strip(expected))
        self.assertEqual([n for n in os.listdir(self.tmp) if n.endswith(".tmp")], [], "temporary file left")

    def test_golden_content(self) -> None:
        with open(FMHA_EXPECTED) as f:
            spec = self.parse(f.read())
        self.assertEqual(spec["spec_version"], 1)
        self.assertEqual(spec["kernel"]["grid"], ["(seq_len + 127) / 128", "batch_size * num_heads", "1"])
        self.assertEqual(os.path.normpath(os.path.join(PLUGINGEN_DIR, spec["kernel"]["source"])),
                         os.path.normpath(FMHA_KERNEL))
        self.assertNotIn("archs", spec["kernel"])
        self.assertEqual(spec["plugin"], {"version": "0", "rules": [
            "Q[*] -> Out[*]", "Q[m,n,k,*] -> L[m,n,k]", "Q[m,n,k,*] -> M[m,n,k]",
            "Q[m,n,k,*] : m -> batch_size", "Q[m,n,k,*] : k -> seq_len"]})
        names = [p["name"] for p in spec["params"]]
        self.assertEqual(names, ["Out", "L", "M", "Q", "K", "V", "sm_scale", "batch_size", "num_heads",
                                 "seq_len", "BLOCK_M", "BLOCK_DMODEL", "BLOCK_N"])
        by_name = {p["name"]: p for p in spec["params"]}
        self.assertEqual(by_name["Out"], {"name": "Out", "kind": "tensor", "dtype": "fp16", "io": "out",
                                          "divisibility": 16})
        self.assertEqual(by_name["sm_scale"], {"name": "sm_scale", "kind": "scalar", "dtype": "fp32",
                                               "field": True})
        self.assertEqual(by_name["batch_size"], {"name": "batch_size", "kind": "scalar", "dtype": "i32"})
        self.assertEqual(by_name["seq_len"]["divisibility"], [1, 16])
        self.assertEqual([by_name[n]["value"] for n in ("BLOCK_M", "BLOCK_DMODEL", "BLOCK_N")], [128, 64, 128])
        self.assertEqual(spec["configs"], [{"name": "default", "num_warps": 4, "num_stages": 2}])


class ConversionTest(_TempDirCase):
    def test_small_kernel(self) -> None:
        spec = self.parse(self.convert_ok(self.write_config(scale_config())))
        self.assertEqual(spec["kernel"]["source"], "scale.py")
        self.assertEqual(spec["plugin"]["version"], "3")
        self.assertEqual(spec["configs"], [{"name": "default", "num_warps": 8, "num_stages": 3}])
        self.assertEqual(spec["params"][4], {"name": "BLOCK", "kind": "constexpr", "value": 1024})

    def test_cross_product_comment(self) -> None:
        # Zipped: (x 16, n 16), (x 1, n 1): 2 specializations; the cross product has 4.
        text = self.convert_ok(self.write_config(scale_config()))
        self.assertIn("tritonpack compiles the cross product", text)
        spec = self.parse(text)
        self.assertEqual(spec["params"][0]["divisibility"], [16, 1])
        self.assertEqual(spec["params"][3]["divisibility"], [16, 1])
        self.assertEqual(spec["params"][1]["divisibility"], 16)

    def test_no_cross_product_comment_when_equal(self) -> None:
        text = self.convert_ok(FMHA_CONFIG)
        self.assertNotIn("cross product", text)

    def test_hint_equal_to_one(self) -> None:
        ios = GOOD_IOS.replace('DimSizeArg("n", hints=["16", ""])', 'DimSizeArg("n", hints=["1", "16"])')
        text = self.convert_ok(self.write_config(scale_config(ios=ios)))
        self.assertIn("# PluginGen hint '1' on n (the value equals 1) is not a tritonpack specialization", text)
        self.assertEqual(self.parse(text)["params"][3]["divisibility"], [1, 16])

    def test_choose_kernel(self) -> None:
        config = self.write_config(scale_config(kernels='KERNELS = [meta(), meta("scale_kernel")]\n'
                                                'KERNELS[1].num_warps = 2'))
        self.convert_fails(config, "2 kernels (scale_kernel, scale_kernel)", "--kernel")
        self.convert_fails(config, "KERNELS has 2 kernels named 'scale_kernel'", extra=("--kernel", "scale_kernel"))

    def test_decorated_function_and_config_next_to_kernel(self) -> None:
        with open(os.path.join(self.tmp, "scale.py"), "w") as f:
            f.write(SCALE_KERNEL.replace("@triton.jit", "@triton.autotune(configs=[], key=['n'])\n@triton.jit"))
        spec = self.parse(self.convert_ok(self.write_config(scale_config())))
        self.assertEqual([p["name"] for p in spec["params"]], ["x_ptr", "out_ptr", "alpha", "n", "BLOCK"])

    def test_existing_output_kept_on_failure(self) -> None:
        out = os.path.join(self.tmp, "out.toml")
        with open(out, "w") as f:
            f.write("old\n")
        r = run_importer(self.write_config("KERNELS = []\n"), "-o", out)
        self.assertEqual(r.returncode, 1)
        with open(out) as f:
            self.assertEqual(f.read(), "old\n")

    def test_stand_ins_do_not_leak(self) -> None:
        before = {n for n in sys.modules if n.startswith("tensorrt_llm")}
        load_config(self.write_config(scale_config()))
        self.assertEqual({n for n in sys.modules if n.startswith("tensorrt_llm")}, before)


class ErrorTest(_TempDirCase):
    def test_missing_kernels(self) -> None:
        config = self.write_config(scale_config(kernels="OTHER = [meta()]"))
        self.convert_fails(config, "defines no KERNELS list")

    def test_unknown_dtype(self) -> None:
        ios = GOOD_IOS.replace('Type("tensor[fp32]"), hints=["16", "16"]', 'Type("tensor[fp8]"), hints=["16", "16"]')
        err = self.convert_fails(self.write_config(scale_config(ios=ios)), "OutputArg('out_ptr')",
                                 "unknown dtype 'tensor[fp8]'")
        self.assertIn("kernel 'scale_kernel'", err)

    def test_unsupported_scalar_dtype(self) -> None:
        ios = GOOD_IOS.replace('ParamArg("alpha", Type("fp32"))', 'ParamArg("alpha", Type("int8"))')
        self.convert_fails(self.write_config(scale_config(ios=ios)), "ParamArg('alpha')", "scalar dtype 'int8'")

    def test_signature_mismatch(self) -> None:
        ios = GOOD_IOS.replace('ParamArg("alpha", Type("fp32")),', 'ParamArg("beta", Type("fp32")),')
        err = self.convert_fails(self.write_config(scale_config(ios=ios)),
                                 "ios does not match the parameters of scale_kernel",
                                 "scale_kernel(x_ptr, out_ptr, alpha, n, BLOCK: tl.constexpr)",
                                 "position 2: ios has ParamArg('beta'), the function has alpha")
        self.assertIn("Constexpr(1024)", err)

    def test_signature_length_mismatch(self) -> None:
        ios = GOOD_IOS.replace("Constexpr(1024),", "")
        self.convert_fails(self.write_config(scale_config(ios=ios)),
                           "position 4: the function has BLOCK, ios has nothing")

    def test_constexpr_position_mismatch(self) -> None:
        ios = GOOD_IOS.replace('DimSizeArg("n", hints=["16", ""])', "Constexpr(7)")
        self.convert_fails(self.write_config(scale_config(ios=ios, rules='["x_ptr[*] -> out_ptr[*]"]')),
                           "ios has Constexpr(7) but the function's n is not annotated tl.constexpr")

    def test_dim_size_without_rule(self) -> None:
        self.convert_fails(self.write_config(scale_config(rules='["x_ptr[*] -> out_ptr[*]"]')),
                           "DimSizeArg 'n' is computed by no rule")

    def test_missing_module(self) -> None:
        config = self.write_config(scale_config(header="import json\nimport tritonpack_no_such_module\n"))
        self.convert_fails(config, "config.py: line 2: the config imports", "imports 'tritonpack_no_such_module'")

    def test_two_kernels_without_choice(self) -> None:
        config = self.write_config(scale_config(kernels='KERNELS = [meta(), meta("other_kernel")]'))
        self.convert_fails(config, "KERNELS has 2 kernels (scale_kernel, other_kernel)", "--kernel NAME")
        spec = self.parse(self.convert_ok(config, "--kernel", "scale_kernel"))
        self.assertEqual(spec["kernel"]["name"], "scale_kernel")
        os.remove(os.path.join(self.tmp, "out.toml"))
        self.convert_fails(config, "no kernel named 'third'", extra=("--kernel", "third"))

    def test_unequal_hint_lengths(self) -> None:
        ios = GOOD_IOS.replace('hints=["16", "16"]', 'hints=["16", "16", "16"]')
        self.convert_fails(self.write_config(scale_config(ios=ios)), "same number of them")

    def test_bad_hint(self) -> None:
        ios = GOOD_IOS.replace('hints=["16", "16"]', 'hints=["16", "12"]')
        self.convert_fails(self.write_config(scale_config(ios=ios)), "hint '12' is not a divisibility")

    def test_grid_names_a_float(self) -> None:
        config = self.write_config(scale_config().replace('"(n + 1023) / 1024"', '"alpha"'))
        self.convert_fails(config, "grid_dims[0] 'alpha' names 'alpha'")

    def test_config_raises(self) -> None:
        config = self.write_config(scale_config(header="x = 1\nraise RuntimeError('boom')\n"))
        self.convert_fails(config, "config.py: line 2: running the config failed: RuntimeError: boom")

    def test_usage_errors(self) -> None:
        r = run_importer(FMHA_CONFIG)
        self.assertEqual(r.returncode, 2)
        r = run_importer()
        self.assertEqual(r.returncode, 2)

    def test_missing_output_folder(self) -> None:
        r = run_importer(FMHA_CONFIG, "-o", os.path.join(self.tmp, "no", "such", "out.toml"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)

    def test_output_is_a_folder_or_cannot_be_written(self) -> None:
        folder = os.path.join(self.tmp, "a_folder")
        os.mkdir(folder)
        r = run_importer(FMHA_CONFIG, "-o", folder)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, f"import-plugingen: {FMHA_CONFIG}: cannot write {folder}: it is a folder\n")
        # A name too long for the file system passes the checks and fails when written (root too).
        too_long = os.path.join(self.tmp, "s" * 300 + ".toml")
        r = run_importer(FMHA_CONFIG, "-o", too_long)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith(f"import-plugingen: {FMHA_CONFIG}: cannot write {too_long}: "), r.stderr)
        self.assertNotIn("a_folder", r.stderr)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["a_folder", "scale.py"], "no temporary file is left")

    def test_lone_surrogate_is_a_conversion_error(self) -> None:
        # TOML cannot store it; the importer reports it like any other problem, not as a traceback.
        config = self.write_config(scale_config().replace("grid_dims=(\"(n + 1023) / 1024\", \"1\", \"1\")",
                                                          "grid_dims=(\"1\", \"1\", \"\\ud800\")"))
        self.convert_fails(config, "holds a lone surrogate, which TOML cannot store")

    def test_constexpr_too_big_for_toml(self) -> None:
        ios = GOOD_IOS.replace("Constexpr(1024)", "Constexpr(2**63)")
        self.convert_fails(self.write_config(scale_config(ios=ios)),
                           "kernel 'scale_kernel': Constexpr(9223372036854775808) for BLOCK: the integer "
                           "9223372036854775808 does not fit in TOML's 64 bits")

    def test_in_process_errors(self) -> None:
        with self.assertRaises(ConversionError):
            load_config(os.path.join(self.tmp, "no_such_config.py"))


class OutputFileTest(unittest.TestCase):
    """tritonpack_common.files, which the importer and `tritonpack init` share."""

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tritonpack-files-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_check_output(self) -> None:
        out = os.path.join(self.tmp, "out.toml")
        self.assertEqual(check_output(out, force=False), self.tmp)
        missing = os.path.join(self.tmp, "no", "out.toml")
        with self.assertRaises(OutputError) as ctx:
            check_output(missing, force=True)
        self.assertEqual(str(ctx.exception),
                         f"cannot write {missing}: the folder {os.path.join(self.tmp, 'no')} does not exist")
        with self.assertRaises(OutputError) as ctx:
            check_output(self.tmp, force=True)
        self.assertEqual(str(ctx.exception), f"cannot write {self.tmp}: it is a folder")
        with open(out, "w") as f:
            f.write("old\n")
        with self.assertRaises(OutputError) as ctx:
            check_output(out, force=False)
        self.assertEqual(str(ctx.exception), f"{out} exists; pass --force to overwrite it")
        self.assertEqual(check_output(out, force=True), self.tmp)

    def test_write_output(self) -> None:
        out = os.path.join(self.tmp, "out.toml")
        write_output(out, "a = 1\n")
        with open(out) as f:
            self.assertEqual(f.read(), "a = 1\n")
        too_long = os.path.join(self.tmp, "s" * 300)
        with self.assertRaisesRegex(OutputError, "^cannot write " + re.escape(too_long) + ": .*too long"):
            write_output(too_long, "a = 1\n")
        self.assertEqual(os.listdir(self.tmp), ["out.toml"])


if __name__ == "__main__":
    unittest.main(verbosity=1)
