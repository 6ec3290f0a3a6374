"""`mdegen diff` (issue 12): what changed between two releases, in the terms an admin reviews."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, strategies as st

from gitcopy import GIT, commit_and_clone
from generator import cli, synthetic
from generator.escaping import ps_single_quoted
from generator.formats import ps_data

OLD_NAME = "Contoso-Example-Ltd-2026.1.0"
NEW_NAME = "Contoso-Example-Ltd-2026.2.0"
NEW_TARGET = "  - name: Domain controllers\n    os: [2019, 2022, 2025]\n    domain_controllers: only\n"


def _edit(config, *pairs):
    text = config.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new, 1)
    config.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """The example's release, and the next one: one setting, one target, a newer onboarding package."""
    root = tmp_path_factory.mktemp("diff")
    assert cli.main(["init", "--example", str(root / "ex"), "--force"]) == 0
    config = root / "ex" / "mdegen.yaml"
    assert cli.main(["build", "-c", str(config), "-o", str(root / "out")]) == 0
    _edit(config, ('version: "2026.1.0"', 'version: "2026.2.0"'),
          ("sample_collection: true", "sample_collection: false"),
          ("  - name: Server 2008 R2\n", NEW_TARGET + "  - name: Server 2008 R2\n"))
    (root / "ex" / "packages" / "WindowsDefenderATPOnboardingPackage.zip").write_bytes(
        synthetic.onboarding_zip(version="1.57"))
    assert cli.main(["build", "-c", str(config), "-o", str(root / "out")]) == 0
    return root / "out" / OLD_NAME, root / "out" / NEW_NAME


def _diff_json(capsys, old, new, code=1):
    capsys.readouterr()
    assert cli.main(["diff", "--json", str(old), str(new)]) == code
    return json.loads(capsys.readouterr().out)


def _objects(doc, kit):
    return {(o["kind"], o["name"]): o for k in doc["kits"] if k["kit"] == kit for o in k["objects"]}


def _items(obj):
    return {i["item"]: (i["old"], i["new"]) for i in obj["items"]}


def test_one_setting_one_target_one_package_are_exactly_three_changes(releases, capsys):
    doc = _diff_json(capsys, *releases)
    assert [(c["kind"], c["subject"]) for c in doc["changes"]] == [
        ("setting changed", "settings.sample_collection"),
        ("target added", "Domain controllers"),
        ("package changed", "packages.onboarding"),
    ]
    package = doc["changes"][2]
    assert (package["old"]["version"], package["new"]["version"]) == ("1.56", "1.57")
    assert package["old"]["sha256"] != package["new"]["sha256"]

    # What the three do to the kits, decoded from the artifacts.
    gpo = _objects(doc, "gpo")
    sample = r"policy HKLM\Software\Policies\Microsoft\Windows Advanced Threat Protection\AllowSampleCollection"
    assert _items(gpo[("GPO", "MDE Onboarding - Servers")]) == {sample: ("REG_DWORD 1", "REG_DWORD 0")}
    added = gpo[("GPO", "MDE Onboarding - Domain controllers")]
    assert added["status"] == "added" and added["target"] == "Domain controllers"
    assert _items(added)["WMI filter"][1].startswith("MDE - Domain controllers")
    (wmi,) = [o for (kind, _), o in gpo.items() if kind == "WMI filter"]
    assert wmi["status"] == "added" and "ProductType = 2" in _items(wmi)["query"][1]
    sccm = _objects(doc, "sccm")
    script = _items(sccm[("SCCM package", "MDE Onboarding - Server 2012 R2 and 2016")])[
        "source WindowsDefenderATPOnboardingScript.cmd"]
    assert script[0] != script[1]
    # The 2019-and-later servers are on the policy route: the setting is the policy's sample sharing,
    # and the portal's onboarding script is no part of it (the policy is made from its own file).
    assert _items(sccm[("Defender for Endpoint policy", "MDE Onboarding - Servers")]) == {"sample sharing": ("All", "None")}
    assert {o["kind"] for o in sccm.values() if o["target"] == "Domain controllers"} == {
        "SCCM package", "collection", "configuration baseline"}
    # Nothing is reported of a target that did not change but through the package or the setting.
    untouched = [o for k in doc["kits"] for o in k["objects"] if o["status"] != "changed"]
    assert {o["target"] for o in untouched} == {"Domain controllers"}


