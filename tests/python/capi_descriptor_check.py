"""bench/tritonpack_capi.py's descriptor arguments (what bench/attention.py launches the sm_90
attention pack with), checked without a GPU through tp_kernel_explain: dense strides are
derived from the shape, the head size and causal flag pick the variant, and a base pointer TMA
cannot take is refused with the reason.
Usage: capi_descriptor_check.py <libtritonpack_runtime.so> <attention_sm90.tpack>
(exit 77 when the pack is missing: compiling it needs Triton)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import tritonpack_capi as capi  # noqa: E402


def arguments(base, b=2, hq=8, hkv=2, sq=129, skv=1000, d=128, causal=1):
    a = capi.Arguments(12)
    mib = 1 << 20
    a.descriptor(0, base, "fp16", (b, hq, sq, d))
    a.descriptor(1, base + 16 * mib, "fp16", (b, hkv, skv, d))
    a.descriptor(2, base + 32 * mib, "fp16", (b, hkv, skv, d))
    a.tensor(3, 48 * mib, "fp16", (b, hq, sq, d))
    a.tensor(4, 64 * mib, "fp32", (b, hq, sq))
    a.real(5, 0.088)
    for i, v in enumerate((b, hq, hkv, sq, skv, causal), start=6):
        a.integer(i, v)
    return a


def main() -> int:
    lib_path, pack_path = sys.argv[1], sys.argv[2]
    if not os.path.exists(pack_path):
        print(f"SKIPPED: no pack {pack_path}")
        return 77
    lib = capi.Library(lib_path)
    pack = lib.open(pack_path)
    kernel = pack.kernel("attention_sm90")
    pack.close()
    failures = []
    a = arguments(1 << 20)
    strides = [a.array[0].strides[i] for i in range(4)]
    if strides != [8 * 129 * 128, 129 * 128, 128, 1]:
        failures.append(f"dense strides of [2, 8, 129, 128]: {strides}")
    variant, text = kernel.explain(a, capi.options(), 90)
    chosen = [line for line in text.splitlines() if line.strip().endswith("chosen")]
    if variant < 0 or not chosen or "HEAD_DIM=128" not in chosen[0] or "IS_CAUSAL=True" not in chosen[0]:
        failures.append("fp16, D 128, causal: " + (chosen[0] if chosen else text[-400:]))
    variant, text = kernel.explain(arguments((1 << 20) + 2), capi.options(), 90)
    if variant >= 0 or "aligned to 16 bytes" not in text:
        failures.append("a base 2 bytes past alignment was not refused for TMA: " + text[-400:])
    for f in failures:
        print("FAIL", f)
    print("capi descriptor check:", "passed" if not failures else f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
