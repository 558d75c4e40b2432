"""The key loops of a pack's variants in SASS, no GPU needed: for each variant, every loop of
300-1200 instructions with its size and its FSEL (masking), PRMT (half swaps) and spill (STL/LDL)
counts. Usage: python sass_loops.py TRITONPACK PACK VARIANT_ID... (ptxas from $CUDA_HOME/bin,
default /usr/local/cuda; cuobjdump from there, else the one Triton ships)."""
import collections, os, re, subprocess, sys, tempfile

CUDA = os.environ.get("CUDA_HOME", "/usr/local/cuda")


def cuobjdump():
    path = os.path.join(CUDA, "bin", "cuobjdump")
    if os.path.exists(path):
        return path
    import triton.backends.nvidia
    return os.path.join(os.path.dirname(triton.backends.nvidia.__file__), "bin", "cuobjdump")


def sass(tritonpack, pack, vid):
    ptx = subprocess.run([tritonpack, "inspect", "--ir", "ptx", "--variant", str(vid), pack], check=True,
                         capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "k.ptx"), "w").write(ptx)
        subprocess.run([os.path.join(CUDA, "bin", "ptxas"), "-arch=sm_90a", os.path.join(d, "k.ptx"), "-o",
                        os.path.join(d, "k.cubin")], check=True)
        return subprocess.run([cuobjdump(), "-sass", os.path.join(d, "k.cubin")],
                              check=True, capture_output=True, text=True).stdout


def loops(text):
    ins = [(int(m.group(1), 16), m.group(2)) for m in re.finditer(r"/\*([0-9a-f]{4,})\*/\s+([^;]*);", text)]
    at = {a: i for i, (a, _) in enumerate(ins)}
    for i, (a, t) in enumerate(ins):
        m = re.search(r"\bBRA\b.*?(0x[0-9a-f]+)", t)
        if m and int(m.group(1), 16) <= a and int(m.group(1), 16) in at and 300 < i - at[int(m.group(1), 16)] < 1200:
            body = [x for _, x in ins[at[int(m.group(1), 16)]:i + 1]]
            ops = collections.Counter(re.sub(r"^@!?U?P\w+\s+", "", x).split()[0].split(".")[0] for x in body)
            yield len(body), ops["FSEL"], ops["PRMT"], ops["STL"] + ops["LDL"]


if __name__ == "__main__":
    tritonpack, pack = sys.argv[1], sys.argv[2]
    for vid in sys.argv[3:]:
        print(f"variant {vid}: " + "; ".join(f"{n} instructions (FSEL {f}, PRMT {p}, spill {s})"
                                            for n, f, p, s in loops(sass(tritonpack, pack, vid))))
