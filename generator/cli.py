"""The `mdegen` command line: a thin layer over the library.

Only this module prints or exits. Errors from bad input (MdegenError) become one message on stderr
and exit code 2; `--debug` shows the traceback instead.

The generating commands come from the kit registry (generator/kits.py): one command per kit.
Start-up stays cheap: this module imports no config model, codec or template engine at the top;
each command imports what it uses when it runs.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from generator import __version__, kits
from generator.defaults import DEFAULT_CONFIG_NAME, DEFAULT_OUTPUT
from generator.errors import ConfigError, InventoryError, MdegenError, OutputError, PackageError
from generator.kits import Kit


def _new_app() -> typer.Typer:
    return typer.Typer(
        name="mdegen",
        help="Generate the artifacts that onboard Windows Server fleets to Microsoft Defender for Endpoint.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


ConfigOpt = Annotated[Path, typer.Option("-c", "--config", help="Config file.", show_default=True)]
OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="Output folder; each command writes its own kit folder in it.",
                                         show_default=True)]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace a non-empty kit folder that mdegen did not write.")]
CheckOpt = Annotated[bool, typer.Option("--check", help="Write nothing: compare what would be written with the kit "
                                                    "folder on disk, print the differences, exit 1 when they differ.")]

_DEBUG = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mdegen {__version__}")
        raise typer.Exit(0)


def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for errors.")] = False,
) -> None:
    global _DEBUG
    _DEBUG = debug


def _warn(lines: object) -> None:
    for line in lines:  # type: ignore[attr-defined]
        typer.echo(f"warning: {line}", err=True)


def _now() -> dt.datetime:
    # The only clock read: it decides whether an offboarding script has expired (an instant, so in
    # UTC) and dates a starter config. It never reaches a kit.
    return dt.datetime.now(dt.timezone.utc)


# --- init -----------------------------------------------------------------------------------------


def init(
    config: ConfigOpt = Path(DEFAULT_CONFIG_NAME),
    example: Annotated[Optional[Path], typer.Option("--example", metavar="DIR",
                       help="Write a complete runnable example (config plus a synthetic, fake portal package) into DIR.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Write an annotated starter config, or a runnable example."""
    from generator import starter

    if example is not None:
        files = starter.example_files()
        base = example
    else:
        from generator.artifacts import OutputFile
        files = [OutputFile(config.name, starter.starter_config(today=_now().date()))]
        base = config.parent
    targets = [(base / f.path, f.data) for f in files]
    existing = [str(p) for p, _ in targets if p.exists()]
    if existing and not force:
        raise OutputError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; pass --force to overwrite")
    for path, data in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        typer.echo(f"wrote {path}")
    if example is not None:
        typer.echo(f"next: mdegen gpo -c {base / 'mdegen.yaml'} -o output")


_INIT_EPILOG = ("Examples:\n\n  mdegen init                     # writes ./mdegen.yaml\n\n"
                "  mdegen init --example example   # writes example/mdegen.yaml and a fake portal package\n\n"
                "  mdegen gpo -c example/mdegen.yaml -o output")


# --- schema ---------------------------------------------------------------------------------------


def schema(
    results: Annotated[bool, typer.Option("--results", help="Print the schema of the verification results "
                                          "(Test-MdeOnboarding.ps1's JSON) instead.")] = False,
) -> None:
    """Print the config file's JSON Schema (for editors and review), or with --results the schema of
    the verification results."""
    if results:
        from generator import verification

        typer.echo(json.dumps(verification.RESULT_SCHEMA, indent=2, sort_keys=True))
        return
    from generator import config as config_mod

    typer.echo(json.dumps(config_mod.json_schema(), indent=2, sort_keys=True))


_SCHEMA_EPILOG = ("Example:\n\n  mdegen schema > mdegen.schema.json\n\n"
                  "  (then add '# yaml-language-server: $schema=mdegen.schema.json' to mdegen.yaml)")


# --- validate -------------------------------------------------------------------------------------


