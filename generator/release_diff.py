"""`mdegen diff OLD NEW`: what changed between two releases (or two kits), in an admin's terms.

Two levels, because a change request is reviewed at both:

* **changes**: what changed in the config and its input packages, read from each release's
  ``mdegen.yaml`` and ``manifest.json``: a setting, a target or VDI pool added or removed, a portal
  package with other facts (org id, version, expiry, hash). One edit of the config is one change,
  however many files it touches. Kit folders carry no config, so for them this list is empty.
* **kits**: what that does to each kit, decoded from the artifacts themselves: per GPO the policy
  values of registry.pol (ASR rules by name and mode), the immediate task's command and the
  account it runs as, startup scripts, the WMI filter it gets; per WMI filter its query; per SCCM
  package its programs' command lines and the hash of every source file, per Defender for Endpoint
  policy its file's hash and its settings, per collection its query;
  per other folder (the share, a down-level target's files) the hash of every file. Files no
  object reads (handoffs, the scripts' code) are listed by path when their bytes differ.

Two folders are the same only when no byte differs. Nothing here prints; ``format_text`` renders.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from generator.builders.cm_script import PACKAGES_FOLDER, POLICY_FOLDER
from generator.builders.cm_script import SCRIPT_NAME as CM_SCRIPT
from generator.builders.import_script import SCRIPT_NAME as IMPORT_SCRIPT
from generator.errors import MdegenError, OutputError
from generator.integrity import read_xml
from generator.release import CONFIG_NAME
from generator.writer import GITATTRIBUTES_NAME, MANIFEST_NAME, SUMS_NAME, sha256_hex


def _package_paths() -> set[str]:
    from generator.config import Packages

    return {k for k, f in Packages.model_fields.items() if "Path" in str(f.annotation)}

# Scripts whose data section objects are read from: their code is reviewed as bytes, always.
_SCRIPTS = {IMPORT_SCRIPT, CM_SCRIPT}
# mdegen's own bookkeeping: it changes whenever anything else does, so it is never reported.
_BOOKKEEPING = {MANIFEST_NAME, SUMS_NAME, GITATTRIBUTES_NAME}
# Config keys that name the release (shown in the header); the packages' facts come from the manifest.
_NOT_SETTINGS = {"version", "release"}
# The order objects are listed in, as an admin imports them.
_KIND_ORDER = {kind: n for n, kind in enumerate(("GPO", "WMI filter", "SCCM package", "Defender for Endpoint policy",
                                                  "collection", "configuration baseline", "folder"))}


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
    release_files: list[dict] = field(default_factory=list)     # a release's own files that differ

    @property
    def same(self) -> bool:
        return not self.changes and not self.kits and not self.release_files

    def as_json(self) -> dict:
        return {"same": self.same, "old": self.old, "new": self.new,
                "changes": [asdict(c) for c in self.changes], "kits": [asdict(k) for k in self.kits],
                "release_files": self.release_files}


# --- reading one side ------------------------------------------------------------------------------


@dataclass
class _Object:
    kind: str
    name: str
    target: str | None
    items: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)     # item: the file it was decoded from
    paths: set[str] = field(default_factory=set)              # every file the object is made of

    def put(self, item: str, value: str, source: str) -> None:
        self.items[item] = value
        self.sources[item] = source
        self.paths.add(source)


@dataclass
class _Kit:
    name: str
    files: dict[str, str]                   # path: sha256 of the bytes on disk
    objects: dict[tuple[str, str], _Object]


@dataclass
class _Side:
    folder: Path
    about: dict                             # folder, kit, organization, version, date
    config: dict | None                     # the release's config as mdegen reads it, in review form
    packages: list[dict] | None
    kits: dict[str, _Kit]
    top_files: dict[str, str]               # a release's own files (beside its kits)


def _known_kits() -> set[str]:
    from generator import kits

    return {k.name for k in kits.KITS}


def _manifest(folder: Path) -> dict:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise OutputError(f"{folder}: has no {MANIFEST_NAME}, so it is no release or kit folder of mdegen")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, RecursionError):
        raise OutputError(f"{path}: is not the JSON mdegen writes") from None
    if not isinstance(doc, dict) or doc.get("generator") != "mdegen" or not isinstance(doc.get("kit"), str):
        raise OutputError(f"{path}: is not one mdegen wrote")
    if doc["kit"] != "release" and doc["kit"] not in _known_kits():
        raise OutputError(f"{path}: names a kit mdegen does not know ({doc['kit']!r})")
    return doc


def _files(folder: Path, *, skip: set[str] = frozenset()) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if not p.is_file() or ".git" in rel.parts or rel.parts[0] in skip:
            continue
        try:
            out[rel.as_posix()] = sha256_hex(p.read_bytes())
        except OSError as exc:
            raise OutputError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    return out


def _read(folder: Path, path: str) -> bytes:
    try:
        return (folder / path).read_bytes()
    except OSError as exc:
        raise OutputError(f"{folder / path}: cannot be read ({exc.strerror or exc})") from None


def _why(exc: Exception) -> str:
    """A codec's complaint in one line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if isinstance(exc, MdegenError) else f"not well-formed ({text})"


