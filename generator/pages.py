"""The HTML pages of `mdegen plan` and `mdegen report`: one self-contained file each.

The pages are opened offline on admin workstations, so they load nothing: styles, the script and
the charts (inline SVG) are in the file, and a Content-Security-Policy with the hashes of the one
style and the one script forbids everything else (a value that slipped through could still not
fetch or run anything). Every value is a text node or an attribute of an lxml tree, so lxml escapes
it; control characters are written out (``\\n``). The table is readable without JavaScript; the
script only adds sorting (click a column's heading) and a filter box.

Same inputs, same bytes: no time stamp, sorted data, fixed layout.
"""

from __future__ import annotations

import base64
import hashlib

from lxml import etree, html
from lxml.html import builder as E

from generator.formats.csv_table import visible

STYLE = """
body { font: 14px/1.45 "Segoe UI", system-ui, sans-serif; margin: 24px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
p.meta { color: #555; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 10px 16px; min-width: 130px; }
.card .n { font-size: 26px; font-weight: 600; display: block; }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } th.sortable { cursor: pointer; } td.num { text-align: right; }
tr.bad td.state { color: #a4262c; font-weight: 600; } tr.good td.state { color: #107c10; }
ul.checks { margin: 0; padding-left: 18px; } tr.bad td.state, tr.good td.state { white-space: nowrap; }
input#filter { padding: 4px 8px; width: 320px; margin: 4px 0 8px; }
svg text { font: 12px "Segoe UI", system-ui, sans-serif; }
""".strip() + "\n"

SCRIPT = """
(function () {
  var table = document.getElementById('computers');
  var box = document.getElementById('filter');
  if (!table || !box) { return; }
  box.hidden = false;
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(function (w) { return w; });
    var rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].textContent.toLowerCase();
      rows[i].hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    }
  });
  var heads = table.tHead.rows[0].cells;
  for (var c = 0; c < heads.length; c++) {
    heads[c].className = 'sortable';
    heads[c].title = 'Sort';
    heads[c].addEventListener('click', (function (col) {
      return function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var down = table.getAttribute('data-sorted') === String(col);
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent, y = b.cells[col].textContent;
          var r = x.localeCompare(y, undefined, {numeric: true, sensitivity: 'base'});
          return down ? -r : r;
        });
        table.setAttribute('data-sorted', down ? '' : String(col));
        rows.forEach(function (r) { body.appendChild(r); });
      };
    })(c));
  }
})();
""".strip() + "\n"

SVG_NS = "http://www.w3.org/2000/svg"
GOOD, BAD = "#107c10", "#a4262c"
# One colour per state, whichever states a page shows: green is good on every page.
STATE_COLOURS = {"onboarded": GOOD, "failed": BAD, "wrong antivirus mode": "#ca5010", "tagged wrong": "#8764b8",
                 "other tenant": "#0078d4", "stale": "#986f0b", "never reported": "#5c5c5c", "offboarded": "#038387",
                 "still onboarded": "#c239b3"}
REASON_PALETTE = (BAD, "#ca5010", "#8764b8", "#0078d4", "#986f0b", "#5c5c5c", "#038387", "#c239b3", "#4f6bed",
                  "#7a7574", "#e3008c")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def text(value: object) -> str:
    """A value as the page shows it: control characters written out."""
    return visible("" if value is None else str(value))


def cards(items: list[tuple[str, int, str]]) -> etree._Element:
    """Big counts: (label, count, key); ``data-count`` carries the key for tools and tests."""
    return E.DIV(*[E.DIV(E.SPAN(str(n), E.CLASS("n"), **{"data-count": key}), text(label), E.CLASS("card"))
                   for label, n, key in items], E.CLASS("cards"))