def validate(
    config: ConfigOpt = Path(DEFAULT_CONFIG_NAME),
    kit_names: Annotated[Optional[list[str]], typer.Option(
        "--kit", metavar="KIT", help="Check only this kit (its command or folder name; repeatable): then every "
                                     "kit named must be buildable.")] = None,
) -> None:
    """Check the config and the portal packages; print what each kit would write."""
    from generator import policy, project as project_mod

    registry = _select_kits(kit_names)
    # Every configured package is read and checked, also one no kit reads yet (it is named below).
    project = project_mod.load(config, packages=(*project_mod.PACKAGE_NAMES, *project_mod.AGENT_FILES,
                                                 *project_mod.CONFIGMGR_FILES), now=_now(),
                               purpose=kits.purpose_of(registry))
    _warn(project.warnings)
    cfg = project.config
    used = set(kits.packages_for(kits.KITS))
    _warn(f"packages.{which} is configured, but no kit of this mdegen reads it yet"
          for which in project_mod.PACKAGE_NAMES if getattr(project, which) is not None and which not in used)
    _warn(f"packages.{which} is read and checked, but no kit of this mdegen deploys it yet"
          for which in project.agent_files if which not in used)
    out = [f"config {config}: valid (organization {cfg.organization!r}, release {cfg.release.version} of {cfg.release.date})",
           f"share: {cfg.share if cfg.share is not None else '(none)'}"]
    for which in project_mod.PACKAGE_NAMES:
        pkg = getattr(project, which)
        if pkg is not None:
            out.append(f"{which} package: {pkg.source.name} ({pkg.kind.value}, org {pkg.facts.org_id}, "
                       f"version {pkg.facts.version})")
    for field, agent_file in project.agent_files.items():
        facts = ""
        if agent_file.script is not None and agent_file.script.version:
            facts = f", version {agent_file.script.version} (inferred)"
        if agent_file.blob is not None:
            facts = f", org {agent_file.blob.org_id}" + (
                f", expires {agent_file.blob.expiration:%Y-%m-%d}" if agent_file.blob.expiration else "")
        out.append(f"packages.{field}: {agent_file.source.name} ({agent_file.kind.value}, {agent_file.size} bytes, "
                   f"sha256 {agent_file.sha256[:16]}...{facts})")
    configured = policy.describe(cfg.settings)
    out.append(f"settings ({len(configured)} configured):")
    out += [f"  {s.field}: {text}  -> {s.title}" for s, text in configured] or ["  (none: no registry.pol will be written)"]
    failed = []
    for kit in registry:
        # A kit that cannot be built from this config is reported; without --kit that is not fatal
        # (an SCCM-only config needs no share): the command fails only when no kit can be built.
        try:
            _warn(kit.check(project))
            files = kit.build(project)
        except ConfigError as exc:
            failed.append(kit)
            out.append(f"mdegen {kit.command}: not possible with this config: {exc}")
            continue
        out.append(f"mdegen {kit.command} would write:")
        out += [f"  {kit.name}/{f.path}" for f in files]
    typer.echo("\n".join(out))
    if failed and (kit_names or len(failed) == len(registry)):
        names = ", ".join(k.command for k in failed)
        raise ConfigError(f"{names} cannot be built from this config (see above)", path=config)


def _select_kits(names: list[str] | None) -> tuple[Kit, ...]:
    if not names:
        return kits.KITS
    chosen = []
    for name in names:
        kit = next((k for k in kits.KITS if name in (k.command, k.name)), None)
        if kit is None:
            raise ConfigError(f"--kit {name!r} is not a kit; the kits are "
                              + ", ".join(k.command for k in kits.KITS))
        chosen.append(kit)
    return tuple(dict.fromkeys(chosen))


_VALIDATE_EPILOG = "Example:\n\n  mdegen validate -c mdegen.yaml"


# --- inspect --------------------------------------------------------------------------------------