def _policy_items(obj: _Object, data: bytes, source: str) -> None:
    from generator import policy
    from generator.formats import regpol

    modes = {data_value: mode for mode, data_value in policy.ASR_MODE_DATA.items()}
    for entry in regpol.entries_to_json(regpol.loads(data)):
        if entry["key"].lower() == policy.ASR_RULES_KEY.lower() and entry["special"] is None:
            rule = entry["name"].lower()
            title = policy.ASR_RULES.get(rule, "rule not in mdegen's table")
            mode = modes.get(str(entry["value"]), "unknown")
            obj.put(f"ASR rule {rule} ({title})", f"{mode} ({entry['value']})", source)
            continue
        value = entry["value"]
        shown = "\\0".join(value) if isinstance(value, list) else str(value)
        what = entry["special"] or entry["type"]
        obj.put(f"policy HKLM\\{entry['key']}\\{entry['name']}", f"{what} {shown}".rstrip(), source)


# The fields of an immediate task that decide what runs, as whom and when (its description, author,
# time stamp and uid are labels: a change of them shows as the file's bytes).
_TASK_FIELDS = (("item", "kind"), ("action", "action"), ("run_as", "runs as"), ("logon_type", "logon type"),
                ("user_id", "principal"), ("principal_logon_type", "principal logon type"),
                ("run_level", "run level"), ("user_context", "user context"), ("remove_policy", "remove policy"))


def _task_items(obj: _Object, data: bytes, source: str) -> None:
    from generator.formats import gpp_tasks

    for task in gpp_tasks.loads(data):
        label = f"task '{task['name']}'"
        obj.put(f"{label} command", f"{task['command']} {task['arguments']}".strip(), source)
        for key, what in _TASK_FIELDS:
            obj.put(f"{label} {what}", str(task[key]), source)
        obj.put(f"{label} settings", json.dumps(task["settings"], sort_keys=True), source)
        obj.put(f"{label} triggers", json.dumps(task["triggers"], sort_keys=True), source)


def _gpo_objects(folder: Path, files: dict[str, str], records: dict[str, dict]):
    from generator.formats import gpscripts

    for path in files:
        parts = PurePosixPath(path).parts
        if len(parts) != 3 or parts[0] != "GPOs" or parts[2] != "bkupInfo.xml":
            continue
        backup = parts[1]
        prefix = f"GPOs/{backup}/"
        record = records.get(backup.upper()) or {}
        obj = _Object("GPO", str(record.get("DisplayName") or ""), record.get("TargetName"))
        obj.paths.update(p for p in files if p.startswith(prefix))
        machine = prefix + "DomainSysvol/GPO/Machine/"
        readers = [(path, None), (machine + "registry.pol", _policy_items),
                   (machine + "Preferences/ScheduledTasks/ScheduledTasks.xml", _task_items)]
        for ini in ("scripts.ini", "psscripts.ini"):
            readers.append((machine + "Scripts/" + ini, "scripts"))
        for source, reader in readers:
            if source not in files:
                continue
            data = _read(folder, source)
            try:
                if reader is None:
                    if not obj.name:
                        obj.name = "".join(read_xml(data).xpath("//*[local-name()='GPODisplayName']/text()")) or backup
                elif reader == "scripts":
                    for n, (cmd, params) in enumerate(gpscripts.loads(data).startup):
                        obj.put(f"startup script {n} ({PurePosixPath(source).name})", f"{cmd} {params}".strip(),
                                source)
                else:
                    reader(obj, data, source)
            except Exception as exc:        # any codec's (or lxml's) refusal: report it, go on
                obj.put(f"does not parse: {PurePosixPath(source).name}", _why(exc), source)
        obj.name = obj.name or backup
        if record:
            obj.put("WMI filter", record.get("WmiFilterName") or "none", IMPORT_SCRIPT)
        yield obj


