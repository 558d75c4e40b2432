"""The runner the scripts in tests/torch share: @case runs a check at once and records it;
finish() prints the result and exits 0 (all passed) or 1. TRITONPACK_TORCH_CASES=a,b runs only
those cases (e.g. under compute-sanitizer)."""

import os
import sys
import traceback

failures = []
ONLY = [c for c in os.environ.get("TRITONPACK_TORCH_CASES", "").split(",") if c]


def case(fn):
    if ONLY and fn.__name__ not in ONLY:
        return fn
    try:
        fn()
        print(f"PASSED {fn.__name__}", flush=True)
    except Exception:
        failures.append(fn.__name__)
        print(f"FAILED {fn.__name__}\n{traceback.format_exc()}", flush=True)
    return fn


def finish():
    print(f"{len(failures)} failed: {failures}" if failures else "all passed", flush=True)
    sys.exit(1 if failures else 0)