def table(columns: list[str], rows: list[list[object]], *, table_id: str | None = None,
          row_classes: list[str] | None = None, numeric: set[int] | frozenset[int] = frozenset(),
          state_column: int | None = None) -> etree._Element:
    """A table; a cell is text (escaped) or an lxml element built by the caller."""
    body = []
    for i, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            td = E.TD(value) if isinstance(value, etree._Element) else E.TD(text(value))
            if c in numeric:
                td.set("class", "num")
            elif c == state_column:
                td.set("class", "state")
            cells.append(td)
        tr = E.TR(*cells)
        if row_classes:
            tr.set("class", row_classes[i])
        body.append(tr)
    t = E.TABLE(E.THEAD(E.TR(*[E.TH(text(c)) for c in columns])), E.TBODY(*body))
    if table_id:
        t.set("id", table_id)
    return t


def filter_box() -> etree._Element:
    """The filter box: hidden until the script runs (without JavaScript the table is all there is)."""
    return E.INPUT(id="filter", type="search", placeholder="Filter: type words of any column", hidden="hidden")


def bar_chart(title: str, groups: list[tuple[str, list[tuple[str, int]]]], states: list[str],
              colours: dict[str, str]) -> etree._Element:
    """A horizontal stacked bar per group (e.g. per target), one colour per state, with a legend.
    Drawn as inline SVG with presentation attributes (no style attribute: the policy forbids them)."""
    width, label_w, bar_w, row_h = 760, 230, 470, 26
    legend_h = 22 * ((len(states) + 3) // 4)
    height = 30 + row_h * max(len(groups), 1) + legend_h + 10
    svg = etree.Element("svg", xmlns=SVG_NS, viewBox=f"0 0 {width} {height}", width=str(width), height=str(height),
                        role="img")
    svg.set("aria-label", title)
    etree.SubElement(svg, "title").text = text(title)
    colour = colours
    most = max([sum(n for _, n in parts) for _, parts in groups] + [1])
    for row, (label, parts) in enumerate(groups):
        y = 20 + row * row_h
        t = etree.SubElement(svg, "text", x="0", y=str(y + 15))
        t.text = text(label if len(label) <= 34 else label[:33] + "…")
        x = float(label_w)
        for state, n in parts:
            if n <= 0:
                continue
            w = bar_w * n / most
            rect = etree.SubElement(svg, "rect", x=f"{x:.1f}", y=str(y), width=f"{w:.1f}", height="18",
                                    fill=colour[state])
            etree.SubElement(rect, "title").text = text(f"{label}: {state}: {n}")
            x += w
        total = etree.SubElement(svg, "text", x=f"{x + 6:.1f}", y=str(y + 15))
        total.text = str(sum(n for _, n in parts))
    legend_y = 30 + row_h * max(len(groups), 1)
    for i, state in enumerate(states):
        lx, ly = (i % 4) * 190, legend_y + (i // 4) * 22
        etree.SubElement(svg, "rect", x=str(lx), y=str(ly), width="14", height="14", fill=colour[state])
        etree.SubElement(svg, "text", x=str(lx + 20), y=str(ly + 12)).text = text(state)
    return svg


def page(title: str, meta: str, *sections: etree._Element) -> bytes:
    """The whole page, UTF-8, LF line ends, with its Content-Security-Policy."""
    policy = (f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; img-src data:; "
              "base-uri 'none'; form-action 'none'")
    style = E.STYLE(STYLE)
    script = E.SCRIPT(SCRIPT)
    doc = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.META(**{"http-equiv": "Content-Security-Policy", "content": policy}),
               E.META(name="viewport", content="width=device-width, initial-scale=1"),
               E.TITLE(text(title)), style),
        E.BODY(E.H1(text(title)), E.P(text(meta), E.CLASS("meta")), *sections, script),
        lang="en")
    out = html.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode", pretty_print=True)
    return out.replace("\r\n", "\n").encode("utf-8")


# --- the plan's page -------------------------------------------------------------------------------