def _wmi_objects(folder: Path, files: dict[str, str], filter_targets: dict[str, str]):
    from generator.formats import wmi_mof

    for path in files:
        parts = PurePosixPath(path).parts
        if len(parts) != 2 or parts[0] != "WmiFilters" or not path.lower().endswith(".mof"):
            continue
        try:
            mof = wmi_mof.loads(_read(folder, path))
        except (MdegenError, ValueError) as exc:
            obj = _Object("WMI filter", path, None)
            obj.put("does not parse", _why(exc), path)
            yield obj
            continue
        obj = _Object("WMI filter", mof["Name"], filter_targets.get(mof["Name"]))
        rules = mof.get("Rules", [])
        obj.put("query", " ; ".join(r["Query"] for r in rules), path)
        obj.put("namespace", " ; ".join(r["TargetNameSpace"] for r in rules), path)
        yield obj


# Keys of a .sms that label rather than decide (the name is the object's own; Version is the release).
_SMS_LABELS = {"Name", "Comment", "Version"}


def _sccm_objects(folder: Path, files: dict[str, str], records: list[dict]):
    from generator.formats import pdf_sms

    by_folder = {r.get("Folder"): r for r in records if isinstance(r, dict)}
    folders = sorted({PurePosixPath(p).parts[1] for p in files
                      if PurePosixPath(p).parts[0] == PACKAGES_FOLDER and len(PurePosixPath(p).parts) > 2})
    for package in folders:
        prefix = f"packages/{package}/"
        record = by_folder.get(package, {})
        obj = _Object("SCCM package", str(record.get("Name") or package), record.get("TargetName"))
        for path in sorted(p for p in files if p.startswith(prefix)):
            obj.paths.add(path)
            if not path.lower().endswith(".sms"):
                obj.put(f"source {path[len(prefix):]}", f"sha256 {files[path]}", path)
                continue
            try:
                sms = pdf_sms.loads(_read(folder, path))
            except (MdegenError, ValueError) as exc:
                obj.put(f"does not parse: {PurePosixPath(path).name}", _why(exc), path)
                continue
            for section, keys in sms.items():
                if section == "PDF":
                    continue
                where = "package" if section == "Package Definition" else f"program '{section}'"
                for key, value in keys.items():
                    if key not in _SMS_LABELS:
                        obj.put(f"{where} {key}", str(value), path)
        yield obj
        yield from _collection_and_baseline(record, obj.name)


def _sccm_policies(files: dict[str, str], records: list[dict]):
    """The kit's Defender for Endpoint policies (the policy route), from the script's data section:
    the file each is made from (its hash in the kit), its settings, and its collection and baseline."""
    for record in (r for r in records if isinstance(r, dict)):
        obj = _Object("Defender for Endpoint policy", str(record.get("Name", "")), record.get("TargetName"))
        path = f"{POLICY_FOLDER}/{record.get('File', '')}"
        obj.paths.add(path)
        obj.put("type", str(record.get("Role", "")), CM_SCRIPT)
        obj.put(f"file {record.get('File', '')}", f"sha256 {files.get(path, 'missing from the kit')}", path)
        for key, label in (("SampleSharing", "sample sharing"), ("Telemetry", "telemetry reporting")):
            if record.get(key) is not None:
                obj.put(label, str(record[key]), CM_SCRIPT)
        yield obj
        yield from _collection_and_baseline(record, obj.name)


