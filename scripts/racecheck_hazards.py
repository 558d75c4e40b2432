#!/usr/bin/env python3
"""Reads compute-sanitizer racecheck output (--racecheck-report all --show-backtrace no) of a
Gluon warp-specialized kernel and sorts its hazards into two kinds:

  dispatch  both accesses are attributed to the kernel's `def` line or its `gl.warp_specialize(`
            call: the bytes Triton 3.6's warp specialization writes (one per worker warp: which
            partition to run) before a CTA-wide `barrier.sync 1` and each worker warp reads after
            its own `barrier.sync 1`. racecheck reports these as potential RAW hazards although
            the named barrier orders them (checked in the PTX: docs/attention.md).
  other     anything else: a hazard on the kernel's own shared memory (tiles, mbarriers).

Usage: racecheck_hazards.py <racecheck-output> <kernel.py> <function>
Prints the `other` hazards and a summary line; exit 1 if there is any `other` hazard, if the output
has no racecheck summary, or if racecheck counted more hazards than it printed (--print-limit)."""
import re
import sys


def main() -> int:
    text = open(sys.argv[1], errors="replace").read()
    source = open(sys.argv[2]).read().splitlines()
    function = sys.argv[3]
    lines = set()
    for i, line in enumerate(source, start=1):
        if re.match(rf"\s*def {re.escape(function)}\(", line) or "gl.warp_specialize(" in line:
            lines.add(i)
    file = sys.argv[2].rsplit("/", 1)[-1]
    kinds = {"dispatch": 0, "other": 0}
    for block in re.split(r"=+ (?:Error|Warning): ", text)[1:]:
        # A hazard ("Write Thread (..) at fn+0x.. in file:line" / "Read Thread ...") or racecheck's
        # digest of them ("Race reported between Read access at fn+0x.. in file:line and Write
        # access at ... [N hazards]").
        sites = re.findall(r"(?:Write|Read) (?:Thread \([^)]*\) at|access at) \S+ in (\S+?):(\d+)", block)
        dispatch = len(sites) >= 2 and all(f == file and int(n) in lines for f, n in sites)
        kinds["dispatch" if dispatch else "other"] += 1
        if not dispatch:
            print("hazard outside the warp-specialization dispatch:\n" + block.strip()[:800])
    summary = re.search(r"RACECHECK SUMMARY: ([^\n]*)", text)
    # "N hazards displayed (M errors, W warnings)": every one of the M + W must have been printed
    # (and so classified) above.
    counts = re.search(r"(\d+) hazards? displayed \((\d+) errors?, (\d+) warnings?\)", summary.group(1)) if summary else None
    complete = bool(counts) and int(counts.group(2)) + int(counts.group(3)) <= kinds["dispatch"] + kinds["other"]
    if summary and not complete:
        print("racecheck: fewer hazard reports printed than it counted (raise --print-limit): they cannot all be "
              "classified")
    print(f"racecheck: {kinds['other']} hazards on the kernel's own shared memory, {kinds['dispatch']} on "
          f"Triton's warp-specialization dispatch bytes (ordered by barrier.sync 1); summary: "
          f"{summary.group(1) if summary else 'MISSING'}")
    return 0 if summary and complete and kinds["other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
