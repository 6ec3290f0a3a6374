"""Every scenario through every kit of the registry, pinned byte for byte (see tests/scenarios.py).

Regenerate with ``python -m pytest tests/test_scenarios.py --force-regen`` and read the whole diff
(`git diff tests/scenarios`) before committing it: a golden file is only as good as that review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import scenarios
from generator import cli, kits

CASES = scenarios.cases(kits.KITS)


def run_case(case: scenarios.Case, tmp_path: Path, capsys) -> tuple[int, dict[str, bytes] | str]:
    """Build the case's kit from its scenario: (0, files) or (exit code, the error line)."""
    config = scenarios.materialise(case.scenario, tmp_path / "cfg")
    out = tmp_path / "out"
    capsys.readouterr()
    code = cli.main([case.kit.command, "-c", str(config), "-o", str(out)])
    err = capsys.readouterr().err
    if code != 0:
        lines = [line for line in err.splitlines() if line.startswith("mdegen: ")]
        return code, "\n".join(lines).replace(str(tmp_path / "cfg"), scenarios.TMP_MARK) + "\n"
    return code, scenarios.kit_files(out / case.kit.name)


def check_case(case: scenarios.Case, tmp_path: Path, capsys, file_regression) -> None:
    code, result = run_case(case, tmp_path, capsys)
    expect_error = case.scenario / f"{case.kit.name}.error"
    if code != 0 or expect_error.exists():
        # A kit that must refuse the scenario: the error line is the golden file.
        assert isinstance(result, str), f"{case.id}: expected the error in {expect_error.name}, but the kit was built"
        assert code == 2, result
        file_regression.check(result, fullpath=expect_error)
        return
    failures = []
    listing = "".join(f"{path}\n" for path in result)
    golden = case.scenario / case.kit.name
    checks = [(listing, False, "FILES.txt")] + [(data, True, path) for path, data in result.items()]
    for contents, binary, path in checks:
        try:
            file_regression.check(contents, binary=binary, fullpath=golden / path)
        except (AssertionError, pytest.fail.Exception) as exc:
            failures.append(f"{path}: {str(exc).splitlines()[0]}")
    if failures:
        pytest.fail(f"{case.id}: golden files differ:\n" + "\n".join(failures))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scenario(case, tmp_path, capsys, file_regression):
    check_case(case, tmp_path, capsys, file_regression)


def test_every_scenario_has_every_kit():
    """Each scenario pins each kit: its output folder or the error it must give."""
    for case in CASES:
        assert (case.scenario / case.kit.name).is_dir() or (case.scenario / f"{case.kit.name}.error").is_file(), case.id


def test_no_share_is_refused_by_gpo_only():
    """An SCCM-only config (onboarding package, no share) builds the SCCM kit; the GPO kit names `share`."""
    no_share = scenarios.ROOT / "no-share"
    assert (no_share / "sccm" / "FILES.txt").is_file()
    error = (no_share / "gpo.error").read_text(encoding="utf-8")
    assert error.startswith("mdegen: config error: ") and ": share: is required" in error
