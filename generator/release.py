"""`mdegen build`: every kit of a config in one versioned, checksummed release folder.

A release folder, named ``<organization>-<version>`` (file-name safe), holds each kit's folder as
the kit command writes it, the config that produced it (``mdegen.yaml``, byte for byte), a
top-level ``HANDOFF.md`` that indexes the kits, one ``SHA256SUMS`` over every file (``sha256sum -c``
accepts it at the release root), a ``manifest.json`` with the config's hash and each input
package's facts, and a ``.gitattributes`` that keeps git from touching any byte. A kit the config
does not give what it needs (no share for the GPO kit, no VDI pools, no down-level target) is left
out and named; a config from which no kit can be built fails. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from generator import kits, writer
from generator.artifacts import OutputFile
from generator.errors import ConfigError
from generator.handoff import handoff_file
from generator.templating import markdown_cell

CONFIG_NAME = "mdegen.yaml"


@dataclass(frozen=True)
class Release:
    name: str                               # the release folder's name
    files: tuple[OutputFile, ...]           # everything in it, manifest and sums included
    kits: tuple[str, ...]                   # the kits it holds
    skipped: tuple[tuple[str, str], ...]    # (kit command, why not)
    warnings: tuple[str, ...]
    date: dt.date                           # the release date: the zip's time stamps


def release_name(organization: str, version: str) -> str:
    """'Contoso-Example-Ltd-2026.1.0': letters without their accents, every run of anything else
    but digits, '.' and '_' one hyphen: a name every file system and shell takes as it is."""
    ascii_text = unicodedata.normalize("NFKD", f"{organization} {version}").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._]+", "-", ascii_text).strip(".-") or "release"


def _what(summary: str) -> str:
    """A command's help line ('Write the VDI kit: ...') as what the kit is ('The VDI kit: ...')."""
    return "The " + summary[len("Write the "):] if summary.startswith("Write the ") else summary


def _package_facts(project) -> list[dict]:
    facts = []
    for which in ("onboarding", "offboarding", "vdi"):
        pkg = getattr(project, which)
        if pkg is not None:
            facts.append({"field": f"packages.{which}", "file": pkg.source.name, "kind": pkg.kind.value,
                          "sha256": pkg.sha256,
                          "org_id": pkg.facts.org_id, "version": pkg.facts.version,
                          "expires": pkg.facts.expiration.isoformat() if pkg.facts.expiration else None})
    for which, f in sorted(project.agent_files.items()):
        blob = f.blob
        entry = {"entry": f.name} if f.in_zip else {}      # the file read inside the zip: its hash is the entry's
        facts.append({"field": f"packages.{which}", "file": f.source.name, **entry, "kind": f.kind.value,
                      "sha256": f.sha256,
                      "org_id": blob.org_id if blob else None,
                      "version": (f.script.version if f.script else (blob.version if blob else None)),
                      "expires": blob.expiration.isoformat() if blob and blob.expiration else None})
    return facts


def build_release(config_path: Path, *, now: dt.datetime) -> Release:
    """The release of the config at ``config_path``; ConfigError/PackageError for bad input."""
    from generator import project as project_mod

    registry = kits.KITS
    project = project_mod.load(config_path, packages=kits.packages_for(registry), now=now,
                               purpose=kits.purpose_of(list(registry)))
    files: list[OutputFile] = []
    built, skipped, warnings = [], [], list(project.warnings)
    for kit in registry:
        try:
            warnings += kit.check(project)
            kit_files = writer.finish_kit(kit.name, project.config, kit.build(project))
        except ConfigError as exc:
            skipped.append((kit.command, exc.reason if getattr(exc, "reason", None) else str(exc)))
            continue
        built.append(kit)
        files += [OutputFile(f"{kit.name}/{f.path}", f.data) for f in kit_files]
    if not built:
        raise ConfigError("no kit can be built from it: " + "; ".join(f"{c}: {why}" for c, why in skipped),
                          path=str(config_path))
    rows = [{"name": k.name, "label": k.label, "summary": markdown_cell(_what(k.summary)),
             "audience": k.audience, "order": k.order}
            for k in built]
    files.append(handoff_file("release/HANDOFF.md.j2", project, kits=rows,
                              skipped=[{"command": c, "why": markdown_cell(w)} for c, w in skipped]))
    config_bytes = config_path.read_bytes()
    files.append(OutputFile(CONFIG_NAME, config_bytes))
    extra = {"config_sha256": hashlib.sha256(config_bytes).hexdigest(),
             "kits": [k.name for k in built], "packages": _package_facts(project)}
    finished = writer.finish_kit("release", project.config, files, extra)
    name = release_name(project.organization, project.release_version)
    return Release(name=name, files=tuple(finished), kits=tuple(k.name for k in built),
                   skipped=tuple(skipped), warnings=tuple(warnings), date=project.release_date)


def zip_bytes(release: Release) -> bytes:
    """A reproducible zip of the release: entries sorted, every time stamp the release date,
    fixed permissions, the same compression: the same inputs give the same bytes."""
    stamp = (max(release.date.year, 1980), release.date.month, release.date.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for f in sorted(release.files, key=lambda f: f.path):
            info = zipfile.ZipInfo(f"{release.name}/{f.path}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            z.writestr(info, f.data, compresslevel=9)
    return buffer.getvalue()
