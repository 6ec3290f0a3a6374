"""`mdegen plan`: which computer of an inventory each target and route will reach, and which not.

For every computer the plan decides, in this order:

1. a disabled account (or a ConfigMgr device marked obsolete or inactive) is left out;
2. an account with no logon within ``inactive_days`` of the plan's date is left out (the date is
   the newest logon in the inventory unless given: the export's own time, never the clock);
3. a computer that is no Windows, or a workstation, is left out;
4. the targets whose WMI filter matches it (the same rule as the generated WQL:
   ``targeting.matches``) and the VDI pools whose ``ou`` holds it: exactly one covers it; two or
   more leave it out, because it would be onboarded twice;
5. with none: a multi-session host, a release no route onboards (Server 2012, 2008, 2003), a
   down-level release no target with an agent lists, or a release or server role no target lists.

Nothing here prints; ``format_summary`` renders the console summary, ``csv_bytes`` plan.csv and
``generator.pages`` plan.html.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from generator import cm_route, releases, targeting
from generator.errors import ConfigError
from generator.formats.csv_table import visible
from generator.inventory import UNSUPPORTED_BUILDS, Computer, Inventory

DEFAULT_INACTIVE_DAYS = 90
COLUMNS = ("Name", "DNSHostName", "OperatingSystem", "OperatingSystemVersion", "Release", "Role",
           "Target", "Route", "Agent", "Payload", "Covered", "Reason")

PAYLOADS = {None: "the portal's onboarding script",
            releases.DEFENDERDT: "DefenderDT.exe with the .onboarding file",
            releases.UNIFIED: "md4ws.msi and install.ps1 through Install-MdeUnifiedAgent.ps1",
            releases.MMA: "the Microsoft Monitoring Agent through Install-MdeMma.ps1"}
VDI_PAYLOADS = {"single": "Onboard-NonPersistentMachine.ps1 at each start (one device per name)",
                "multiple": "the VDI onboarding script at each start (a device per boot)"}

# Reason codes: the summary counts by them; the text says what to do.
REASONS = {
    "disabled": "the account is disabled",
    "inactive": "no logon for a long time",
    "not-windows": "not Windows",
    "no-build": "no build number, product type or SKU in the inventory",
    "workstation": "a workstation: no server target or pool covers it",
    "multi-session": "a Windows 10/11 Enterprise multi-session host: server filters exclude it",
    "unsupported": "a release no Defender for Endpoint route onboards",
    "unknown-build": "a build not in mdegen's release table",
    "no-agent-target": "a down-level release that no target with an agent lists",
    "no-target": "no target lists its release and role",
    "two-routes": "matched by two targets or pools",
}


@dataclass(frozen=True)
class PlanRow:
    computer: Computer
    release: str                    # "Windows Server 2019" ('' when not known)
    target: str                     # the target or VDI pool ('' when not covered)
    route: str                      # "GPO or SCCM package", "GPO or SCCM policy", "VDI (golden image)" ...
    agent: str                      # defenderdt, unified, mma, '' (none needed)
    payload: str
    covered: bool
    reason_code: str                # '' when covered
    reason: str                     # what it means and what to do
    filter_targets: tuple[str, ...]  # the targets whose WMI filter matches the computer

    def cells(self) -> dict[str, str]:
        c = self.computer
        return {"Name": c.name, "DNSHostName": c.dns_host_name, "OperatingSystem": c.operating_system,
                "OperatingSystemVersion": c.operating_system_version, "Release": self.release, "Role": c.role,
                "Target": self.target, "Route": self.route, "Agent": self.agent, "Payload": self.payload,
                "Covered": "yes" if self.covered else "no", "Reason": self.reason}


@dataclass(frozen=True)
class Plan:
    organization: str
    release: str                    # the config's release version
    inventory: str                  # the inventory file's name
    inventory_kind: str             # Active Directory | ConfigMgr
    as_of: dt.date | None
    inactive_days: int
    routes: tuple[str, ...]         # the routes the config gives targets: GPO, SCCM
    rows: tuple[PlanRow, ...]
    notes: tuple[str, ...] = ()     # what the reader of the plan should know about the inventory

    def summary(self) -> dict:
        """Counts per target and route, and per reason left out (the --json summary, and the page's)."""
        covered = [r for r in self.rows if r.covered]
        per_target = Counter((r.target, r.route) for r in covered)
        per_reason = Counter(r.reason_code for r in self.rows if not r.covered)
        return {
            "organization": self.organization, "release": self.release, "inventory": self.inventory,
            "inventory_kind": self.inventory_kind, "as_of": self.as_of.isoformat() if self.as_of else None,
            "inactive_days": self.inactive_days, "computers": len(self.rows), "covered": len(covered),
            "not_covered": len(self.rows) - len(covered),
            "targets": [{"target": t, "route": route, "computers": n} for (t, route), n in sorted(per_target.items())],
            "reasons": [{"reason": code, "meaning": REASONS[code], "computers": per_reason[code]}
                        for code in REASONS if per_reason[code]],
            "notes": list(self.notes),
        }


def _release_label(c: Computer) -> str:
    if c.build is None:
        return ""
    if c.build in UNSUPPORTED_BUILDS and c.product_type != releases.WORKSTATION:
        return UNSUPPORTED_BUILDS[c.build]
    if c.product_type == releases.WORKSTATION or c.multi_session:
        return ""
    candidates = [r for r in releases.RELEASES if c.build in r.builds]
    for r in candidates:
        if r.short.lower() in c.operating_system.lower():
            return r.name
    return candidates[0].name if candidates else ""


def _pool_holds(ou: str | None, dn: str) -> bool:
    if not ou or not dn:
        return False
    dn, ou = dn.casefold().replace(", ", ","), ou.casefold().replace(", ", ",")
    return dn.endswith("," + ou)


def _not_covered(c: Computer, release: str, code: str, text: str, matched: tuple[str, ...]) -> PlanRow:
    return PlanRow(c, release, "", "", "", "", False, code, text, matched)


def reference_day(days: list[dt.date], slack: int) -> dt.date | None:
    """The day an export or a set of results was made, from its own dates: the newest one, leaving
    out those more than ``slack`` days after the median (a clock set years ahead on one machine
    must not make every other one look old)."""
    if not days:
        return None
    ordered = sorted(days)
    median = ordered[(len(ordered) - 1) // 2]
    return max(d for d in ordered if (d - median).days <= slack)


def plan(project, inventory: Inventory, *, inventory_name: str, inactive_days: int = DEFAULT_INACTIVE_DAYS,
         as_of: dt.date | None = None) -> Plan:
    """The plan of the ``inventory``'s computers for the resolved ``project`` (its targets, share and
    VDI pools). Without a date column in the export, no account counts as inactive."""
    computers, notes = _one_record_each(inventory.computers)
    if not inventory.dated:
        as_of = None
    elif as_of is None:
        as_of = reference_day([c.last_logon.date() for c in computers if c.last_logon is not None], 365)
        ahead = sum(1 for c in computers if c.last_logon is not None and c.last_logon.date() > as_of)
        if ahead:
            notes.append(f"{ahead} logon date(s) lie more than a year after most others (a clock ahead?) and "
                         f"were not used for the plan's date, {as_of.isoformat()}")
    routes = tuple(r for r, present in (("GPO", project.config.share is not None), ("SCCM", True)) if present)
    try:
        cm_routes = {name: f"SCCM {c.route}" for name, c in cm_route.routes(project).items()}
    except ConfigError as exc:
        cm_routes = {}
        notes.append(f"the SCCM kit refuses this config's routes ({exc}); the plan says SCCM without the route")
    route_text = {t.name: " or ".join(cm_routes.get(t.name, r) if r == "SCCM" else r for r in routes)
                  for t in project.targets}
    pools = list(project.config.vdi.pools) if project.config.vdi else []
    if inventory.kind == "ConfigMgr" and any(p.ou for p in pools):
        notes.append("a ConfigMgr export holds no OU, so no computer is recognised as a VDI pool's: plan with "
                     "the Active Directory export to see the pools")
    down_level = {b for r in releases.RELEASES if r.agents for b in r.builds}
    listed = {b for t in project.targets for b in t.builds}
    rows = []
    for c in computers:
        release = _release_label(c)
        wmi = c.wmi()
        # A ConfigMgr device without OperatingSystemSKU in hardware inventory: its collection's
        # "OperatingSystemSKU <> 175" is not true (a missing value compares as unknown).
        matched = tuple(t.name for t in project.targets
                        if wmi and (wmi["OperatingSystemSKU"] is not None or not t.excluded_skus)
                        and targeting.matches(t, build=wmi["BuildNumber"], product_type=wmi["ProductType"],
                                              sku=wmi["OperatingSystemSKU"] or 0))
        in_pools = [p for p in pools if _pool_holds(getattr(p, "ou", None), c.distinguished_name)]
        if c.enabled is False:
            rows.append(_not_covered(c, release, "disabled", "the account is disabled (or the device is obsolete "
                                     "or inactive in ConfigMgr): enable it or remove it from the inventory", matched))
            continue
        if as_of is not None and (c.last_logon is None or (as_of - c.last_logon.date()).days > inactive_days):
            when = f"last logon {c.last_logon.date().isoformat()}" if c.last_logon else "never logged on"
            rows.append(_not_covered(c, release, "inactive", f"inactive: {when}, more than {inactive_days} days "
                                     f"before {as_of.isoformat()}; check that the computer still exists", matched))
            continue
        if not c.windows:
            what = f"'{c.operating_system}'" if c.operating_system else "no operating system"
            rows.append(_not_covered(c, release, "not-windows", f"not Windows ({what} in the inventory)", matched))
            continue
        if c.build is None or c.product_type is None:
            what = (f"no build number ('{c.operating_system_version}')" if c.build is None
                    else "no ProductType (no hardware inventory yet)")
            rows.append(_not_covered(c, release, "no-build", f"the inventory gives {what}: the filters and "
                                     "collections cannot match it until it reports one", matched))
            continue
        if c.product_type == releases.WORKSTATION and not in_pools:
            rows.append(_not_covered(c, release, "workstation", "a workstation (Windows client): onboard it with "
                                     "the portal's client methods, not with a server target", matched))
            continue
        hits = [("target", t) for t in project.targets if t.name in matched] + [("pool", p) for p in in_pools]
        if len(hits) > 1:
            names = " and ".join(f"{kind} '{x.name}'" for kind, x in hits)
            rows.append(_not_covered(c, release, "two-routes", f"matched by {names}: it would be onboarded twice; "
                                     "move it out of the pool's OU or out of the target's releases", matched))
            continue
        if hits:
            kind, x = hits[0]
            if kind == "target":
                rows.append(PlanRow(c, release, x.name, route_text[x.name], x.agent or "", PAYLOADS[x.agent], True, "", "",
                                    matched))
            else:
                route = "VDI (domain GPO)" if x.domain_gpo else "VDI (golden image)"
                rows.append(PlanRow(c, release, x.name, route, "", VDI_PAYLOADS[x.mode], True, "", "", matched))
            continue
        if c.sku is None and any(t.excluded_skus for t in project.targets if c.build in t.builds):
            rows.append(_not_covered(c, release, "no-build", "no OperatingSystemSKU in hardware inventory: the "
                                     "collection leaves it out until its hardware inventory reports one", matched))
        elif c.multi_session:
            rows.append(_not_covered(c, release, "multi-session", "a Windows 10/11 Enterprise multi-session host "
                                     "(OperatingSystemSKU 175): onboard it as VDI (a pool with its ou) or with the "
                                     "portal's client methods", matched))
        elif c.build in UNSUPPORTED_BUILDS:
            rows.append(_not_covered(c, release, "unsupported", f"{UNSUPPORTED_BUILDS[c.build]}: no Defender for "
                                     "Endpoint route onboards it; upgrade it", matched))
        elif not any(c.build in r.builds for r in releases.RELEASES):
            rows.append(_not_covered(c, release, "unknown-build", f"build {c.build} is not in mdegen's release table",
                                     matched))
        elif c.build in down_level and c.build not in listed:
            rows.append(_not_covered(c, release, "no-agent-target", f"{release or 'a down-level release'} needs an "
                                     "agent: add it to a target with agent: defenderdt, unified or mma", matched))
        else:
            what = release or f"build {c.build}"
            if c.product_type == releases.DOMAIN_CONTROLLER:
                advice = (f"no target covers {what} domain controllers: set domain_controllers (true, or only "
                          "for a target of their own) on a target that lists the release")
            else:
                advice = f"no target lists {what} member servers: add the release to a target's os"
            rows.append(_not_covered(c, release, "no-target", advice, matched))
    return Plan(project.organization, project.release_version, inventory_name, inventory.kind, as_of, inactive_days,
                routes, tuple(rows), tuple(notes))


def _one_record_each(computers: list[Computer]) -> tuple[list[Computer], list[str]]:
    """One record per computer name: ConfigMgr keeps a second record when a server is reinstalled
    (Active Directory never has two). The one active last is kept, else the later row."""
    kept: dict[str, Computer] = {}
    for c in computers:
        key = c.name.casefold()
        old = kept.get(key)
        if old is None or (c.last_logon or dt.datetime.min) >= (old.last_logon or dt.datetime.min):
            kept[key] = c
    twice = len(computers) - len(kept)
    if not twice:
        return list(computers), []
    chosen = {id(c) for c in kept.values()}
    return ([c for c in computers if id(c) in chosen],
            [f"{twice} record(s) repeat a computer name; each computer is planned once, from its record active last"])


def format_summary(p: Plan) -> str:
    s = p.summary()
    lines = [f"plan: {s['computers']} computers in {visible(p.inventory)} ({p.inventory_kind}), "
             f"{s['covered']} covered, {s['not_covered']} not"]
    if p.as_of:
        lines.append(f"  inactive: no logon within {p.inactive_days} days of {p.as_of.isoformat()}")
    lines.append("  covered, per target and route:")
    lines += [f"    {t['computers']:>5}  {visible(t['target'])}: {t['route']}" for t in s["targets"]] or ["    none"]
    lines.append("  not covered, per reason:")
    lines += [f"    {r['computers']:>5}  {r['reason']}: {r['meaning']}" for r in s["reasons"]] or ["    none"]
    lines += [f"  note: {n}" for n in p.notes]
    return "\n".join(lines) + "\n"