def _collection_and_baseline(record: dict, deployed: str):
    """The collection a package or policy record is deployed to, and its compliance baseline."""
    collection = record.get("Collection")
    if isinstance(collection, dict):
        c = _Object("collection", str(collection.get("Name", "")), record.get("TargetName"))
        c.put("query", str(collection.get("Query", "")), CM_SCRIPT)
        c.put("deploys", deployed, CM_SCRIPT)
        yield c
    compliance = record.get("Compliance")
    if isinstance(compliance, dict):
        b = _Object("configuration baseline", str(compliance.get("BaselineName", "")), record.get("TargetName"))
        settings = [str(x.get("Name", "")) for x in compliance.get("Settings") or [] if isinstance(x, dict)]
        b.put("configuration item", str(compliance.get("CiName", "")), CM_SCRIPT)
        b.put("settings", "; ".join(settings), CM_SCRIPT)
        yield b


def _script_data(folder: Path, name: str, files: dict[str, str]) -> dict:
    """The data section of one of mdegen's scripts. A section that does not read means the kit is
    not as mdegen wrote it: the diff would have to guess, so it stops and says so."""
    from generator.formats import ps_data

    if name not in files:
        return {}
    try:
        return ps_data.loads(_read(folder, name).decode("utf-8-sig"), ["Gpos", "WmiFilters", "Packages", "Policies"])
    except (MdegenError, ValueError) as exc:
        raise OutputError(f"{folder / name}: its data section does not read ({exc}); the kit is not as mdegen "
                          "wrote it: `mdegen verify` shows what changed") from None


def _read_kit(folder: Path, kit: str, target_stems: dict[str, str]) -> _Kit:
    files = _files(folder)
    objects: list[_Object] = []
    apart = set()
    if kit in ("gpo", "vdi", "offboard"):
        gpos = [r for r in _script_data(folder, IMPORT_SCRIPT, files).get("Gpos") or [] if isinstance(r, dict)]
        records = {str(r.get("BackupId", "")).upper(): r for r in gpos}
        filter_targets = {r["WmiFilterName"]: r.get("TargetName") for r in gpos
                          if r.get("WmiFilterName") and r.get("Role") == "onboarding"}
        objects += _gpo_objects(folder, files, records)
        objects += _wmi_objects(folder, files, filter_targets)
        apart |= {"GPOs", "WmiFilters"}
    if kit == "sccm":
        data = _script_data(folder, CM_SCRIPT, files)
        objects += _sccm_objects(folder, files, data.get("Packages") or [])
        objects += _sccm_policies(files, data.get("Policies") or [])
        apart |= {PACKAGES_FOLDER, POLICY_FOLDER}
    per_target = kit in ("downlevel", "offboard")      # the kits with one folder per target
    for top in sorted({PurePosixPath(p).parts[0] for p in files if len(PurePosixPath(p).parts) > 1} - apart):
        obj = _Object("folder", f"{top}/", target_stems.get(top) if per_target else None)
        for p in files:
            if PurePosixPath(p).parts[0] == top:
                obj.put(f"file {p[len(top) + 1:]}", f"sha256 {files[p]}", p)
        objects.append(obj)
    keyed = {}
    for obj in objects:
        key = (obj.kind, obj.name)
        n = 2
        while key in keyed:              # two objects of one name: keep both, numbered
            key = (obj.kind, f"{obj.name} #{n}")
            n += 1
        keyed[key] = obj
    return _Kit(kit, files, keyed)


def _review_config(folder: Path) -> dict:
    """The release's mdegen.yaml as mdegen reads it (its own loader: ``off`` stays off, the default
    target is there when no targets are listed), less what names the release or is a package path."""
    from generator import config as config_mod

    path = folder / CONFIG_NAME
    if not path.is_file():
        raise OutputError(f"{folder}: is not whole: a release holds its {CONFIG_NAME}")
    try:
        cfg = config_mod.load(path)
    except MdegenError as exc:
        raise OutputError(f"{path}: the release's config does not load with this mdegen: {exc}") from None
    doc = cfg.model_dump(mode="json", exclude={"base_dir"})
    if doc.get("targets") is None:
        doc["targets"] = [config_mod.Target(name=config_mod.DEFAULT_TARGET_NAME).model_dump(mode="json")]
    if doc.get("vdi") is None:
        doc["vdi"] = {"pools": []}
    packages = doc.pop("packages", {}) or {}
    paths = _package_paths()
    doc["packages"] = {k: v for k, v in packages.items() if k not in paths}
    for key in _NOT_SETTINGS:
        doc.pop(key, None)
    return _configured(doc)


