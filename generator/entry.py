"""The `mdegen` console script: answers `mdegen --version` before the CLI framework loads.

`--version` is what scripts and CI ask most often; importing typer alone costs half of importing
every dependency, so this one answer is given here. Everything else goes to generator.cli.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from generator import __version__

        sys.stdout.write(f"mdegen {__version__}\n")
        code = 0
    else:
        from generator.cli import main as cli_main

        code = cli_main(args)
    if argv is None:
        sys.exit(code)
    return code
