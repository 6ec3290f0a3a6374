"""`mdegen diff OLD NEW`: what changed between two releases (or two kits), in an admin's terms.

Two levels, because a change request is reviewed at both:

* **changes**: what changed in the config and its input packages, read from each release's
  ``mdegen.yaml`` and ``manifest.json``: a setting, a target or VDI pool added or removed, a portal
  package with other facts (org id, version, expiry, hash). One edit of the config is one change,
  however many files it touches. Kit folders carry no config, so for them this list is empty.
* **kits**: what that does to each kit, decoded from the artifacts themselves: per GPO the policy
  values of registry.pol (ASR rules by name and mode), the immediate task's command and the
  account it runs as, startup scripts, the WMI filter it gets; per WMI filter its query; per SCCM
  package its programs' command lines and the hash of every source file, per collection its query;
  per other folder (the share, a down-level target's files) the hash of every file. Files no
  object reads (handoffs, the scripts' code) are listed by path when their bytes differ.

Two folders are the same only when no byte differs. Nothing here prints; ``format_text`` renders.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from generator.errors import MdegenError, OutputError
from generator.writer import GITATTRIBUTES_NAME, MANIFEST_NAME, SUMS_NAME, sha256_hex

IMPORT_SCRIPT = "Import-MdeGpo.ps1"
CM_SCRIPT = "New-MdeCmPackage.ps1"
CONFIG_NAME = "mdegen.yaml"
# mdegen's own bookkeeping: it changes whenever anything else does, so it is never reported.
_BOOKKEEPING = {MANIFEST_NAME, SUMS_NAME, GITATTRIBUTES_NAME}
# Folders read object by object; every other top-level folder of a kit is one "folder" object.
_READ_APART = {"GPOs", "WmiFilters", "packages"}
# Config keys that name the release (shown in the header) or whose facts come from the manifest.
_NOT_SETTINGS = {"version", "release", "packages"}
# The order objects are listed in, as an admin imports them.
_KIND_ORDER = {kind: n for n, kind in enumerate(("GPO", "WMI filter", "SCCM package", "collection",
                                                  "configuration baseline", "folder"))}
_ASR_MODES = {"0": "off", "1": "block", "2": "audit", "6": "warn"}


@dataclass(frozen=True)
class Change:
    """One change of the config or of its packages."""
    kind: str           # setting changed/added/removed, target added/removed, VDI pool added/removed,
    subject: str        # package changed/added/removed
    old: object = None
    new: object = None


@dataclass
class ItemChange:
    item: str
    old: str | None     # None: the item is new
    new: str | None     # None: the item is gone


@dataclass
class ObjectChange:
    kind: str           # GPO, WMI filter, SCCM package, collection, configuration baseline, folder
    name: str
    target: str | None
    status: str         # added, removed, changed
    items: list[ItemChange] = field(default_factory=list)


@dataclass
class KitChange:
    kit: str
    status: str         # added, removed, changed
    objects: list[ObjectChange] = field(default_factory=list)
    other_files: list[dict] = field(default_factory=list)      # {"path", "status"}


@dataclass
class Difference:
    old: dict
    new: dict
    changes: list[Change]
    kits: list[KitChange]

    @property
    def same(self) -> bool:
        return not self.changes and not self.kits

    def as_json(self) -> dict:
        return {"same": self.same, "old": self.old, "new": self.new,
                "changes": [asdict(c) for c in self.changes], "kits": [asdict(k) for k in self.kits]}


# --- reading one side ------------------------------------------------------------------------------


@dataclass
class _Object:
    kind: str
    name: str
    target: str | None
    items: dict[str, str]


@dataclass
class _Kit:
    name: str
    files: dict[str, str]                   # path: sha256 of the bytes on disk
    objects: dict[tuple[str, str], _Object]
    read: set[str]                          # the paths the objects were decoded from


@dataclass
class _Side:
    folder: Path
    about: dict                             # name, kit, organization, version, date
    config: dict | None
    packages: list[dict] | None
    kits: dict[str, _Kit]


def _manifest(folder: Path) -> dict:
    try:
        doc = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{folder}: not a release or kit folder of mdegen (no readable {MANIFEST_NAME}: "
                          f"{exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or doc.get("generator") != "mdegen" or not isinstance(doc.get("kit"), str):
        raise OutputError(f"{folder}: its {MANIFEST_NAME} is not one mdegen wrote")
    return doc


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256_hex(p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() and ".git" not in p.relative_to(folder).parts}


def _xml(data: bytes):
    from lxml import etree

    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _policy_items(data: bytes) -> dict[str, str]:
    from generator import policy
    from generator.formats import regpol

    items = {}
    for entry in regpol.entries_to_json(regpol.loads(data)):
        if entry["key"].lower() == policy.ASR_RULES_KEY.lower() and entry["special"] is None:
            rule = entry["name"].lower()
            title = policy.ASR_RULES.get(rule, "rule not in mdegen's table")
            mode = _ASR_MODES.get(str(entry["value"]), "unknown")
            items[f"ASR rule {rule} ({title})"] = f"{mode} ({entry['value']})"
            continue
        value = entry["value"]
        shown = "\\0".join(value) if isinstance(value, list) else str(value)
        what = entry["special"] or entry["type"]
        items[f"policy HKLM\\{entry['key']}\\{entry['name']}"] = f"{what} {shown}".rstrip()
    return items


def _gpo_objects(folder: Path, files: dict[str, str], records: dict[str, dict], read: set[str]):
    from generator.formats import gpp_tasks, gpscripts

    for path in files:
        parts = PurePosixPath(path).parts
        if len(parts) != 3 or parts[0] != "GPOs" or parts[2] != "bkupInfo.xml":
            continue
        backup = parts[1]
        prefix = f"GPOs/{backup}/"
        read.update(p for p in files if p.startswith(prefix))
        items: dict[str, str] = {}
        try:
            root = _xml((folder / path).read_bytes())
            name = "".join(root.xpath("//*[local-name()='GPODisplayName']/text()")) or backup
        except Exception as exc:        # lxml's errors: report, do not stop the diff
            name, items["does not parse"] = backup, f"bkupInfo.xml: {exc}"
        machine = folder / prefix / "DomainSysvol" / "GPO" / "Machine"
        try:
            if (machine / "registry.pol").is_file():
                items.update(_policy_items((machine / "registry.pol").read_bytes()))
            tasks = machine / "Preferences" / "ScheduledTasks" / "ScheduledTasks.xml"
            if tasks.is_file():
                for task in gpp_tasks.loads(tasks.read_bytes()):
                    items[f"task '{task['name']}' command"] = f"{task['command']} {task['arguments']}".strip()
                    items[f"task '{task['name']}' runs as"] = task["run_as"]
            for ini in ("scripts.ini", "psscripts.ini"):
                if (machine / "Scripts" / ini).is_file():
                    scripts = gpscripts.loads((machine / "Scripts" / ini).read_bytes())
                    for n, (cmd, params) in enumerate(scripts.startup):
                        items[f"startup script {n} ({ini})"] = f"{cmd} {params}".strip()
        except (MdegenError, ValueError) as exc:
            items["does not parse"] = str(exc).splitlines()[0]
        record = records.get(backup.upper()) or {}
        if record:
            items["WMI filter"] = record.get("WmiFilterName") or "none"
        yield _Object("GPO", name, record.get("TargetName"), items)


def _wmi_objects(folder: Path, files: dict[str, str], filter_targets: dict[str, str], read: set[str]):
    from generator.formats import wmi_mof

    for path in files:
        parts = PurePosixPath(path).parts
        if len(parts) != 2 or parts[0] != "WmiFilters" or not path.lower().endswith(".mof"):
            continue
        read.add(path)
        try:
            mof = wmi_mof.loads((folder / path).read_bytes())
        except (MdegenError, ValueError) as exc:
            yield _Object("WMI filter", path, None, {"does not parse": str(exc).splitlines()[0]})
            continue
        queries = [r["Query"] for r in mof.get("Rules", [])]
        yield _Object("WMI filter", mof["Name"], filter_targets.get(mof["Name"]),
                      {"query": " ; ".join(queries), "namespace": " ; ".join(r["TargetNameSpace"] for r in mof.get("Rules", []))})


def _sccm_objects(folder: Path, files: dict[str, str], records: list[dict], read: set[str]):
    from generator.formats import pdf_sms

    by_folder = {r.get("Folder"): r for r in records if isinstance(r, dict)}
    for package in sorted({PurePosixPath(p).parts[1] for p in files
                           if PurePosixPath(p).parts[0] == "packages" and len(PurePosixPath(p).parts) > 2}):
        prefix = f"packages/{package}/"
        sources = sorted(p for p in files if p.startswith(prefix))
        read.update(sources)
        record = by_folder.get(package, {})
        items: dict[str, str] = {}
        name = record.get("Name") or package
        for path in sources:
            if path.lower().endswith(".sms"):
                try:
                    sms = pdf_sms.loads((folder / path).read_bytes())
                except (MdegenError, ValueError) as exc:
                    items["does not parse"] = f"{PurePosixPath(path).name}: {str(exc).splitlines()[0]}"
                    continue
                definition = sms.get("Package Definition", {})
                name = definition.get("Name") or name
                for program in filter(None, (p.strip() for p in definition.get("Programs", "").split(","))):
                    items[f"program '{program}' command line"] = sms.get(program, {}).get("CommandLine", "")
            else:
                items[f"source {path[len(prefix):]}"] = f"sha256 {files[path]}"
        yield _Object("SCCM package", name, record.get("TargetName"), items)
        collection = record.get("Collection")
        if isinstance(collection, dict):
            yield _Object("collection", collection.get("Name", ""), record.get("TargetName"),
                          {"query": collection.get("Query", ""), "deploys": name})
        compliance = record.get("Compliance")
        if isinstance(compliance, dict):
            settings = [s.get("Name", "") for s in compliance.get("Settings") or [] if isinstance(s, dict)]
            yield _Object("configuration baseline", compliance.get("BaselineName", ""), record.get("TargetName"),
                          {"configuration item": compliance.get("CiName", ""), "settings": "; ".join(settings)})


def _script_data(folder: Path, name: str) -> dict:
    from generator.formats import ps_data

    path = folder / name
    if not path.is_file():
        return {}
    try:
        return ps_data.loads(path.read_bytes().decode("utf-8-sig"), ["Gpos", "WmiFilters", "Packages"])
    except (MdegenError, ValueError):
        return {}       # a damaged script: its bytes are reported as changed, and `mdegen verify` names it


def _read_kit(folder: Path, kit: str, target_stems: dict[str, str]) -> _Kit:
    files = _files(folder)
    read: set[str] = set()
    objects: list[_Object] = []
    gpo_data = _script_data(folder, IMPORT_SCRIPT)
    gpos = [r for r in gpo_data.get("Gpos") or [] if isinstance(r, dict)]
    records = {str(r.get("BackupId", "")).upper(): r for r in gpos}
    filter_targets = {r["WmiFilterName"]: r.get("TargetName") for r in gpos
                      if r.get("WmiFilterName") and r.get("Role") == "onboarding"}
    objects += _gpo_objects(folder, files, records, read)
    objects += _wmi_objects(folder, files, filter_targets, read)
    cm_data = _script_data(folder, CM_SCRIPT)
    objects += _sccm_objects(folder, files, cm_data.get("Packages") or [], read)
    for top in sorted({PurePosixPath(p).parts[0] for p in files if len(PurePosixPath(p).parts) > 1} - _READ_APART):
        inside = [p for p in files if PurePosixPath(p).parts[0] == top]
        read.update(inside)
        objects.append(_Object("folder", f"{top}/", target_stems.get(top),
                               {f"file {p[len(top) + 1:]}": f"sha256 {files[p]}" for p in inside}))
    keyed = {}
    for obj in objects:
        key = (obj.kind, obj.name)
        n = 2
        while key in keyed:              # two objects of one name: keep both, numbered
            key = (obj.kind, f"{obj.name} #{n}")
            n += 1
        keyed[key] = obj
    return _Kit(kit, files, keyed, read)


def _read_side(folder: Path) -> _Side:
    if not folder.is_dir():
        raise OutputError(f"{folder}: no such folder")
    manifest = _manifest(folder)
    release = manifest.get("release") if isinstance(manifest.get("release"), dict) else {}
    about = {"folder": str(folder), "kit": manifest["kit"], "organization": manifest.get("organization"),
             "version": release.get("version"), "date": release.get("date")}
    config = None
    if manifest["kit"] == "release":
        try:
            config = yaml.safe_load((folder / CONFIG_NAME).read_bytes())
        except (OSError, yaml.YAMLError) as exc:
            raise OutputError(f"{folder / CONFIG_NAME}: the release's config does not read: "
                              f"{str(exc).splitlines()[0]}") from None
        if not isinstance(config, dict):
            raise OutputError(f"{folder / CONFIG_NAME}: the release's config is not a mapping")
    from generator.project import file_stem

    stems = {}
    for target in (config or {}).get("targets") or []:
        if isinstance(target, dict) and isinstance(target.get("name"), str):
            stems[file_stem(target["name"])] = target["name"]
    if manifest["kit"] == "release":
        kits = {}
        for name in manifest.get("kits") or []:
            if isinstance(name, str) and (folder / name).is_dir():
                kits[name] = _read_kit(folder / name, name, stems)
        packages = [p for p in manifest.get("packages") or [] if isinstance(p, dict)]
    else:
        kits = {manifest["kit"]: _read_kit(folder, manifest["kit"], stems)}
        packages = None
    return _Side(folder, about, config, packages, kits)


# --- comparing -------------------------------------------------------------------------------------


def _plain(value):
    """A YAML value as JSON holds it (dates as ISO text)."""
    return json.loads(json.dumps(value, default=str))


def _named(value) -> dict | None:
    """A list of mappings that each have a distinct 'name', keyed by it; else None."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) and isinstance(v.get("name"), str)
                                                           for v in value):
        return None
    names = [v["name"] for v in value]
    return {v["name"]: v for v in value} if len(set(names)) == len(names) else None


