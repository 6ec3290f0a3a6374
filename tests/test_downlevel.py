"""The down-level routes (issue 10): payloads, how each route starts them, the prerequisites
table, secrets that never reach the output, and bad input that leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import pytest

import scenarios
from generator import cli, config, kits, launch, payloads, prerequisites, project, releases, synthetic
from generator.escaping import ps_unquote_single

DOWNLEVEL = scenarios.ROOT / "downlevel"
TODAY = dt.date(2026, 12, 1)


def _materialised(tmp_path: Path) -> Path:
    return scenarios.materialise(DOWNLEVEL, tmp_path / "cfg")


def _project(cfg_path: Path, kit=kits.DOWNLEVEL):
    return scenarios.project_of(config.load(cfg_path), kit, today=TODAY)


# --- payloads and launch --------------------------------------------------------------------


def _payload(agent: str, passive: bool | None, proxy: str | None = None) -> payloads.Payload:
    settings = config.Settings(passive_mode=passive)
    tool, blob = payloads.HostedFile("DefenderDT.exe", b"MZ"), payloads.HostedFile("WindowsDefenderATP.onboarding", b"{}")
    if agent == "defenderdt":
        return payloads.defenderdt_onboarding(tool, blob, settings, proxy=proxy)
    files = [payloads.HostedFile(n, b"x") for n in ("w.ps1", "install.ps1", "md4ws.msi", "on.cmd")]
    return payloads.unified_onboarding(*files, settings)


@pytest.mark.parametrize("passive, proxy, expected", [
    (True, None, "-File:{here}WindowsDefenderATP.onboarding -Quiet -Passive"),
    (False, None, "-File:{here}WindowsDefenderATP.onboarding -Quiet"),
    (None, "proxy.contoso.com:8080", "-File:{here}WindowsDefenderATP.onboarding -Quiet -Proxy:http://proxy.contoso.com:8080"),
    (None, "https://proxy.contoso.com:8443", "-File:{here}WindowsDefenderATP.onboarding -Quiet -Proxy:https://proxy.contoso.com:8443"),
])
def test_defenderdt_arguments(passive, proxy, expected):
    assert " ".join(_payload("defenderdt", passive, proxy).arguments) == expected


def test_unified_payload_passes_passive_to_the_wrapper_only_when_on():
    assert _payload("unified", True).arguments == ("-Passive",)
    assert _payload("unified", False).arguments == () == _payload("unified", None).arguments


def test_each_route_writes_the_folder_its_own_way():
    p = _payload("defenderdt", True)
    command, args = launch.task_command(p, r"\\fs.contoso.com\MDE$")
    assert command == r"\\fs.contoso.com\MDE$\DefenderDT.exe"
    assert args == r"-File:\\fs.contoso.com\MDE$\WindowsDefenderATP.onboarding -Quiet -Passive"
    _, spaced = launch.task_command(p, r"\\fs.contoso.com\MDE$\My Folder")
    assert spaced.startswith(r'-File:"\\fs.contoso.com\MDE$\My Folder\WindowsDefenderATP.onboarding" ')
    assert launch.launcher_line(p) == '"%~dp0DefenderDT.exe" -File:"%~dp0WindowsDefenderATP.onboarding" -Quiet -Passive'
    u = _payload("unified", True)
    command, args = launch.task_command(u, r"\\fs.contoso.com\MDE$")
    assert command == launch.POWERSHELL and args.endswith(r"-File \\fs.contoso.com\MDE$\w.ps1 -Passive")
    assert launch.launcher_line(u).startswith('"%MDE_POWERSHELL%" ')
    assert launch.program_command_line(u, "L.cmd") == "L.cmd" and launch.needs_launcher(u)


def test_a_ps1_payload_cannot_name_its_folder_in_arguments():
    u = payloads.Payload(role="onboarding", files=(), command="x.ps1", success=payloads.ONBOARDED, exit_codes=(),
                         arguments=(f"-Path:{payloads.HERE}y",))
    with pytest.raises(ValueError, match="finds its files itself"):
        launch.launcher_line(u)


def test_every_release_and_agent_has_its_prerequisites():
    for r in releases.RELEASES:
        for agent in r.agents:
            assert prerequisites.needs(r.key, agent).build in r.builds, (r.key, agent)
    with pytest.raises(KeyError):
        prerequisites.needs("2008r2", releases.UNIFIED)


def test_mma_cloud_type_follows_the_tenant_unless_configured(tmp_path):
    gov = synthetic.onboarding_script(datacenter="UsGovTexas")
    (tmp_path / "on.cmd").write_bytes(gov)
    from generator import portal
    pkg = portal.read_package(tmp_path / "on.cmd")
    base = ("version: 1\norganization: X\nrelease: {version: '1', date: 2026-12-01}\npackages: {onboarding: on.cmd}\n")
    auto = config.loads(base, source="x")
    assert project.mma_cloud_type(auto, pkg) == 1 and project.mma_cloud_type(auto, None) == 0
    china = config.loads(base + "downlevel: {cloud: china}\n", source="x")
    assert project.mma_cloud_type(china, pkg) == 2


# --- the generated scripts check what mdegen packed -------------------------------------------


def _data_hashes(script: Path) -> dict[str, str]:
    """Name -> SHA-256 pairs of a payload script's data block."""
    text = script.read_text(encoding="utf-8-sig")
    pairs = re.findall(r"Name = ('(?:[^']|'')*'); Sha256 = ('[0-9A-F]{64}')", text)
    found = {ps_unquote_single(n): ps_unquote_single(h) for n, h in pairs}
    setup = re.search(r"Setup\s+= ('[^']*')\s+SetupSha256\s+= ('[0-9A-F]{64}')", text)
    if setup:
        found[ps_unquote_single(setup.group(1))] = ps_unquote_single(setup.group(2))
    return found


