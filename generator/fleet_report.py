"""`mdegen report`: the verification results of a fleet as one state per server, per target.

Reads a folder of the JSON documents Test-MdeOnboarding.ps1 writes (``<computer>.json`` on a
results share), checks each against the result schema (generator/verification.py), and gives each
server one state, the first that applies:

* ``stale``: its newest result is older than ``stale_days`` before the report's date (the newest
  result's day unless given: never the clock), so what it says may no longer hold;
* ``other tenant``: it reports to another organisation (the org_id check failed);
* ``failed``: a tenant, sensor, agent or connectivity check failed (not onboarded, the sensor does
  not run ...), with the onboarding script's error id and its meaning where the result has one;
* ``wrong antivirus mode``: Defender Antivirus runs in another mode than the configured passive mode;
* ``tagged wrong``: the device tag is not the configured one;
* ``onboarded``: every check passed or did not apply;
* for results of ``-Expect Offboarded``: ``offboarded`` or ``still onboarded``;
* with an inventory, ``never reported``: a computer the plan covers that has no result.

A file that is not JSON or not a result is named and skipped (a warning), never fatal: one broken
upload must not hide the fleet. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from generator import payloads, verification
from generator.formats.csv_table import visible

DEFAULT_STALE_DAYS = 7
STATES = ("onboarded", "failed", "wrong antivirus mode", "tagged wrong", "other tenant", "stale", "never reported",
          "offboarded", "still onboarded")
GOOD_STATES = frozenset({"onboarded", "offboarded"})
COLUMNS = ("Name", "Target", "State", "Time", "Release", "Agent", "ExitCode", "FailedChecks", "WhatToDo")
NO_TARGET = "(no target)"

# What to do when a check fails, by check id (the ids are the result schema's contract).
ADVICE = {
    "onboarding_state": "not onboarded: run the target's onboarding payload again and read its exit code in the "
                        "kit's handoff",
    "org_id": "onboarded to another organisation: offboard it with that tenant's offboarding script, then onboard it "
              "with this release",
    "script_event": "the onboarding script failed: see the error id's meaning, fix it, run the payload again",
    "onboarding_value": "the onboarding policy value is still there after offboarding: unlink the onboarding GPO "
                        "(or remove the package's deployment), then offboard again",
    "sense_service": "the Sense service does not run (or still starts after offboarding): check the agent is "
                     "installed, restart, run the payload again",
    "sense_connectivity": "the sensor cannot reach the Defender cloud: check the proxy and the firewall for the "
                          "service URLs",
    "defender_service": "Defender Antivirus is missing or stopped: on 2016 install the feature, elsewhere check "
                        "that no policy disables it",
    "running_mode": "Defender Antivirus runs in another mode than configured: check ForceDefenderPassiveMode "
                    "(gpresult /h) and restart the server",
    "passive_policy": "the passive-mode policy value is not the configured one: check the GPO applies (gpresult /h)",
    "passive_event": "the sensor reports another running mode, or an error setting it: restart the server, "
                     "then verify again",
    "prerequisites": "a down-level prerequisite is missing: run Test-MdePrerequisites.ps1 from the down-level kit",
    "device_tag": "the device tag is not the configured one: check the GPO's DeviceTagging value applies",
    "agent": "the down-level agent is missing or reports a failure: run its installer again and read its log",
}
EVENT_MEANINGS = dict(payloads.PORTAL_ONBOARDING_EXIT_CODES)
_FAILING_CLASSES = {"tenant", "sensor", "agent", "connectivity"}
_CLASS_NAME = {c.bit: c.name for c in verification.CLASSES}
_BIT_OF_CHECK = {check: {c.name: c.bit for c in verification.CLASSES}[cls] for check, cls in verification.CHECKS}


@dataclass(frozen=True)
class ServerState:
    name: str
    target: str
    state: str
    time: str                       # the result's time, '' when never reported
    release: str
    agent: str
    exit_code: int | None
    failed: tuple[dict, ...]        # the failed checks as the result has them
    advice: tuple[str, ...]         # what to do, one line per failed check
    file: str                       # the result's file name

    def cells(self) -> dict[str, str]:
        return {"Name": self.name, "Target": self.target, "State": self.state, "Time": self.time,
                "Release": self.release, "Agent": self.agent,
                "ExitCode": "" if self.exit_code is None else str(self.exit_code),
                "FailedChecks": "; ".join(f"{c['id']}: {c['detail']}" for c in self.failed),
                "WhatToDo": "; ".join(self.advice)}


@dataclass
class Report:
    organization: str
    release: str
    results: str                    # the results folder's name
    as_of: dt.date | None
    stale_days: int
    servers: list[ServerState]
    skipped: list[tuple[str, str]] = field(default_factory=list)     # (file, why)
    inventory: str | None = None

    def summary(self) -> dict:
        per_target: dict[str, Counter] = {}
        for s in self.servers:
            per_target.setdefault(s.target, Counter())[s.state] += 1
        totals = Counter(s.state for s in self.servers)
        return {
            "organization": self.organization, "release": self.release, "results": self.results,
            "inventory": self.inventory, "as_of": self.as_of.isoformat() if self.as_of else None,
            "stale_days": self.stale_days, "servers": len(self.servers),
            "states": {state: totals[state] for state in STATES if totals[state]},
            "targets": [{"target": t, "servers": sum(c.values()),
                         "states": {state: c[state] for state in STATES if c[state]}}
                        for t, c in sorted(per_target.items())],
            "skipped": [{"file": f, "why": why} for f, why in self.skipped],
        }


def _consistency(doc: dict) -> str | None:
    """What makes a result that follows the schema still not one the script wrote, or None."""
    try:
        _time(doc)
    except ValueError:
        return f"time {doc['time']!r} is not a date"
    for check in doc["checks"]:
        if check["class"] != _BIT_OF_CHECK[check["id"]]:
            return f"check {check['id']} has class {check['class']}, not {_BIT_OF_CHECK[check['id']]}"
    failed = 0
    for check in doc["checks"]:
        if check["status"] == "fail":
            failed |= check["class"]
    if doc["exitCode"] & ~verification.SCRIPT_FAILED_EXIT != failed:
        return f"exitCode {doc['exitCode']} is not the sum of the failed checks' classes ({failed})"
    if (doc["result"] == "pass") != (doc["exitCode"] == 0):
        return f"result {doc['result']!r} does not agree with exitCode {doc['exitCode']}"
    return None


def read_results(folder: Path) -> tuple[list[tuple[str, dict]], list[tuple[str, str]]]:
    """(file name, result) of every valid result in ``folder`` (its .json files, by name), and
    (file name, why) of each file that is skipped."""
    from generator.errors import InventoryError

    if not folder.is_dir():
        raise InventoryError(f"{folder}: no such folder: give the folder the results were collected in")
    good, skipped = [], []
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file()),
                   key=lambda p: (p.name.lower(), p.name))
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            skipped.append((path.name, f"cannot be read ({exc.strerror or exc})"))
            continue
        try:
            text = raw.decode("utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.decode("utf-8-sig")
            doc = json.loads(text)
        except UnicodeDecodeError as exc:
            skipped.append((path.name, f"not UTF-8 text (byte {exc.start})"))
            continue
        except RecursionError:
            skipped.append((path.name, "nested deeper than a result is"))
            continue
        except json.JSONDecodeError as exc:
            skipped.append((path.name, f"line {exc.lineno}: not JSON ({exc.msg})"))
            continue
        except ValueError:
            skipped.append((path.name, "not JSON as the script writes it (a number too long)"))
            continue
        problems = verification.result_problems(doc)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            skipped.append((path.name, f"not a result of schema version {verification.SCHEMA_VERSION}: "
                                       f"{problems[0]}{more}"))
            continue
        odd = _consistency(doc)
        if odd:
            skipped.append((path.name, f"not a result as Test-MdeOnboarding.ps1 writes it: {odd}"))
            continue
        good.append((path.name, doc))
    return good, skipped


def host_name(name: str) -> str:
    """The name a result and an inventory row are matched by: the NetBIOS name, without a
    domain or the computer account's $, ignoring case."""
    return name.strip().rstrip("$").split(".")[0].casefold()