def plan_page(plan) -> bytes:
    from generator import fleet_plan

    s = plan.summary()
    meta = (f"{plan.organization}, release {plan.release}. Inventory {plan.inventory} ({plan.inventory_kind}): "
            f"{s['computers']} computers" + (f", inactive = no logon within {plan.inactive_days} days of "
                                             f"{s['as_of']}" if s["as_of"] else "") + ". Generated by mdegen.")
    targets = sorted({r.target for r in plan.rows if r.covered})
    groups = [(t, [("covered", sum(1 for r in plan.rows if r.covered and r.target == t))]) for t in targets]
    reasons = [r["reason"] for r in s["reasons"]]
    groups.append(("not covered", [(code, sum(1 for r in plan.rows if not r.covered and r.reason_code == code))
                                   for code in reasons]))
    rows = [[r.cells()[c] for c in fleet_plan.COLUMNS] for r in plan.rows]
    return page(
        f"Defender for Endpoint rollout plan: {plan.organization}", meta,
        cards([("computers", s["computers"], "computers"), ("covered", s["covered"], "covered"),
               ("not covered", s["not_covered"], "not_covered")]),
        E.H2("Per target and per reason"),
        bar_chart("Computers per target, and those not covered per reason", groups, ["covered", *reasons],
                  {"covered": GOOD, **{code: REASON_PALETTE[i % len(REASON_PALETTE)]
                                       for i, code in enumerate(fleet_plan.REASONS)}}),
        table(["target", "route", "computers"], [[t["target"], t["route"], t["computers"]] for t in s["targets"]],
              numeric={2}),
        table(["not covered because", "what it means", "computers"],
              [[r["reason"], r["meaning"], r["computers"]] for r in s["reasons"]], numeric={2}),
        E.H2("Every computer"),
        filter_box(),
        table(list(fleet_plan.COLUMNS), rows, table_id="computers",
              row_classes=["good" if r.covered else "bad" for r in plan.rows],
              state_column=fleet_plan.COLUMNS.index("Covered")),
    )


# --- the report's page -----------------------------------------------------------------------------


def _slug(state: str) -> str:
    return state.replace(" ", "_")


def _items_list(lines: list[str]) -> etree._Element | str:
    return E.UL(*[E.LI(text(line)) for line in lines], E.CLASS("checks")) if lines else ""


def report_page(report) -> bytes:
    from generator import fleet_report

    s = report.summary()
    states = [state for state in fleet_report.STATES if s["states"].get(state)]
    meta = (f"{report.organization}, release {report.release}. Results from {report.results}"
            + (f", expected servers from {report.inventory}" if report.inventory else "")
            + f": {s['servers']} servers" + (f", stale = no result within {report.stale_days} days of {s['as_of']}"
                                              if s["as_of"] else "") + ". Generated by mdegen.")
    groups = [(t["target"], [(state, t["states"].get(state, 0)) for state in states]) for t in s["targets"]]
    per_target = [[t["target"], *[t["states"].get(state, 0) for state in states], t["servers"]] for t in s["targets"]]
    rows = []
    for server in report.servers:
        c = server.cells()
        rows.append([c["Name"], c["Target"], c["State"], c["Time"], c["Release"], c["Agent"], c["ExitCode"],
                     _items_list([f"{x['id']}: {x['detail']}" for x in server.failed]),
                     _items_list(list(server.advice))])
    sections = [
        cards([("servers", s["servers"], "servers")] + [(state, s["states"][state], _slug(state)) for state in states]),
        E.H2("Per target"),
        bar_chart("Servers per target and state", groups, states, STATE_COLOURS),
        table(["target", *states, "servers"], per_target, numeric=set(range(1, len(states) + 2))),
    ]
    if report.skipped:
        sections += [E.H2("Files skipped"),
                     table(["file", "why"], [[f, why] for f, why in report.skipped])]
    sections += [
        E.H2("Every server"),
        filter_box(),
        table(["name", "target", "state", "time (UTC)", "release", "agent", "exit code", "failed checks",
               "what to do"], rows, table_id="computers",
              row_classes=["good" if x.state in fleet_report.GOOD_STATES else "bad" for x in report.servers],
              state_column=2),
    ]
    return page(f"Defender for Endpoint fleet report: {report.organization}", meta, *sections)
