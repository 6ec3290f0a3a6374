"""`mdegen report` (issue 13): states per server and target from verification results, golden
files of the example, bad result files skipped with a warning, escaping."""

from __future__ import annotations

import json

import pytest

import scenarios
from generator import cli, example_fleet, fleet_report, verification

GOLDEN = scenarios.ROOT / "example" / "report"


@pytest.fixture
def example(tmp_path):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    return tmp_path / "ex"


def _report(example, out, *extra):
    return cli.main(["report", "-c", str(example / "mdegen.yaml"), str(example / "results"), "-o", str(out), *extra])


def test_the_example_report_is_pinned(example, tmp_path, file_regression, capsys):
    capsys.readouterr()
    assert _report(example, tmp_path / "out", "--inventory", str(example / "inventory.csv")) == 0
    console = capsys.readouterr().out.replace(str(tmp_path / "out"), "<output>")
    file_regression.check(console, fullpath=GOLDEN / "console.txt")
    for name in ("report.csv", "report.html", "report.json"):
        file_regression.check((tmp_path / "out" / "report" / name).read_bytes(), binary=True, fullpath=GOLDEN / name)
    summary = json.loads((tmp_path / "out" / "report" / "report.json").read_text(encoding="utf-8"))
    # Every state occurs in the example; each server of the plan is counted once.
    assert set(summary["states"]) == set(fleet_report.STATES) - {"still onboarded"}
    assert summary["servers"] == sum(summary["states"].values()) == sum(t["servers"] for t in summary["targets"])
    capsys.readouterr()
    assert _report(example, tmp_path / "out", "--inventory", str(example / "inventory.csv"), "--json") == 0
    assert json.loads(capsys.readouterr().out) == summary


def test_every_example_result_follows_the_schema():
    for name, data in example_fleet.results():
        assert verification.result_problems(json.loads(data)) == [], name


def test_the_schema_uses_only_the_keywords_the_report_checks():
    def keywords(schema):
        found = set(schema)
        for sub in schema.get("properties", {}).values():
            found |= keywords(sub)
        if isinstance(schema.get("items"), dict):
            found |= keywords(schema["items"])
        return found

    assert keywords(verification.RESULT_SCHEMA) <= verification.SCHEMA_KEYWORDS