def test_the_text_is_for_a_change_request(releases, capsys):
    capsys.readouterr()
    assert cli.main(["diff", *map(str, releases)]) == 1
    out = capsys.readouterr().out
    assert "Changes in the config and its packages (3):" in out
    assert "1. setting changed: settings.sample_collection: true -> false" in out
    assert "3. package changed: packages.onboarding: version 1.56 -> 1.57" in out
    assert "AllowSampleCollection: REG_DWORD 1 -> REG_DWORD 0" in out


def test_a_release_against_itself_and_its_git_clone_is_the_same(releases, tmp_path, capsys):
    old, _ = releases
    doc = _diff_json(capsys, old, old, code=0)
    assert doc["same"] and doc["changes"] == [] and doc["kits"] == []
    if GIT is not None:
        clone = commit_and_clone(old.parent, tmp_path / "clone") / old.name
        assert _diff_json(capsys, old, clone, code=0)["same"]


def test_two_kit_folders_report_their_objects_and_no_config_changes(releases, tmp_path, capsys):
    old, new = releases
    doc = _diff_json(capsys, old / "gpo", new / "gpo")
    assert doc["changes"] == [] and [k["kit"] for k in doc["kits"]] == ["gpo"]
    assert ("GPO", "MDE Onboarding - Domain controllers") in _objects(doc, "gpo")
    capsys.readouterr()
    assert cli.main(["diff", str(old / "gpo"), str(new / "sccm")]) == 2
    assert "compare two releases, or two folders of one kit" in capsys.readouterr().err


def test_asr_modes_task_and_wmi_queries_are_named(tmp_path, capsys):
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    config = tmp_path / "ex" / "mdegen.yaml"
    assert cli.main(["gpo", "-c", str(config), "-o", str(tmp_path / "a")]) == 0
    _edit(config, ("9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2: audit", "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2: block"),
          ("    os: [2019, 2022, 2025]\n", "    os: [2022, 2025]\n"),
          (r"share: \\fs01.contoso.example\MDE$\Onboarding", r"share: \\fs02.contoso.example\MDE$\Onboarding"))
    assert cli.main(["gpo", "-c", str(config), "-o", str(tmp_path / "b")]) == 0
    gpo = _objects(_diff_json(capsys, tmp_path / "a" / "gpo", tmp_path / "b" / "gpo"), "gpo")
    servers = _items(gpo[("GPO", "MDE Onboarding - Servers")])
    assert servers["ASR rule 9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2 (Block credential stealing from the Windows "
                   "local security authority subsystem)"] == ("audit (2)", "block (1)")
    old_task, new_task = servers["task 'MDE Onboarding' command"]
    assert "fs01" in old_task and "fs02" in new_task
    # The WMI filter is renamed with its releases: the old one goes, the new one comes.
    filters = {name: o for (kind, name), o in gpo.items() if kind == "WMI filter"}
    assert {o["status"] for o in filters.values()} == {"added", "removed"}
    (added,) = [o for o in filters.values() if o["status"] == "added"]
    assert 'BuildNumber = "17763"' not in _items(added)["query"][1]


