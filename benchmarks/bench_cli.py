#!/usr/bin/env python3
"""Time the start-up and run of whole `mdegen` processes against the bare dependency import.

Usage:  python benchmarks/bench_cli.py [--runs 15] [--mdegen PATH] [--json]

What it measures: the wall-clock time of one complete process (fork/exec, interpreter start,
imports, the work, exit), as a user at a shell sees it, for

  mdegen --version                     start-up alone: what the CLI costs before doing anything
  mdegen validate -c EXAMPLE           config + portal package read, both kits built, nothing written
  mdegen gpo -c EXAMPLE -o TMP         the Group Policy kit written
  mdegen sccm-package -c EXAMPLE -o TMP  the Configuration Manager kit written
  import deps                          python -c "import typer, jinja2, lxml.etree, yaml, pydantic"
  python -c pass                       the interpreter alone

EXAMPLE is written once beforehand with `mdegen init --example TMP/example --force`.  mdegen runs
as `<this interpreter> -m generator ...` by default, from the current directory, so it measures
whichever `generator` package this interpreter imports there (from the repository root: the
source tree; elsewhere: the installed package); the output says which.  `--mdegen PATH` times an
installed entry point (e.g. .venv/bin/mdegen) instead; the two baselines always run under this
interpreter.

One untimed warm-up round (byte-code caches, written even where PYTHONDONTWRITEBYTECODE is set,
as pip does for an install; page cache), then N rounds; every round runs each
command once, the starting command rotating from round to round, so that machine noise and
ordering effects hit all commands alike.  Every mdegen command must exit 0; otherwise its stderr
is printed and the script exits 1.

How to read it: per command the median and the minimum in ms (the median is what a user gets,
the minimum what the machine can do), then the ratio of each mdegen median to the dependency
import's median and to `python -c pass`'s.  "x deps" near 1.0 means mdegen adds little beyond
importing its libraries; the part above 1.0 is mdegen's own imports and work.  "x pass" is the
whole cost in units of an empty interpreter.  Goals: `mdegen gpo` <= 1.3x and `mdegen --version`
<= 0.5x the dependency import (so --version must not import all the dependencies).  The
ratios compare processes on the same machine in the same run; the absolute ms do not transfer
between machines.  With default runs this takes about half a minute on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEPS = "import typer, jinja2, lxml.etree, yaml, pydantic"
GOALS = (("mdegen gpo", 1.3), ("mdegen --version", 0.5))   # median / median of "import deps"


def _commands(mdegen: list[str], example: Path, out: Path) -> list[tuple[str, list[str]]]:
    cfg = str(example / "mdegen.yaml")
    py = sys.executable
    return [
        ("mdegen --version", [*mdegen, "--version"]),
        ("mdegen validate", [*mdegen, "validate", "-c", cfg]),
        ("mdegen gpo", [*mdegen, "gpo", "-c", cfg, "-o", str(out)]),
        ("mdegen sccm-package", [*mdegen, "sccm-package", "-c", cfg, "-o", str(out)]),
        ("import deps", [py, "-c", DEPS]),
        ("python -c pass", [py, "-c", "pass"]),
    ]


class CommandFailed(Exception):
    def __init__(self, argv: list[str], proc: subprocess.CompletedProcess) -> None:
        super().__init__(f"{' '.join(argv)} exited {proc.returncode}")
        self.stderr = proc.stderr.decode(errors="replace")


# Users run an installed mdegen, whose byte code pip compiled. A PYTHONDONTWRITEBYTECODE=1 in the
# environment (some sandboxes set it) would make every run from the source tree compile every
# module again, which users never pay: the children run without it, and the warm-up round writes
# the caches (__pycache__ is ignored by git).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False, env=_ENV)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise CommandFailed(argv, proc)
    return elapsed


def _mdegen_prefix(path: str | None) -> list[str]:
    if path is None:
        return [sys.executable, "-m", "generator"]
    found = shutil.which(path)
    if found is None:
        raise SystemExit(f"bench_cli: --mdegen {path}: not found or not executable")
    return [os.path.abspath(found)]


def _describe_mdegen(prefix: list[str]) -> str:
    """Which code the mdegen commands run, as exactly as can be told from outside."""
    if prefix[1:] == ["-m", "generator"]:
        proc = subprocess.run([sys.executable, "-c", "import generator; print(generator.__file__)"],
                              capture_output=True, text=True, check=False)
        where = Path(proc.stdout.strip()).parent if proc.returncode == 0 else "(not importable)"
        return f"{sys.executable} -m generator  (package {where}, cwd {Path.cwd()})"
    shebang = ""
    try:
        with open(prefix[0], "rb") as fh:
            first = fh.readline(400)
        if first.startswith(b"#!"):
            shebang = f"  (runs {first[2:].decode(errors='replace').strip()})"
    except OSError:
        pass
    return f"{prefix[0]}{shebang}"


def run(runs: int, mdegen_path: str | None) -> dict:
    prefix = _mdegen_prefix(mdegen_path)
    with tempfile.TemporaryDirectory(prefix="bench_cli_") as tmp:
        example, out = Path(tmp) / "example", Path(tmp) / "out"
        _run([*prefix, "init", "--example", str(example), "--force"])
        commands = _commands(prefix, example, out)
        for _, argv in commands:                    # warm-up round, untimed; also checks exit codes
            _run(argv)
        times: dict[str, list[float]] = {name: [] for name, _ in commands}
        n = len(commands)
        for r in range(runs):                        # alternate: every round runs every command once
            for i in range(n):
                name, argv = commands[(r + i) % n]
                times[name].append(_run(argv))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    result: dict = {
        "runs": runs,
        "interpreter": {"executable": sys.executable, "version": sys.version,
                        "platform": platform.platform(), "cpus": os.cpu_count()},
        "mdegen": _describe_mdegen(prefix),
        "commands": {name: {"argv": argv, "median_ms": med[name] * 1000,
                            "min_ms": min(times[name]) * 1000,
                            "times_ms": [t * 1000 for t in times[name]]}
                     for name, argv in commands},
        "ratios": {name: {"deps": med[name] / med["import deps"], "pass": med[name] / med["python -c pass"]}
                   for name, _ in commands if name.startswith("mdegen ")},
    }
    result["goals"] = [{"command": name, "max_ratio_to_deps": limit,
                        "ratio_to_deps": result["ratios"][name]["deps"],
                        "met": result["ratios"][name]["deps"] <= limit} for name, limit in GOALS]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="timed rounds (default 15)")
    ap.add_argument("--mdegen", metavar="PATH", help="time this entry point instead of '<python> -m generator'")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    try:
        res = run(args.runs, args.mdegen)
    except CommandFailed as exc:
        print(f"bench_cli: {exc}", file=sys.stderr)
        print(exc.stderr, file=sys.stderr, end="" if exc.stderr.endswith("\n") else "\n")
        return 1
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    interp = res["interpreter"]
    print(f"mdegen CLI, whole process wall clock: median and min of {res['runs']} alternating rounds")
    print(f"  python: {interp['executable']}: {' '.join(interp['version'].split())}")
    print(f"          on {interp['platform']}, {interp['cpus']} CPUs")
    print(f"  mdegen: {res['mdegen']}")
    print(f"  {'command':<22}{'median':>10}{'min':>10}{'x deps':>9}{'x pass':>9}")
    for name, c in res["commands"].items():
        r = res["ratios"].get(name)
        ratios = f"{r['deps']:9.2f}{r['pass']:9.1f}" if r else ""
        print(f"  {name:<22}{c['median_ms']:8.1f}ms{c['min_ms']:8.1f}ms{ratios}")
    print("  (x deps, x pass: ratio of medians to 'import deps' and to 'python -c pass')")
    for g in res["goals"]:
        state = "met" if g["met"] else "NOT met"
        print(f"  goal: {g['command']} <= {g['max_ratio_to_deps']}x import deps: "
              f"{g['ratio_to_deps']:.2f}x -> {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