def test_bad_files_are_named_and_skipped(example, tmp_path, capsys):
    results = example / "results"
    (results / "broken.json").write_text('{"computer": "X",\n  oops}', encoding="utf-8")
    (results / "other.json").write_text('{"computer": "X"}', encoding="utf-8")
    doc = json.loads((results / "FAKE-WEB01.json").read_text(encoding="utf-8"))
    doc["checks"][0]["status"] = "maybe"
    (results / "odd.json").write_text(json.dumps(doc), encoding="utf-8")
    (results / "binary.json").write_bytes(b"\xff\x00\xfe")
    capsys.readouterr()
    assert _report(example, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert "broken.json: skipped: line 2: not JSON" in err
    assert "other.json: skipped: not a result of schema version 1: the result: lacks 'schema'" in err
    assert "odd.json: skipped: not a result of schema version 1: checks[0].status: 'maybe' is none of" in err
    assert "binary.json: skipped: not UTF-8 text" in err
    summary = json.loads((tmp_path / "out" / "report" / "report.json").read_text(encoding="utf-8"))
    assert sorted(s["file"] for s in summary["skipped"]) == ["binary.json", "broken.json", "odd.json", "other.json"]
    assert summary["servers"] == len(example_fleet.RESULTS)


def test_the_newest_result_counts_and_old_ones_are_stale(example, tmp_path):
    results = example / "results"
    doc = json.loads((results / "FAKE-APP01.json").read_text(encoding="utf-8"))
    fixed = example_fleet._result("fake-app01", "Servers", "none", "2026-01-16T10:00:00Z", {}, "Onboarded")
    (results / "FAKE-APP01-again.json").write_text(json.dumps(fixed), encoding="utf-8")
    found, skipped = fleet_report.read_results(results)
    from generator import project

    p = project.load(example / "mdegen.yaml", packages=(), now=__import__("datetime").datetime.now(), purpose="t")
    report = fleet_report.report(p, found, skipped, results_name="results", stale_days=7)
    states = {s.name.upper(): s.state for s in report.servers}
    assert states["FAKE-APP01"] == "onboarded" and len(report.servers) == len(example_fleet.RESULTS)
    assert doc["computer"] == "FAKE-APP01"
    assert states["FAKE-FILE02"] == "stale"
    report = fleet_report.report(p, found, skipped, results_name="results", stale_days=30)
    assert {s.name.upper(): s.state for s in report.servers}["FAKE-FILE02"] == "onboarded"


def test_a_hostile_computer_name_is_escaped(example, tmp_path):
    results = example / "results"
    doc = json.loads((results / "FAKE-WEB01.json").read_text(encoding="utf-8"))
    doc["computer"] = "<script>alert(1)</script>\"&\nX"
    (results / "HOSTILE.json").write_text(json.dumps(doc), encoding="utf-8")
    assert _report(example, tmp_path / "out") == 0
    page = (tmp_path / "out" / "report" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;\"&amp;\\nX" in page
    assert page.count("<script>") == 1
    data = (tmp_path / "out" / "report" / "report.csv").read_bytes().decode("utf-8-sig")
    assert '"<script>alert(1)</script>""&\\nX"' in data and data.count("\r\n") == len(example_fleet.RESULTS) + 2


def test_a_missing_results_folder_exits_2(example, tmp_path, capsys):
    capsys.readouterr()
    assert cli.main(["report", "-c", str(example / "mdegen.yaml"), str(tmp_path / "none"), "-o", str(tmp_path)]) == 2
    assert "no such folder" in capsys.readouterr().err


# --- what the review of the first version found ----------------------------------------------------

def _variant(results, name, **changes):
    doc = json.loads((results / "FAKE-WEB01.json").read_text(encoding="utf-8"))
    doc.update(changes)
    (results / name).write_text(json.dumps(doc), encoding="utf-8")
    return doc


def test_results_that_follow_the_schema_but_not_the_script_are_skipped(example, tmp_path, capsys):
    results = example / "results"
    _variant(results, "a.json", time="2026-13-45T99:99:99Z")
    _variant(results, "b.json", time="2026-01-15T09:30:00Z\n")
    _variant(results, "c.json", result="fail", exitCode=1)
    doc = _variant(results, "d.json")
    doc["checks"][2].update(status="fail", observed="\u00b2")
    doc.update(result="fail", exitCode=1)
    (results / "d.json").write_text(json.dumps(doc), encoding="utf-8")
    (results / "e.json").write_text(json.dumps({**doc, "exitCode": 123456789}).replace("123456789", "9" * 5000),
                                    encoding="utf-8")
    _variant(results, "f.JSON", computer="ODD\ud800\uffff\u202eX")
    capsys.readouterr()
    assert _report(example, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert "a.json: skipped: not a result as Test-MdeOnboarding.ps1 writes it: time '2026-13-45T99:99:99Z'" in err
    assert "b.json: skipped: not a result of schema version 1: time:" in err
    assert "c.json: skipped: not a result as Test-MdeOnboarding.ps1 writes it: exitCode 1 is not the sum" in err
    assert "d.json" not in err and "e.json: skipped" in err
    page = (tmp_path / "out" / "report" / "report.html").read_text(encoding="utf-8")
    assert "ODD\\ud800\\uffff\\u202eX" in page
    summary = json.loads((tmp_path / "out" / "report" / "report.json").read_text(encoding="utf-8"))
    assert summary["servers"] == len(example_fleet.RESULTS) + 1       # ODD...; d.json is FAKE-WEB01 again


def test_results_and_inventory_meet_by_netbios_name(example, tmp_path, capsys):
    results = example / "results"
    doc = json.loads((results / "FAKE-WEB02.json").read_text(encoding="utf-8"))
    (results / "FAKE-WEB02.json").write_text(json.dumps({**doc, "computer": "fake-web02.contoso.example$",
                                                         "target": "Server 2008 R2"}), encoding="utf-8")
    capsys.readouterr()
    assert _report(example, tmp_path / "out", "--inventory", str(example / "inventory.csv")) == 0
    rows = (tmp_path / "out" / "report" / "report.csv").read_text(encoding="utf-8-sig").splitlines()
    web02 = [r for r in rows if "web02" in r.lower()]
    assert len(web02) == 1 and '"Servers","onboarded"' in web02[0] and "the plan puts it in 'Servers'" in web02[0]


def test_state_colours_do_not_depend_on_which_states_occur(example, tmp_path):
    from generator import pages

    results = example / "results"
    for path in results.iterdir():
        if json.loads(path.read_text(encoding="utf-8"))["result"] == "pass":
            path.unlink()
    assert _report(example, tmp_path / "out") == 0
    page = (tmp_path / "out" / "report" / "report.html").read_text(encoding="utf-8")
    assert f'fill="{pages.GOOD}"' not in page and f'fill="{pages.BAD}"' in page


def test_a_folder_without_results_says_so(example, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    capsys.readouterr()
    assert cli.main(["report", "-c", str(example / "mdegen.yaml"), str(tmp_path / "empty"), "-o", str(tmp_path)]) == 0
    assert "no result files (*.json)" in capsys.readouterr().err