def inspect(
    path: Annotated[Path, typer.Argument(help="A portal package (zip, .cmd, .onboarding or .offboarding) or a "
                                           "registry.pol file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print what a portal package or registry.pol holds. Refuses nothing it can read."""
    if not path.is_file():
        raise PackageError(f"{path}: no such file")
    if path.suffix.lower() == ".pol":
        from generator.formats import regpol

        try:
            entries = regpol.loads(path.read_bytes())
        except regpol.RegistryPolError as exc:
            raise PackageError(f"{path}: {exc}") from None
        if as_json:
            typer.echo(json.dumps(regpol.entries_to_json(entries), indent=2))
        else:
            typer.echo(regpol.format_entries(entries), nl=False)
        return
    from generator import agents, portal

    # A .onboarding/.offboarding file, or a zip that holds one (ConfigMgr current branch, DefenderDT):
    # read as the signed blob, so that its own reason is given when it does not read.
    kind = agents.blob_kind(path)
    if kind is not None and path.suffix.lower() != ".zip":
        _inspect_blob_file(agents.read_agent_file(path, kind), as_json)
        return
    try:
        pkg = portal.read_package(path)
    except PackageError:
        if kind is None:
            raise
        _inspect_blob_file(agents.read_agent_file(path, kind), as_json)
        return
    if as_json:
        typer.echo(json.dumps(portal.facts_as_dict(pkg), indent=2, sort_keys=True))
    else:
        typer.echo(portal.format_facts(pkg, _now()))


def _inspect_blob_file(found, as_json: bool) -> None:
    from generator import agents

    if as_json:
        blob = found.blob
        typer.echo(json.dumps({"file": found.name, "kind": found.kind.value, "sha256": found.sha256,
                               "org_id": blob.org_id if blob else None,
                               "datacenter": blob.datacenter if blob else None,
                               "version": blob.version if blob else None,
                               "expires": blob.expiration.isoformat() if blob and blob.expiration else None},
                              indent=2, sort_keys=True))
    else:
        typer.echo(agents.format_agent_facts(found, _now()), nl=False)


_INSPECT_EPILOG = ("Examples:\n\n  mdegen inspect WindowsDefenderATPOnboardingPackage.zip\n\n"
                   "  mdegen inspect --json WindowsDefenderATPOffboardingScript_valid_until_2026-12-01.cmd\n\n"
                   "  mdegen inspect 'output/gpo/GPOs/{...}/DomainSysvol/GPO/Machine/registry.pol'")


# --- verify ---------------------------------------------------------------------------------------


def verify(
    folder: Annotated[Path, typer.Argument(help="A kit folder (with SHA256SUMS), or a folder of kits.")],
) -> None:
    """Check that a kit, or every kit of a folder, is byte for byte what mdegen wrote and that every
    artifact still parses. Exit code 0 when intact, 1 when not, 2 for a folder that holds no kit."""
    from generator import integrity

    broken = 0
    for kit in integrity.kit_folders(folder):
        report = integrity.verify_kit(kit)
        lines = [f"{kit}: {report.checked} files checked"]
        lines += [f"  changed: {p}" for p in report.changed]
        lines += [f"  missing: {p}" for p in report.missing]
        lines += [f"  extra: {p} (not in {integrity.SUMS_NAME})" for p in report.extra]
        lines += [f"  does not parse: {p}: {why}" for p, why in report.unreadable]
        lines.append("  intact" if report.intact else "  NOT intact")
        typer.echo("\n".join(lines))
        broken += not report.intact
    if broken:
        raise typer.Exit(code=1)


_VERIFY_EPILOG = "Examples:\n\n  mdegen verify output/gpo\n\n  mdegen verify output"


# --- diff -----------------------------------------------------------------------------------------


def diff(
    old: Annotated[Path, typer.Argument(help="The earlier release folder (or kit folder).")],
    new: Annotated[Path, typer.Argument(help="The later release folder (or a folder of the same kit).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the difference as JSON, for tools.")] = False,
) -> None:
    """Show what changed between two releases in the terms an admin reviews: settings, targets and
    portal packages of the config, then per kit the GPOs' policy values and tasks, WMI filter
    queries, SCCM programs, collections and source hashes. Exit code 0 when the same, 1 when not."""
    from generator import release_diff

    difference = release_diff.compare(old, new)
    if as_json:
        typer.echo(json.dumps(difference.as_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(release_diff.format_text(difference), nl=False)
    if not difference.same:
        raise typer.Exit(code=1)


_DIFF_EPILOG = ("Examples:\n\n  mdegen diff releases/Contoso-2026.1.0 releases/Contoso-2026.2.0\n\n"
                "  mdegen diff --json old/gpo output/gpo")


# --- plan -----------------------------------------------------------------------------------------


def _write_pages(output: Path, name: str, config, *, csv: bytes, html: bytes, summary: dict, text: str,
                 as_json: bool, force: bool) -> None:
    """A plan or report folder (<name>.csv, .html, .json), written whole as a kit is (with manifest.json
    and SHA256SUMS), then the summary on the console: as JSON, or as text."""
    from generator import writer
    from generator.artifacts import OutputFile

    summary_bytes = (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files = [OutputFile(f"{name}.csv", csv), OutputFile(f"{name}.html", html), OutputFile(f"{name}.json", summary_bytes)]
    folder = writer.write_kit(output, name, writer.finish_kit(name, config, files), force=force)
    if as_json:
        typer.echo(summary_bytes.decode("utf-8"), nl=False)
    else:
        typer.echo(text, nl=False)
        typer.echo(f"wrote {folder / (name + '.html')}, {name}.csv and {name}.json")


def plan(
    inventory: Annotated[Path, typer.Option("--inventory", help="The computers: an Active Directory export "
                                            "(Get-ADComputer ... | Export-Csv, as the GPO handoff gives) or a "
                                            "ConfigMgr export (as the SCCM handoff gives).")],
    config: ConfigOpt = Path(DEFAULT_CONFIG_NAME),
    output: OutputOpt = Path(DEFAULT_OUTPUT),
    inactive_days: Annotated[int, typer.Option("--inactive-days", min=1, help="Leave out accounts with no logon "
                                               "for more days than this.")] = 90,
    as_of: Annotated[Optional[str], typer.Option("--as-of", metavar="YYYY-MM-DD", help="The date inactivity is "
                                                 "counted from (default: the newest logon in the inventory).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    force: ForceOpt = False,
) -> None:
    """Show which computer of an inventory each target and route will reach, and which none reaches
    and why; writes plan.csv, plan.html and plan.json to <output>/plan/."""
    from generator import fleet_plan, inventory as inventory_mod, pages, project as project_mod
    from generator.formats import csv_table

    day = _date_option("--as-of", as_of)
    project = project_mod.load(config, packages=(), now=_now(), purpose="plan")
    result = fleet_plan.plan(project, inventory_mod.read_inventory(inventory), inventory_name=inventory.name,
                             inactive_days=inactive_days, as_of=day)
    _write_pages(output, "plan", project.config,
                 csv=csv_table.dumps(fleet_plan.COLUMNS, [r.cells() for r in result.rows]),
                 html=pages.plan_page(result), summary=result.summary(), text=fleet_plan.format_summary(result),
                 as_json=as_json, force=force)


def _date_option(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


_PLAN_EPILOG = ("Examples:\n\n  mdegen plan -c mdegen.yaml --inventory inventory.csv -o output\n\n"
                "  mdegen plan --inventory devices.csv --inactive-days 45 --json")


# --- report ---------------------------------------------------------------------------------------


def report(
    results: Annotated[Path, typer.Argument(help="The folder of verification results (<computer>.json, as "
                                            "Test-MdeOnboarding.ps1 -ResultPath writes them).")],
    config: ConfigOpt = Path(DEFAULT_CONFIG_NAME),
    inventory: Annotated[Optional[Path], typer.Option("--inventory", help="Also list the computers the plan of "
                                                      "this inventory covers that never reported.")] = None,
    output: OutputOpt = Path(DEFAULT_OUTPUT),
    stale_days: Annotated[int, typer.Option("--stale-days", min=1, help="A result older than this many days is "
                                            "stale.")] = 7,
    as_of: Annotated[Optional[str], typer.Option("--as-of", metavar="YYYY-MM-DD", help="The date staleness is "
                                                 "counted from (default: the newest result's).")] = None,
    inactive_days: Annotated[int, typer.Option("--inactive-days", min=1, help="As for mdegen plan: the plan of "
                                               "--inventory leaves out accounts with no logon for longer.")] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    force: ForceOpt = False,
) -> None:
    """Turn the verification results into one page an admin reads at a glance: per target how many
    servers are onboarded, failed (and what to do), in the wrong antivirus mode, tagged wrong, of
    another tenant, stale or never reported; writes report.html, report.csv and report.json to
    <output>/report/. A file that is not a result is named and skipped."""
    from generator import fleet_plan, fleet_report, inventory as inventory_mod, pages, project as project_mod
    from generator.formats import csv_table
    from generator.formats.csv_table import visible

    day = _date_option("--as-of", as_of)
    project = project_mod.load(config, packages=(), now=_now(), purpose="report")
    plan_of = None
    if inventory is not None:
        plan_of = fleet_plan.plan(project, inventory_mod.read_inventory(inventory), inventory_name=inventory.name,
                                  inactive_days=inactive_days)
    found, skipped = fleet_report.read_results(results)
    for name, why in skipped:
        typer.echo(f"warning: {visible(str(results / name))}: skipped: {visible(why)}", err=True)
    if not found and not skipped:
        typer.echo(f"warning: {results}: no result files (*.json) in it: is it the folder the results were "
                   "collected in?", err=True)
    result = fleet_report.report(project, found, skipped, results_name=results.resolve().name or str(results),
                                 plan=plan_of,
                                 stale_days=stale_days, as_of=day)
    _write_pages(output, "report", project.config,
                 csv=csv_table.dumps(fleet_report.COLUMNS, [s.cells() for s in result.servers]),
                 html=pages.report_page(result), summary=result.summary(), text=fleet_report.format_summary(result),
                 as_json=as_json, force=force)


_REPORT_EPILOG = ("Examples:\n\n  mdegen report -c mdegen.yaml \\\\fs01\\MDE-Results$ -o output\n\n"
                  "  mdegen report results --inventory inventory.csv --json")


# --- build ----------------------------------------------------------------------------------------


def build(
    configs: Annotated[list[Path], typer.Option("-c", "--config", help="A config file; repeat for many (one "
                                                "release folder each).")] = [Path(DEFAULT_CONFIG_NAME)],  # noqa: B006
    output: OutputOpt = Path(DEFAULT_OUTPUT),
    force: ForceOpt = False,
    as_zip: Annotated[bool, typer.Option("--zip", help="Also write <release>.zip, reproducible (same inputs, same "
                                         "bytes).")] = False,
    check: CheckOpt = False,
) -> None:
    """Build every kit of each config into one versioned, checksummed release folder
    <organization>-<version>/ under the output folder."""
    from generator import integrity, release, writer
    from generator.errors import MdegenError

    failed, changed, done = [], 0, 0
    for config in configs:
        try:
            rel = release.build_release(config, now=_now())
            _warn(rel.warnings)
            folder = output / rel.name
            if check:
                differences = integrity.differences(folder, rel.files)
                if differences:
                    typer.echo("".join(differences), nl=False)
                    changed += 1
                state = f"{len(differences)} file(s) would change" if differences else "up to date"
            else:
                writer.write_kit(output, rel.name, list(rel.files), force=force)
                if as_zip:
                    writer.write_file(output / f"{rel.name}.zip", release.zip_bytes(rel))
                state = f"wrote {len(rel.files)} files"
        except MdegenError as exc:
            failed.append(config)
            typer.echo(f"build {config}: FAILED: {exc}", err=True)
            continue
        done += 1
        left_out = f"; left out: {', '.join(c for c, _ in rel.skipped)}" if rel.skipped else ""
        typer.echo(f"build {config}: {folder} ({', '.join(rel.kits)}){left_out}: {state}", err=True)
    typer.echo(f"{done} of {len(configs)} config(s) built" + (f", {len(failed)} failed" if failed else "")
               + (f", {changed} would change" if check and changed else ""), err=True)
    if failed:
        raise typer.Exit(code=2)
    if changed:
        raise typer.Exit(code=1)


_BUILD_EPILOG = ("Examples:\n\n  mdegen build -c mdegen.yaml -o releases\n\n"
                 "  mdegen build -c tenants/a.yaml -c tenants/b.yaml -o releases --zip\n\n"
                 "  mdegen build -c mdegen.yaml -o releases --check")


# --- generating commands: one per kit of the registry ---------------------------------------------


def generate(kit: Kit, config: Path, output: Path, force: bool, check: bool = False) -> Path:
    """What every generating command does: config and the kit's packages in, one kit folder out.
    With ``check`` nothing is written: the differences with the kit on disk are printed."""
    from generator import project as project_mod, writer

    project = project_mod.load(config, packages=kit.packages, now=_now(), purpose=kits.purpose_of([kit]))
    _warn(project.warnings)
    _warn(kit.check(project))
    files = writer.finish_kit(kit.name, project.config, kit.build(project))
    if check:
        from generator import integrity

        folder = output / kit.name
        differences = integrity.differences(folder, files)
        if differences:
            typer.echo("".join(differences), nl=False)
            typer.echo(f"{folder}: {len(differences)} file(s) would change")
            raise typer.Exit(code=1)
        typer.echo(f"{folder}: up to date ({len(files)} files)")
        return folder
    folder = writer.write_kit(output, kit.name, files, force=force)
    typer.echo(f"wrote {len(files)} files to {folder}")
    return folder


def _kit_command(kit: Kit):
    def command(
        config: ConfigOpt = Path(DEFAULT_CONFIG_NAME),
        output: OutputOpt = Path(DEFAULT_OUTPUT),
        force: ForceOpt = False,
        check: CheckOpt = False,
    ) -> None:
        generate(kit, config, output, force, check)

    command.__doc__ = kit.summary
    command.__name__ = kit.command.replace("-", "_")
    return command


def make_app(registry: tuple[Kit, ...] | None = None) -> typer.Typer:
    """The CLI with one generating command per kit of ``registry`` (default: kits.KITS)."""
    registry = kits.KITS if registry is None else registry
    app = _new_app()
    app.callback()(_root)
    app.command(epilog=_INIT_EPILOG)(init)
    app.command(epilog=_SCHEMA_EPILOG)(schema)
    app.command(epilog=_VALIDATE_EPILOG)(validate)
    app.command(epilog=_INSPECT_EPILOG)(inspect)
    app.command(epilog=_VERIFY_EPILOG)(verify)
    app.command(epilog=_BUILD_EPILOG)(build)
    app.command(epilog=_DIFF_EPILOG)(diff)
    app.command(epilog=_PLAN_EPILOG)(plan)
    app.command(epilog=_REPORT_EPILOG)(report)
    for kit in registry:
        epilog = (f"Example:\n\n  mdegen {kit.command} -c mdegen.yaml -o output\n\n"
                  f"  writes output/{kit.name}/: {kit.writes}")
        app.command(kit.command, epilog=epilog)(_kit_command(kit))
    return app


# --- entry point ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI. Usage errors are reported by Typer (exit 2); MdegenError becomes one line (exit 2)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        make_app()(args=args, prog_name="mdegen", standalone_mode=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MdegenError as exc:
        if _DEBUG or "--debug" in args:
            raise
        kind = {ConfigError: "config error", PackageError: "package error", OutputError: "output error",
                InventoryError: "inventory error"}.get(type(exc), "error")
        typer.echo(f"mdegen: {kind}: {exc}", err=True)
        code = 2
    if argv is None:
        sys.exit(code)
    return code
