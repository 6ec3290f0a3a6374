"""The plan's and the report's pages in real headless Chromium (issue 13): they render, load
nothing from anywhere, log no error (a Content-Security-Policy refusal of the page's own style or
script would be one), and show the counts of the --json summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import scenarios
from browser import Chromium, find_chromium, png_is_blank

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install "
                                                          "chromium; .ci/run installs it when it runs as root)")
EXAMPLE = scenarios.ROOT / "example"
# What the page says, read in the page: the counts (data-count), that the style applied (the
# policy allows it by its hash) and that the script ran (it shows the filter box).
PROBE = """JSON.stringify({
  counts: Object.fromEntries(Array.from(document.querySelectorAll('[data-count]'))
                                 .map(e => [e.dataset.count, Number(e.textContent)])),
  text: document.body.innerText.length,
  styled: getComputedStyle(document.querySelector('table')).borderCollapse,
  scripted: !document.getElementById('filter').hidden,
  rows: document.querySelectorAll('#computers tbody tr').length,
  svg: document.querySelectorAll('svg rect').length
})"""


@pytest.fixture(scope="module")
def browser():
    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


@pytest.mark.parametrize("page,summary,count_of", [
    ("plan/plan.html", "plan/plan.json",
     lambda s: {"computers": s["computers"], "covered": s["covered"], "not_covered": s["not_covered"]}),
    ("report/report.html", "report/report.json",
     lambda s: {"servers": s["servers"], **{k.replace(" ", "_"): v for k, v in s["states"].items()}}),
])
def test_the_example_pages_render_offline_and_count_right(page, summary, count_of, browser, tmp_path):
    path = EXAMPLE / page
    visit = browser.visit(path.as_uri(), PROBE)
    facts = json.loads(visit.value)
    assert visit.requests == [path.as_uri()], "the page loaded something besides itself"
    assert visit.console == [] and visit.errors == []
    assert facts["styled"] == "collapse" and facts["scripted"] is True
    assert facts["text"] > 500 and facts["svg"] > 3 and facts["rows"] > 10
    expected = count_of(json.loads((EXAMPLE / summary).read_text(encoding="utf-8")))
    assert facts["counts"] == expected
    assert not png_is_blank(visit.screenshot)
    keep = os.environ.get("MDEGEN_SCREENSHOTS")
    if keep:                                  # README's screenshot: MDEGEN_SCREENSHOTS=<folder> pytest ...
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / (Path(page).stem + ".png")).write_bytes(visit.screenshot)


def test_a_hostile_name_does_not_run(browser, tmp_path):
    from generator import cli

    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    results = tmp_path / "ex" / "results"
    doc = json.loads((results / "FAKE-WEB01.json").read_text(encoding="utf-8"))
    doc["computer"] = "<img src=x onerror=alert(1)><script>document.title='owned'</script>\"&\nX"
    (results / "HOSTILE.json").write_text(json.dumps(doc), encoding="utf-8")
    assert cli.main(["report", "-c", str(tmp_path / "ex" / "mdegen.yaml"), str(results),
                     "-o", str(tmp_path / "out")]) == 0
    page = tmp_path / "out" / "report" / "report.html"
    visit = browser.visit(page.as_uri(), "JSON.stringify({title: document.title, "
                          "imgs: document.images.length, text: document.body.innerText})")
    facts = json.loads(visit.value)
    assert facts["title"].startswith("Defender for Endpoint fleet report") and facts["imgs"] == 0
    # Shown as text (so not parsed as markup): no image element, the script text visible on the page.
    assert "<script>document.title" in facts["text"] and visit.requests == [page.as_uri()]
