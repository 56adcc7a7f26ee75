"""Compare every number in two evidence packs' ``results/*.json`` (refactoring guard).

Usage::

    python benchmarks/compare_packs.py BEFORE_PACK AFTER_PACK [--tol 1e-10]

Two numbers agree when ``|a - b| <= tol * max(1, |a|, |b|)`` (absolute below 1, relative above:
money in 万元 reaches 1e7, where an absolute 1e-10 is below double rounding). Both must be NaN
or both the same infinity; strings and the structure (keys, list lengths, types) must be equal,
except the keys listed in ``VOLATILE`` (build times). Exit status 1 on any difference, listing
each with its JSON path.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

#: keys whose values differ from build to build by design
VOLATILE = {"built_at", "generated_at", "elapsed_s", "duration_s", "timestamp"}


def compare(a, b, path: str, tol: float, out: list[str], counts: dict) -> None:
    if isinstance(a, bool) or isinstance(b, bool):
        if a is not b:
            out.append(f"{path}: {a!r} != {b!r}")
        return
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        counts["numbers"] += 1
        if math.isnan(a) or math.isnan(b):
            if not (math.isnan(a) and math.isnan(b)):
                out.append(f"{path}: {a!r} != {b!r}")
            return
        if math.isinf(a) or math.isinf(b):
            if a != b:
                out.append(f"{path}: {a!r} != {b!r}")
            return
        if abs(a - b) > tol * max(1.0, abs(a), abs(b)):
            out.append(f"{path}: {a!r} != {b!r} (diff {a - b:.3g})")
        counts["max_rel"] = max(counts["max_rel"], abs(a - b) / max(1.0, abs(a), abs(b)))
        return
    if type(a) is not type(b):
        out.append(f"{path}: type {type(a).__name__} != {type(b).__name__}")
        return
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k in VOLATILE:
                continue
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k in b else 'before'}")
                continue
            compare(a[k], b[k], f"{path}.{k}", tol, out, counts)
        return
    if isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} != {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            compare(x, y, f"{path}[{i}]", tol, out, counts)
        return
    counts["strings"] += 1
    if a != b:
        out.append(f"{path}: {str(a)[:80]!r} != {str(b)[:80]!r}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--tol", type=float, default=1e-10)
    args = p.parse_args(argv)
    files_a = sorted((args.before / "results").glob("*.json"))
    names_b = {f.name for f in (args.after / "results").glob("*.json")}
    diffs: list[str] = []
    counts = {"numbers": 0, "strings": 0, "max_rel": 0.0}
    for fa in files_a:
        if fa.name not in names_b:
            diffs.append(f"{fa.name}: missing in after")
            continue
        a = json.loads(fa.read_text(encoding="utf-8"))
        b = json.loads((args.after / "results" / fa.name).read_text(encoding="utf-8"))
        compare(a, b, fa.name, args.tol, diffs, counts)
    for name in sorted(names_b - {f.name for f in files_a}):
        diffs.append(f"{name}: only in after")
    print(f"{len(files_a)} files, {counts['numbers']} numbers, {counts['strings']} strings compared; "
          f"largest scaled difference {counts['max_rel']:.3g}; {len(diffs)} difference(s)")
    for d in diffs:
        print("  ", d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
