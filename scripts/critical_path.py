#!/usr/bin/env python3
"""Reads the `plinth apply --json` stream on stdin and reports how close the apply's wall time
came to its critical path: the longest chain of dependent operations, each weighted by how
long it actually took (its op_finished elapsed_ms). Nothing can finish sooner than that chain;
the gap is time something waited that need not have (scheduling, state writes, polling).

Usage: plinth apply --json ... | scripts/critical_path.py [--wall-ms N]
"""
import json
import sys
from functools import lru_cache


def main():
    wall_ms = None
    if "--wall-ms" in sys.argv:
        wall_ms = float(sys.argv[sys.argv.index("--wall-ms") + 1])
    plan = None
    elapsed = {}
    first_start = last_finish = None
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        ev = json.loads(line)
        t = ev.get("type")
        if t == "plan":
            plan = ev["plan"]
        elif t == "op_finished":
            elapsed[ev["address"]] = elapsed.get(ev["address"], 0) + ev["elapsed_ms"]
    if plan is None:
        sys.exit("no plan event in the input: run `plinth apply --json`")
    deps = {c["address"]: c.get("depends_on", []) for c in plan["resource_changes"]}

    @lru_cache(maxsize=None)
    def longest(addr):
        best = max((longest(d) for d in deps.get(addr, []) if d in deps), default=(0, ()))
        return (best[0] + elapsed.get(addr, 0), best[1] + (addr,))

    total, chain = max((longest(a) for a in deps), default=(0, ()))
    print(f"operations: {len(elapsed)}")
    print(f"critical path: {total / 1000:.2f} s")
    for a in chain:
        print(f"  {elapsed.get(a, 0) / 1000:8.2f} s  {a}")
    if wall_ms is not None:
        print(f"wall time: {wall_ms / 1000:.2f} s ({(wall_ms / total - 1) * 100:+.1f}% over the critical path)"
              if total else f"wall time: {wall_ms / 1000:.2f} s")


if __name__ == "__main__":
    main()