def test_a_folder_mdegen_did_not_write_is_refused(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "manifest.json").write_text('{"generator": "other"}', encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["diff", str(tmp_path / "x"), str(tmp_path / "x")]) == 2
    assert "is not one mdegen wrote" in capsys.readouterr().err
    assert cli.main(["diff", str(tmp_path / "nothing"), str(tmp_path / "x")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_a_damaged_artifact_is_reported_not_fatal(releases, tmp_path, capsys):
    old, _ = releases
    copy = tmp_path / "copy"
    shutil.copytree(old / "gpo", copy)
    (pol,) = [p for p in copy.rglob("registry.pol") if "696B9C1A" in str(p)]
    pol.write_bytes(b"PReg\x01\x00\x00\x00[broken")
    gpo = _objects(_diff_json(capsys, old / "gpo", copy), "gpo")
    items = _items(gpo[("GPO", "MDE Onboarding - Server 2008 R2")])
    assert items["does not parse: registry.pol"][0] is None and "PReg" not in items["does not parse: registry.pol"][1]


# --- the PowerShell data reader --------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)


@given(st.lists(st.fixed_dictionaries({"Name": _TEXT, "Query": _TEXT}), max_size=4), _TEXT)
def test_the_data_reader_reads_back_what_mdegen_writes(records, kit):
    lines = [f"$Kit = [pscustomobject]@{{\n    Release = {ps_single_quoted(kit)}\n}}", "", "$Packages = @("]
    for r in records:
        lines.append("    [pscustomobject]@{")
        lines += [f"        {k} = {ps_single_quoted(v)}" for k, v in r.items()]
        lines.append("        Files = @(\n            [pscustomobject]@{ Name = 'a'; Size = 3 }\n        )")
        lines.append("        Collection = $null\n    }")
    lines += [")", "", "$changed = @($x | Where-Object { $_ })"]
    data = ps_data.loads("\r\n".join(lines), ["Kit", "Packages"])     # $changed is code: not read
    assert data["Kit"] == {"Release": kit}
    assert data["Packages"] == [{**r, "Files": [{"Name": "a", "Size": 3}], "Collection": None} for r in records]


def test_the_data_reader_names_the_line_it_cannot_read():
    with pytest.raises(ps_data.PsDataError, match=r"line 2: \$Gpos"):
        ps_data.loads("# data\n$Gpos = @(\n    [pscustomobject]@{ Name = \"double\" }\n)\n", ["Gpos"])


# --- what the review of the first version found ----------------------------------------------------

def test_a_change_no_reviewed_field_shows_is_named_as_a_file(releases, tmp_path, capsys):
    old, _ = releases
    copy = tmp_path / "gpo"
    shutil.copytree(old / "gpo", copy)
    gpo_folder = next(p for p in (copy / "GPOs").iterdir() if (p / "DomainSysvol").is_dir()
                      and "Servers" in (p / "bkupInfo.xml").read_text(encoding="utf-8"))
    tasks = gpo_folder / "DomainSysvol/GPO/Machine/Preferences/ScheduledTasks/ScheduledTasks.xml"
    tasks.write_bytes(tasks.read_bytes().replace(b"<Enabled>true</Enabled>", b"<Enabled>false</Enabled>", 1))
    backup = gpo_folder / "Backup.xml"
    backup.write_bytes(backup.read_bytes() + b" ")
    extra = gpo_folder / "DomainSysvol/GPO/Machine/Preferences/Registry/Registry.xml"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(b"<RegistrySettings/>")
    doc = _diff_json(capsys, old / "gpo", copy)
    servers = _items(_objects(doc, "gpo")[("GPO", "MDE Onboarding - Servers")])
    assert list(servers) == ["task 'MDE Onboarding' settings"]
    other = {f["path"]: f["status"] for k in doc["kits"] for f in k["other_files"]}
    prefix = f"GPOs/{gpo_folder.name}/"
    assert other == {prefix + "Backup.xml": "changed",
                     prefix + "DomainSysvol/GPO/Machine/Preferences/Registry/Registry.xml": "added"}

    sccm = tmp_path / "sccm"
    shutil.copytree(old / "sccm", sccm)
    sms = sccm / "packages/MDE-Onboarding-Server-2008-R2/MDE-Onboarding-Server-2008-R2.sms"
    sms.write_bytes(sms.read_bytes().replace(b"CanRunWhen=AnyUserStatus", b"CanRunWhen=UserLoggedOn"))
    (sccm / "policy/WindowsDefenderATP.onboarding").write_bytes(b"{}")
    objects = _objects(_diff_json(capsys, old / "sccm", sccm), "sccm")
    package = objects[("SCCM package", "MDE Onboarding - Server 2008 R2")]
    assert _items(package) == {"program 'Onboard' CanRunWhen": ("AnyUserStatus", "UserLoggedOn")}
    # A policy's file is read by its hash: a changed byte shows on the policy made from it.
    policy = _items(objects[("Defender for Endpoint policy", "MDE Onboarding - Servers")])
    assert list(policy) == ["file WindowsDefenderATP.onboarding"] and policy["file WindowsDefenderATP.onboarding"][1].startswith("sha256 ")


def test_a_comment_in_the_config_is_a_difference(releases, tmp_path, capsys):
    old, _ = releases
    copy = tmp_path / old.name
    shutil.copytree(old, copy)
    (copy / "mdegen.yaml").write_bytes((copy / "mdegen.yaml").read_bytes() + b"# reviewed\n")
    doc = _diff_json(capsys, old, copy)
    assert doc["changes"] == [] and doc["kits"] == []
    assert doc["release_files"] == [{"path": "mdegen.yaml", "status": "changed"}]


def test_a_release_against_one_of_its_kits_compares_that_kit(releases, capsys):
    old, new = releases
    doc = _diff_json(capsys, old, new / "sccm")
    assert [k["kit"] for k in doc["kits"]] == ["sccm"] and doc["changes"] == [] and doc["release_files"] == []
    assert _diff_json(capsys, old, old / "gpo", code=0)["same"]


def test_a_data_section_that_does_not_read_stops_the_diff(releases, tmp_path, capsys):
    old, _ = releases
    copy = tmp_path / "sccm"
    shutil.copytree(old / "sccm", copy)
    script = copy / "New-MdeCmPackage.ps1"
    script.write_bytes(script.read_bytes().replace(b"Language       = 'Neutral'", b'Language       = "Neutral"', 1))
    capsys.readouterr()
    assert cli.main(["diff", str(old / "sccm"), str(copy)]) == 2
    err = capsys.readouterr().err
    assert "New-MdeCmPackage.ps1: its data section does not read (line" in err and "mdegen verify" in err


def test_settings_read_as_mdegen_reads_them(tmp_path, capsys):
    """`off` stays off (YAML 1.1 would make it false); listing the default target and adding one
    is one target added; VDI pools added with the section are one change per pool."""
    assert cli.main(["init", "--example", str(tmp_path / "ex"), "--force"]) == 0
    config = tmp_path / "ex" / "mdegen.yaml"
    text = config.read_text(encoding="utf-8")
    head, rest = text[:text.index("targets:\n")], text[text.index("\ndownlevel:"):]
    downlevel_free = head + rest[:rest.index("\nvdi:")] + "\n"          # no targets: the default one
    config.write_text(downlevel_free, encoding="utf-8")
    assert cli.main(["build", "-c", str(config), "-o", str(tmp_path / "a")]) == 0
    explicit = head.replace("pua_protection: block", "pua_protection: off") + \
        "targets:\n  - name: Servers\n" + NEW_TARGET + rest
    config.write_text(explicit.replace('version: "2026.1.0"', 'version: "2026.1.1"'), encoding="utf-8")
    assert cli.main(["build", "-c", str(config), "-o", str(tmp_path / "b")]) == 0
    a, b = tmp_path / "a" / OLD_NAME, tmp_path / "b" / "Contoso-Example-Ltd-2026.1.1"
    doc = _diff_json(capsys, a, b)
    assert [(c["kind"], c["subject"]) for c in doc["changes"]] == [
        ("setting changed", "settings.pua_protection"), ("target added", "Domain controllers"),
        ("VDI pool added", "Citrix pool"), ("VDI pool added", "Kiosks")]
    assert (doc["changes"][0]["old"], doc["changes"][0]["new"]) == ("block", "off")
    back = _diff_json(capsys, b, a)
    assert [c["kind"] for c in back["changes"]] == ["setting changed", "target removed", "VDI pool removed",
                                                     "VDI pool removed"]


@pytest.mark.parametrize("edit,message", [
    (lambda m: {**m, "kits": 5}, "its list of kits is not one mdegen writes"),
    (lambda m: {**m, "kits": ["../../x"]}, "its list of kits is not one mdegen writes"),
    (lambda m: {**m, "packages": [{"field": ["x"]}]}, "its list of packages is not one mdegen writes"),
    (lambda m: {**m, "kit": "foo"}, "names a kit mdegen does not know"),
])
def test_an_odd_manifest_is_refused_in_mdegens_words(edit, message, releases, tmp_path, capsys):
    old, _ = releases
    copy = tmp_path / old.name
    shutil.copytree(old, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    (copy / "manifest.json").write_text(json.dumps(edit(manifest)), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["diff", str(old), str(copy)]) == 2
    assert message in capsys.readouterr().err