@pytest.mark.parametrize("script", sorted(p for p in scenarios.ROOT.rglob("*.ps1")
                                          if p.name in ("Install-MdeUnifiedAgent.ps1", "Install-MdeMma.ps1")),
                         ids=lambda p: p.relative_to(scenarios.ROOT).as_posix())
def test_payload_scripts_record_the_hashes_of_the_files_beside_them(script):
    recorded = _data_hashes(script)
    assert recorded, "no file hashes in the data block"
    for name, sha in recorded.items():
        assert hashlib.sha256((script.parent / name).read_bytes()).hexdigest().upper() == sha, name


# --- secrets ----------------------------------------------------------------------------------

KEY = "MDEGENPLANTEDKEY" + "A" * 68 + "=="           # shaped like a workspace key, easy to find
PASSWORD = "MdegenPlantedProxyPassword-7"


def test_planted_secrets_reach_no_output(tmp_path, monkeypatch, capsys):
    cfg = _materialised(tmp_path)
    for folder in (cfg.parent, cfg.parent / "packages"):
        (folder / "MdeWorkspaceKey.txt").write_text(KEY + "\n", encoding="ascii")
        (folder / "MdeProxyPassword.txt").write_text(PASSWORD + "\n", encoding="ascii")
    monkeypatch.setenv("MDE_MMA_WORKSPACE_KEY", KEY)
    monkeypatch.setenv("MDE_PROXY_PASSWORD", PASSWORD)
    out = tmp_path / "out"
    for kit in (kits.GPO, kits.SCCM, kits.DOWNLEVEL):
        assert cli.main([kit.command, "-c", str(cfg), "-o", str(out)]) == 0, kit.name
    assert cli.main(["validate", "-c", str(cfg)]) == 0         # the vdi kit has no pools: not fatal alone
    printed = capsys.readouterr()
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) > 40
    for secret in (KEY, PASSWORD):
        forms = [secret.encode(enc) for enc in ("ascii", "utf-16-le", "utf-16-be")]
        for p in written:
            data = p.read_bytes()
            assert not any(f in data for f in forms), (secret, p)
        assert secret not in printed.out and secret not in printed.err


def test_no_golden_file_holds_a_workspace_key_property_value():
    # Every OPINSIGHTS_WORKSPACE_KEY in a golden file takes its value from the run-time variable.
    for p in scenarios.ROOT.rglob("*"):
        if p.is_file() and p.suffix in (".ps1", ".cmd", ".md", ".txt"):
            text = p.read_bytes().decode("utf-8", "replace")
            for m in re.finditer(r"OPINSIGHTS_(?:WORKSPACE_KEY|PROXY_PASSWORD)=(\S+)", text):
                assert m.group(1) in ('"{0}"\'', "(hidden)", "(hidden)'", "(hidden){1}"), (p, m.group(0))


# --- bad input: exit 2, the field named, nothing written ------------------------------------