def _configured(value):
    """``value`` without the keys whose value is None (or an empty mapping): not configured, nothing to review."""
    if isinstance(value, dict):
        pruned = {k: _configured(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in pruned.items() if v != {}}
    if isinstance(value, list):
        return [_configured(v) for v in value]
    return value


def _kit_names(folder: Path, manifest: dict) -> list[str]:
    names = manifest.get("kits")
    known = _known_kits()
    if not isinstance(names, list) or not all(isinstance(n, str) and n in known for n in names):
        raise OutputError(f"{folder / MANIFEST_NAME}: its list of kits is not one mdegen writes")
    missing = [n for n in names if not (folder / n).is_dir()]
    if missing:
        raise OutputError(f"{folder}: is not whole: the manifest lists {', '.join(missing)} but the folder is not "
                          "there (`mdegen verify` tells what else is missing)")
    return names


def _read_side(folder: Path, manifest: dict, only: str | None = None) -> _Side:
    release = manifest.get("release") if isinstance(manifest.get("release"), dict) else {}
    about = {"folder": str(folder), "kit": manifest["kit"], "organization": manifest.get("organization"),
             "version": release.get("version"), "date": release.get("date")}
    if manifest["kit"] != "release":
        return _Side(folder, about, None, None, {manifest["kit"]: _read_kit(folder, manifest["kit"], {})}, {})
    from generator.project import file_stem

    config = _review_config(folder)
    stems = {file_stem(t["name"]): t["name"] for t in config["targets"]}
    names = _kit_names(folder, manifest)
    kits = {n: _read_kit(folder / n, n, stems) for n in names if only is None or n == only}
    packages = manifest.get("packages")
    if not isinstance(packages, list) or not all(isinstance(p, dict) and isinstance(p.get("field"), str)
                                                 for p in packages):
        raise OutputError(f"{folder / MANIFEST_NAME}: its list of packages is not one mdegen writes")
    return _Side(folder, about, config, packages, kits, _files(folder, skip=set(names)))


# --- comparing -------------------------------------------------------------------------------------


def _named(value) -> dict | None:
    """A list of mappings that each have a distinct 'name', keyed by it (an empty list too); else None."""
    if not isinstance(value, list) or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value):
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
                out.append(Change("setting added", sub, None, new[key]))
            elif key not in new:
                out.append(Change("setting removed", sub, old[key], None))
            else:
                _tree_changes(old[key], new[key], sub, out)
        return
    old_named, new_named = _named(old), _named(new)
    if old_named is not None and new_named is not None and (old_named or new_named):
        what = _NAMED_KINDS.get(path)
        for name in list(old_named) + [n for n in new_named if n not in old_named]:
            sub = f"{path}[{name!r}]"
            if name not in new_named:
                out.append(Change(f"{what} removed", name, old_named[name], None) if what
                           else Change("setting removed", sub, old_named[name], None))
            elif name not in old_named:
                out.append(Change(f"{what} added", name, None, new_named[name]) if what
                           else Change("setting added", sub, None, new_named[name]))
            else:
                _tree_changes(old_named[name], new_named[name], sub, out)
        return
    out.append(Change("setting changed", path, old, new))


def _config_changes(old: _Side, new: _Side) -> list[Change]:
    if old.config is None or new.config is None:
        return []
    changes: list[Change] = []
    _tree_changes(old.config, new.config, "", changes)
    olds = {p["field"]: p for p in old.packages or []}
    news = {p["field"]: p for p in new.packages or []}
    for which in list(olds) + [f for f in news if f not in olds]:
        if which not in news:
            changes.append(Change("package removed", which, olds[which], None))
        elif which not in olds:
            changes.append(Change("package added", which, None, news[which]))
        elif olds[which] != news[which]:
            changes.append(Change("package changed", which, olds[which], news[which]))
    return changes


