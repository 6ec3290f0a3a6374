#!/usr/bin/env python3
"""Time `mdegen build` for many tenant configs: in one process against one process per config.

Usage:  python benchmarks/bench_release.py [--tenants 100] [--processes N]

What it measures: a managed-service provider keeps one config per customer tenant. This writes
the example (`mdegen init --example`) and N tenant configs derived from it (each its own
organisation name and release version, the same synthetic packages), then times, side by side in
one run on the same machine:

  one process   mdegen build -c T1 -c T2 ... -c TN -o OUT   (every release in one interpreter)
  N processes   mdegen build -c Ti -o OUT, once per tenant  (what a shell loop does)

and prints both wall-clock times, the time per tenant and the ratio. `--processes` times only that
many of the per-config processes and scales the result to N (the processes are alike; 100 of them
take minutes). Every build must exit 0. Goal: 100 tenants in one process <= 10 s on this machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _tenant_configs(example: Path, n: int) -> list[Path]:
    text = example.read_text(encoding="utf-8")
    configs = []
    for i in range(1, n + 1):
        cfg = example.parent / f"tenant-{i:03d}.yaml"
        cfg.write_text(text.replace("organization: Contoso Example Ltd", f"organization: Tenant {i:03d} Ltd")
                       .replace('version: "2026.1.0"', f'version: "2026.1.{i}"'), encoding="utf-8")
        configs.append(cfg)
    return configs


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"mdegen {' '.join(args[:2])} exited {result.returncode}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--processes", type=int, default=None, help="time only this many per-config processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _run(["init", "--example", str(root / "ex"), "--force"])
        configs = _tenant_configs(root / "ex" / "mdegen.yaml", args.tenants)
        _run(["build", "-c", str(configs[0]), "-o", str(root / "warm")])          # caches warm for both
        one = _run(["build", *[a for c in configs for a in ("-c", str(c))], "-o", str(root / "one")])
        sample = configs[: args.processes or len(configs)]
        each = sum(_run(["build", "-c", str(c), "-o", str(root / "many")]) for c in sample)
        many = each * len(configs) / len(sample)
    n = len(configs)
    scaled = f" (measured {len(sample)}, scaled)" if len(sample) < n else ""
    print(f"tenants: {n}")
    print(f"one process:  {one:7.2f} s  ({one / n * 1000:6.0f} ms per tenant)")
    print(f"{n} processes: {many:7.2f} s  ({many / n * 1000:6.0f} ms per tenant){scaled}")
    print(f"ratio (one process / {n} processes): {one / many:.2f}")
    print(f"goal: {n} tenants in one process <= 10 s: {'met' if one <= 10 * n / 100 else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