@pytest.mark.parametrize("edit, field", [
    (("agent: mma", "agent: unified"), "targets[3].agent"),                       # unified on 2012 R2 is fine ...
    (("os: [2008r2]\n    agent: defenderdt", "os: [2008r2]\n    agent: unified"), "targets[1].agent"),
    (("workspace_id: 0f0e0d0c-0b0a-4988-8776-655443322110", "workspace_id: 12345"), "downlevel.workspace_id"),
    (("proxy: proxy.fabrikam.example:8080", "proxy: 'http://u:pw@proxy.fabrikam.example:8080'"), "downlevel.proxy"),
    (("  mma_setup: packages/MMASetup-AMD64.exe\n", ""), "packages.mma_setup"),
])
def test_bad_down_level_input_exits_2_naming_the_field(tmp_path, capsys, edit, field):
    cfg = _materialised(tmp_path)
    text = cfg.read_text(encoding="utf-8")
    assert edit[0] in text
    cfg.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    out = tmp_path / "out"
    rc = cli.main(["downlevel", "-c", str(cfg), "-o", str(out)])
    if field == "targets[3].agent":                                # ... so this one builds
        assert rc == 0
        return
    assert rc == 2
    assert field in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("which, data", [
    ("md4ws.msi", synthetic.fake_pe("md4ws.msi")),
    ("DefenderDT.exe", b"PK\x03\x04 not a program"),
    ("MMASetup-AMD64.exe", synthetic.fake_msi()),
    ("install.ps1", synthetic.fake_install_ps1().split(b"# SIG # Begin")[0]),
])
def test_a_fake_or_corrupt_agent_file_exits_2(tmp_path, capsys, which, data):
    cfg = _materialised(tmp_path)
    (cfg.parent / "packages" / which).write_bytes(data)
    out = tmp_path / "out"
    assert cli.main(["gpo", "-c", str(cfg), "-o", str(out)]) == 2
    assert "packages." in capsys.readouterr().err and not out.exists()


def test_the_example_shows_every_down_level_route_of_2026(tmp_path):
    assert cli.main(["init", "--example", str(tmp_path), "--force"]) == 0
    p = project.load(tmp_path / "mdegen.yaml", packages=kits.DOWNLEVEL.packages,
                     now=dt.datetime(2026, 1, 15, 12, tzinfo=dt.timezone.utc), purpose="downlevel onboarding")
    assert {t.agent for t in p.targets} == {None, "unified", "defenderdt"}
    for f in p.agent_files.values():
        assert b"FAKE" in f.data or synthetic.FAKE_ORG_ID.encode() in f.data      # never a real Microsoft file


def test_downlevel_kit_refuses_a_config_without_down_level_targets(tmp_path, capsys):
    shutil.copytree(scenarios.ROOT / "two-targets", tmp_path / "s")
    cfg = scenarios.materialise(tmp_path / "s", tmp_path / "cfg")
    assert cli.main(["downlevel", "-c", str(cfg), "-o", str(tmp_path / "out")]) == 2
    assert "targets: name no down-level server" in capsys.readouterr().err


def test_embedding_is_an_explicit_opt_in_named_secret(tmp_path, capsys):
    cfg = _materialised(tmp_path)
    (cfg.parent / "key.txt").write_text(KEY + "\n", encoding="ascii")
    text = cfg.read_text(encoding="utf-8").replace(
        "downlevel:\n", "downlevel:\n  embed_secrets: true\n  workspace_key_file: key.txt\n")
    cfg.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    for kit in (kits.GPO, kits.SCCM, kits.DOWNLEVEL):
        assert cli.main([kit.command, "-c", str(cfg), "-o", str(out)]) == 0
    assert "embed_secrets" in capsys.readouterr().err                  # warned at every build
    holding = sorted(p.name for p in out.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes())
    assert holding and set(holding) == {"Install-MdeMma-SECRET.ps1"}
    assert "This kit holds the" in (out / "downlevel" / "HANDOFF.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("extra, field", [
    ("  embed_secrets: true\n", "downlevel.workspace_key_file"),
    ("  workspace_key_file: key.txt\n", "downlevel.workspace_key_file"),
    ("  embed_secrets: true\n  workspace_key_file: missing.txt\n", "downlevel.workspace_key_file"),
    ("  embed_secrets: true\n  workspace_key_file: bad.txt\n", "downlevel.workspace_key_file"),
])
def test_embedding_needs_a_readable_key_file(tmp_path, capsys, extra, field):
    cfg = _materialised(tmp_path)
    (cfg.parent / "bad.txt").write_text("not a key; rm -rf\n", encoding="ascii")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("downlevel:\n", "downlevel:\n" + extra), encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["downlevel", "-c", str(cfg), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert field in err and "not a key" not in err and not out.exists()
