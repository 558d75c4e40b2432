"""The runner the scripts in tests/torch share: @case runs a check at once and records it;
finish() prints the result and exits 0 (none failed), 1 (one failed) or 77 (every case that ran
was skipped). A case that cannot run here (e.g. it needs two GPUs) raises Skipped: it is reported
SKIPPED with its reason, never passed. TRITONPACK_TORCH_CASES=a,b runs only those cases (e.g.
under compute-sanitizer)."""

import os
import sys
import traceback

passed, skipped, failures = [], [], []
ONLY = [c for c in os.environ.get("TRITONPACK_TORCH_CASES", "").split(",") if c]


class Skipped(Exception):
    """Raised by a case that cannot run on this machine; the message says why."""


def case(fn):
    if ONLY and fn.__name__ not in ONLY:
        return fn
    try:
        fn()
        passed.append(fn.__name__)
        print(f"PASSED {fn.__name__}", flush=True)
    except Skipped as why:
        skipped.append(fn.__name__)
        print(f"SKIPPED {fn.__name__}: {why}", flush=True)
    except Exception:
        failures.append(fn.__name__)
        print(f"FAILED {fn.__name__}\n{traceback.format_exc()}", flush=True)
    return fn


def finish():
    also = f"; {len(skipped)} skipped: {skipped}" if skipped else ""
    if failures:
        print(f"{len(failures)} failed: {failures}{also}", flush=True)
        sys.exit(1)
    if skipped and not passed:
        print(f"all skipped: {skipped}", flush=True)
        sys.exit(77)
    print(f"all passed{also}", flush=True)
    sys.exit(0)