_NAMED_KINDS = {"targets": "target", "vdi.pools": "VDI pool"}


def _tree_changes(old, new, path: str, out: list[Change]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(Change("setting added", sub, None, _plain(new[key])))
            elif key not in new:
                out.append(Change("setting removed", sub, _plain(old[key]), None))
            else:
                _tree_changes(old[key], new[key], sub, out)
        return
    old_named, new_named = _named(old), _named(new)
    if old_named is not None and new_named is not None:
        what = _NAMED_KINDS.get(path)
        for name in list(old_named) + [n for n in new_named if n not in old_named]:
            sub = f"{path}[{name!r}]"
            if name not in new_named:
                out.append(Change(f"{what} removed" if what else "setting removed", what and name or sub,
                                  _plain(old_named[name]), None))
            elif name not in old_named:
                out.append(Change(f"{what} added" if what else "setting added", what and name or sub,
                                  None, _plain(new_named[name])))
            else:
                _tree_changes(old_named[name], new_named[name], sub, out)
        return
    out.append(Change("setting changed", path, _plain(old), _plain(new)))


def _config_changes(old: _Side, new: _Side) -> list[Change]:
    if old.config is None or new.config is None:
        return []
    changes: list[Change] = []
    _tree_changes({k: v for k, v in old.config.items() if k not in _NOT_SETTINGS},
                  {k: v for k, v in new.config.items() if k not in _NOT_SETTINGS}, "", changes)
    olds = {p.get("field"): p for p in old.packages or []}
    news = {p.get("field"): p for p in new.packages or []}
    for which in list(olds) + [f for f in news if f not in olds]:
        if which not in news:
            changes.append(Change("package removed", which, olds[which], None))
        elif which not in olds:
            changes.append(Change("package added", which, None, news[which]))
        elif olds[which] != news[which]:
            changes.append(Change("package changed", which, olds[which], news[which]))
    return changes


def _object_change(old: _Object | None, new: _Object | None) -> ObjectChange | None:
    some = new or old
    status = "added" if old is None else "removed" if new is None else "changed"
    o_items, n_items = (old.items if old else {}), (new.items if new else {})
    items = [ItemChange(k, o_items.get(k), n_items.get(k))
             for k in list(o_items) + [k for k in n_items if k not in o_items] if o_items.get(k) != n_items.get(k)]
    target = (new.target if new else None) or (old.target if old else None)
    if status == "changed" and not items and (old.target == new.target):
        return None
    if status == "changed" and old.target != new.target:
        items.insert(0, ItemChange("target", old.target, new.target))
    return ObjectChange(some.kind, some.name, target, status, items)


def _kit_change(name: str, old: _Kit | None, new: _Kit | None) -> KitChange | None:
    if old is not None and new is not None and old.files == new.files:
        return None
    status = "added" if old is None else "removed" if new is None else "changed"
    change = KitChange(name, status)
    o_objs, n_objs = (old.objects if old else {}), (new.objects if new else {})
    for key in sorted(set(o_objs) | set(n_objs), key=lambda k: (_KIND_ORDER.get(k[0], len(_KIND_ORDER)), k[1])):
        found = _object_change(o_objs.get(key), n_objs.get(key))
        if found is not None:
            change.objects.append(found)
    o_files, n_files = (old.files if old else {}), (new.files if new else {})
    read = (old.read if old else set()) | (new.read if new else set())
    for path in sorted(set(o_files) | set(n_files)):
        if path in read or path in _BOOKKEEPING or o_files.get(path) == n_files.get(path):
            continue
        state = "added" if path not in o_files else "removed" if path not in n_files else "changed"
        change.other_files.append({"path": path, "status": state})
    if status == "changed" and not change.objects and not change.other_files:
        change.other_files.append({"path": MANIFEST_NAME, "status": "changed"})   # bookkeeping alone differs
    return change


def compare(old_folder: Path, new_folder: Path) -> Difference:
    """The difference between two release folders, two kit folders, or a release and a kit.
    OutputError when a folder is not one mdegen wrote."""
    old, new = _read_side(old_folder), _read_side(new_folder)
    if old.about["kit"] != "release" and new.about["kit"] != "release" and old.about["kit"] != new.about["kit"]:
        raise OutputError(f"{old_folder} is the {old.about['kit']} kit and {new_folder} the {new.about['kit']} "
                          "kit: compare two releases, or two folders of one kit")
    kits = []
    for name in list(old.kits) + [k for k in new.kits if k not in old.kits]:
        found = _kit_change(name, old.kits.get(name), new.kits.get(name))
        if found is not None:
            kits.append(found)
    return Difference(old.about, new.about, _config_changes(old, new), kits)


# --- text ------------------------------------------------------------------------------------------


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith("sha256 ") and len(value) == 71:
        return value[:19] + "…"
    return text


def _package_line(change: Change) -> str:
    old, new = change.old or {}, change.new or {}
    parts = []
    for key in ("file", "org_id", "version", "expires", "sha256"):
        if old.get(key) != new.get(key):
            o, n = old.get(key), new.get(key)
            if key == "sha256":
                o, n = (o or "")[:12] + "…", (n or "")[:12] + "…"
            parts.append(f"{key} {o} -> {n}")
    return ", ".join(parts)


def _change_line(change: Change) -> str:
    if change.kind == "package changed":
        return f"{change.kind}: {change.subject}: {_package_line(change)}"
    if change.kind.startswith("package"):
        facts = change.new or change.old or {}
        return (f"{change.kind}: {change.subject}: {facts.get('file')} (org {facts.get('org_id')}, "
                f"version {facts.get('version')}, expires {facts.get('expires') or 'never'})")
    if change.kind.endswith((" added", " removed")) and not change.kind.startswith("setting"):
        definition = {k: v for k, v in (change.new or change.old or {}).items() if k != "name"}
        return f"{change.kind}: '{change.subject}'" + (f" {_short(definition)}" if definition else "")
    if change.kind == "setting changed":
        return f"{change.kind}: {change.subject}: {_short(change.old)} -> {_short(change.new)}"
    return f"{change.kind}: {change.subject}: {_short(change.new if change.new is not None else change.old)}"


def _label(about: dict) -> str:
    what = "release" if about["kit"] == "release" else f"{about['kit']} kit"
    return f"{about['folder']} ({what} {about['version']} of {about['date']}, {about['organization']})"


def format_text(diff: Difference) -> str:
    lines = [f"old: {_label(diff.old)}", f"new: {_label(diff.new)}", ""]
    if diff.same:
        return "\n".join(lines + ["The same: no byte differs.", ""])
    if diff.old["kit"] == "release" and diff.new["kit"] == "release":
        lines.append(f"Changes in the config and its packages ({len(diff.changes)}):")
        lines += [f"  {n}. {_change_line(c)}" for n, c in enumerate(diff.changes, 1)] or ["  none"]
        lines.append("")
    lines.append("What changes in the kits:")
    for kit in diff.kits:
        lines.append(f"  {kit.kit}/" + ("" if kit.status == "changed" else f": {kit.status}"))
        for obj in kit.objects:
            target = f" (target '{obj.target}')" if obj.target else ""
            lines.append(f"    {obj.kind} '{obj.name}'{target}: {obj.status}")
            for item in obj.items:
                if item.old is None:
                    lines.append(f"      + {item.item} = {_short(item.new)}")
                elif item.new is None:
                    lines.append(f"      - {item.item} = {_short(item.old)}")
                else:
                    lines.append(f"      ~ {item.item}: {_short(item.old)} -> {_short(item.new)}")
        if kit.other_files:
            lines.append("    other files whose bytes differ: "
                         + ", ".join(f["path"] + ("" if f["status"] == "changed" else f" ({f['status']})")
                                     for f in kit.other_files))
    return "\n".join(lines + [""])