def _object_change(old: _Object | None, new: _Object | None) -> tuple[ObjectChange | None, set[str]]:
    """The object's change, and the files it explains."""
    some = new or old
    status = "added" if old is None else "removed" if new is None else "changed"
    o_items, n_items = (old.items if old else {}), (new.items if new else {})
    items = [ItemChange(k, o_items.get(k), n_items.get(k))
             for k in list(o_items) + [k for k in n_items if k not in o_items] if o_items.get(k) != n_items.get(k)]
    target = (new.target if new else None) or (old.target if old else None)
    if status != "changed":
        return ObjectChange(some.kind, some.name, target, status, items), set(some.paths) - _SCRIPTS
    if old.target != new.target:
        items.insert(0, ItemChange("target", old.target, new.target))
    if not items:
        return None, set()
    explained = {(new.sources.get(i.item) or old.sources.get(i.item)) for i in items if i.item != "target"}
    return ObjectChange(some.kind, some.name, target, status, items), explained - _SCRIPTS


def _file_changes(old: dict[str, str], new: dict[str, str], explained: set[str]) -> list[dict]:
    """The files whose bytes differ and that no object change explains. mdegen's own bookkeeping
    (manifest, sums) differs whenever another file does, so it is named only when nothing else differs."""
    differ = [p for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
    shown = [p for p in differ if p not in explained and p not in _BOOKKEEPING]
    if not any(p not in _BOOKKEEPING for p in differ):
        shown = differ
    return [{"path": p, "status": "added" if p not in old else "removed" if p not in new else "changed"}
            for p in shown]


def _kit_change(name: str, old: _Kit | None, new: _Kit | None) -> KitChange | None:
    if old is not None and new is not None and old.files == new.files:
        return None
    status = "added" if old is None else "removed" if new is None else "changed"
    change = KitChange(name, status)
    o_objs, n_objs = (old.objects if old else {}), (new.objects if new else {})
    explained: set[str] = set()
    for key in sorted(set(o_objs) | set(n_objs), key=lambda k: (_KIND_ORDER.get(k[0], len(_KIND_ORDER)), k[1])):
        found, files = _object_change(o_objs.get(key), n_objs.get(key))
        if found is not None:
            change.objects.append(found)
            explained |= files
    change.other_files = _file_changes(old.files if old else {}, new.files if new else {}, explained)
    return change


def compare(old_folder: Path, new_folder: Path) -> Difference:
    """The difference between two release folders, two kit folders, or a release and one of its
    kits (then only that kit is compared). OutputError when a folder is not one mdegen wrote."""
    old_manifest, new_manifest = _folder_manifest(old_folder), _folder_manifest(new_folder)
    old_kit, new_kit = old_manifest["kit"], new_manifest["kit"]
    if old_kit != "release" and new_kit != "release" and old_kit != new_kit:
        raise OutputError(f"{old_folder} is the {old_kit} kit and {new_folder} the {new_kit} kit: compare two "
                          "releases, or two folders of one kit")
    only = next((k for k in (old_kit, new_kit) if k != "release"), None)
    old, new = _read_side(old_folder, old_manifest, only), _read_side(new_folder, new_manifest, only)
    kits = []
    for name in list(old.kits) + [k for k in new.kits if k not in old.kits]:
        found = _kit_change(name, old.kits.get(name), new.kits.get(name))
        if found is not None:
            kits.append(found)
    top = _file_changes(old.top_files, new.top_files, set()) if only is None else []
    return Difference(old.about, new.about, _config_changes(old, new), kits, top)


def _folder_manifest(folder: Path) -> dict:
    if not folder.exists():
        raise OutputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise OutputError(f"{folder}: is a file; give the release's (or kit's) folder, not a zip or a file in it")
    return _manifest(folder)


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
            lines.append("    other files whose bytes differ: " + _paths(kit.other_files))
    if diff.release_files:
        lines.append("  the release's own files whose bytes differ: " + _paths(diff.release_files))
    return "\n".join(lines + [""])


def _paths(files: list[dict]) -> str:
    return ", ".join(f["path"] + ("" if f["status"] == "changed" else f" ({f['status']})") for f in files)