def _state(doc: dict) -> tuple[str, list[dict], list[str]]:
    failed = [c for c in doc["checks"] if c["status"] == "fail"]
    advice = []
    for c in failed:
        line = ADVICE[c["id"]]
        observed = c["observed"]
        if c["id"] == "script_event" and observed.isascii() and observed.isdigit() and len(observed) < 6 \
                and int(observed) in EVENT_MEANINGS:
            line = f"error id {c['observed']}: {EVENT_MEANINGS[int(c['observed'])]}; {line}"
        advice.append(line)
    if doc["expect"] == "Offboarded":
        return ("offboarded" if doc["result"] == "pass" else "still onboarded"), failed, advice
    classes = {_CLASS_NAME[c["class"]] for c in failed}
    if any(c["id"] == "org_id" for c in failed):
        return "other tenant", failed, advice
    if classes & _FAILING_CLASSES:
        return "failed", failed, advice
    if "antivirus" in classes:
        return "wrong antivirus mode", failed, advice
    if "tag" in classes:
        return "tagged wrong", failed, advice
    return "onboarded", failed, advice


def _time(doc: dict) -> dt.datetime:
    return dt.datetime.strptime(doc["time"], "%Y-%m-%dT%H:%M:%SZ")


def report(project, results: list[tuple[str, dict]], skipped: list[tuple[str, str]], *, results_name: str,
           plan=None, stale_days: int = DEFAULT_STALE_DAYS, as_of: dt.date | None = None) -> Report:
    """One state per server of ``results`` (the newest result per computer name), and with a
    ``plan`` (fleet_plan.Plan) the covered computers that never reported. Where the plan knows the
    computer, its target is the plan's (the result names the one it was run for)."""
    from generator.fleet_plan import reference_day

    newest: dict[str, tuple[str, dict]] = {}
    for name, doc in results:
        key = host_name(doc["computer"])
        if key not in newest or _time(doc) > _time(newest[key][1]):
            newest[key] = (name, doc)
    if as_of is None:
        as_of = reference_day([_time(doc).date() for _, doc in newest.values()], 30)
    planned = {host_name(r.computer.name): r for r in plan.rows if r.covered} if plan is not None else {}
    servers = []
    for key, (file, doc) in sorted(newest.items()):
        state, failed, advice = _state(doc)
        if as_of is not None and (as_of - _time(doc).date()).days > stale_days:
            state, advice = "stale", [f"the newest result is from {doc['time'][:10]}: run the verification again"]
        target = doc["target"] or NO_TARGET
        if key in planned:
            if doc["target"] and doc["target"] != planned[key].target:
                advice = [*advice, f"the result was run for target '{doc['target']}', the plan puts it in "
                                   f"'{planned[key].target}': run the verification with that target's parameters"]
            target = planned[key].target
        if doc["release"] and doc["release"] != project.release_version:
            advice = [*advice, f"verified against release {doc['release']}, this is release "
                               f"{project.release_version}: verify again with this release's parameters"]
        servers.append(ServerState(doc["computer"], target, state, doc["time"], doc["release"], doc["agent"],
                                   doc["exitCode"], tuple(failed), tuple(advice), file))
    for key, row in sorted(planned.items()):
        if key not in newest:
            servers.append(ServerState(row.computer.name, row.target, "never reported", "", "", row.agent, None, (),
                                       ("no result: check that the GPO or deployment reaches it and that the "
                                        "verification task ran",), ""))
    servers.sort(key=lambda s: (s.target.casefold(), s.name.casefold(), s.name))
    return Report(project.organization, project.release_version, results_name, as_of, stale_days, servers,
                  list(skipped), plan.inventory if plan is not None else None)


def format_summary(r: Report) -> str:
    s = r.summary()
    lines = [f"report: {s['servers']} servers from {visible(r.results)}"
             + (f" and {visible(r.inventory)}" if r.inventory else "")
             + (f", stale = no result within {r.stale_days} days of {s['as_of']}" if s["as_of"] else "")]
    for t in s["targets"]:
        states = ", ".join(f"{n} {state}" for state, n in t["states"].items())
        lines.append(f"  {visible(t['target'])}: {t['servers']} ({states})")
    lines += [f"  skipped {visible(f)}: {visible(why)}" for f, why in r.skipped]
    return "\n".join(lines) + "\n"
