"""`mdegen plan` (issue 13): the inventory reader, the plan's decisions held against the generated
WMI filters, the example's golden files, escaping, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given, strategies as st

import scenarios
from generator import cli, example_fleet, fleet_plan, project
from generator.config import Config
from generator.errors import InventoryError
from generator.formats import csv_table
from generator.inventory import read_inventory
from generator.targeting import wql_for
from test_targeting import OS_TABLE, wql_matches

GOLDEN = scenarios.ROOT / "example" / "plan"
NOW = dt.datetime(2026, 1, 15, 12, tzinfo=dt.timezone.utc)


def _project(targets, *, share=True, pools=None):
    data = {"version": 1, "organization": "Contoso Ltd", "release": {"version": "1", "date": dt.date(2026, 1, 15)},
            "packages": {"onboarding": "x.zip"}, "targets": targets}
    if share:
        data["share"] = "\\\\fs01.contoso.com\\MDE$\\Onboarding"
    if pools:
        data["vdi"] = {"pools": pools}
    return project.from_config(Config.model_validate(data), packages=(), now=NOW, purpose="plan", source="t.yaml")


def _ad_row(name, os_name, version, group="515", enabled="True", last="2026-01-15T08:00:00", dn=None):
    return {"Name": name, "DNSHostName": "", "OperatingSystem": os_name, "OperatingSystemVersion": version,
            "PrimaryGroupID": group, "Enabled": enabled, "LastLogonDate": last,
            "DistinguishedName": dn or f"CN={name},OU=Servers,DC=contoso,DC=com"}


def _write_ad(path, rows):
    path.write_bytes(csv_table.dumps(example_fleet.INVENTORY_COLUMNS, rows))
    return path


# --- the plan decides as the filters do ------------------------------------------------------------

def _ad_name(os) -> str:
    """The OperatingSystem attribute Active Directory holds for a row of the OS table."""
    caption = os.caption.replace(" member server", "").replace(" domain controller", "")
    if os.multi_session:
        return re.sub(r"multi-session .*", "multi-session", caption)
    if os.product_type == 1:
        return re.sub(r"^(Windows \d+|Windows 8\.1|Windows 7)\b.*", r"\1 Enterprise", caption)
    return caption.replace("Windows Server, version ", "Windows Server Datacenter ")


LAYOUTS = {
    "the example": None,
    "members, DCs apart, down-level with agents": [
        {"name": "Members", "os": ["2019", "2022", "2025"]},
        {"name": "DCs", "os": ["2019", "2022", "2025"], "domain_controllers": "only"},
        {"name": "Old", "os": ["2012r2", "2016"], "agent": "unified", "domain_controllers": True},
        {"name": "Oldest", "os": ["2008r2"], "agent": "defenderdt"}],
    "SAC with DCs, MMA for 2016": [
        {"name": "SAC", "os": ["sac"], "domain_controllers": True},
        {"name": "MMA", "os": ["2016"], "agent": "mma"}],
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_plan_target_is_the_one_whose_filter_matches_every_release(layout, tmp_path):
    """Every OS of the targeting tests' table (servers of every release, as members and as DCs,
    workstations, multi-session hosts) as Active Directory exports it: the target the plan gives is
    the one whose generated WQL matches the computer's real WMI values."""
    targets = LAYOUTS[layout]
    if targets is None:
        config = tmp_path / "ex" / "mdegen.yaml"
        assert cli.main(["init", "--example", str(config.parent), "--force"]) == 0
        p = project.load(config, packages=(), now=NOW, purpose="plan")
    else:
        p = _project(targets)
    rows = [_ad_row(f"PC{i}", _ad_name(os), f"{os.version.rsplit('.', 1)[0]} ({os.build})",
                    group="516" if os.product_type == 2 else "515") for i, os in enumerate(OS_TABLE)]
    result = fleet_plan.plan(p, read_inventory(_write_ad(tmp_path / "inv.csv", rows)), inventory_name="inv.csv")
    assert len(result.rows) == len(OS_TABLE)
    for os, row in zip(OS_TABLE, result.rows):
        by_filter = {t.name for t in p.targets if wql_matches(wql_for(t), os.row())}
        assert set(row.filter_targets) == by_filter, os.caption
        assert len(by_filter) <= 1                       # the config refuses overlapping targets
        assert row.target == (by_filter.pop() if by_filter else ""), os.caption
        assert row.covered == bool(row.target)


def test_every_row_of_the_example_inventory_matches_its_filter(tmp_path):
    config = tmp_path / "ex" / "mdegen.yaml"
    assert cli.main(["init", "--example", str(config.parent), "--force"]) == 0
    p = project.load(config, packages=(), now=NOW, purpose="plan")
    result = fleet_plan.plan(p, read_inventory(config.parent / "inventory.csv"), inventory_name="inventory.csv")
    for row in result.rows:
        wmi = row.computer.wmi()
        by_filter = {t.name for t in p.targets if wmi and wql_matches(wql_for(t), wmi)}
        assert set(row.filter_targets) == by_filter, row.computer.name
        if row.covered and row.route.startswith(("GPO", "SCCM")):
            assert {row.target} == by_filter
    # Every reason the plan knows occurs in the example (but a down-level release no target lists:
    # the example lists all three), and each target and pool covers someone.
    assert {r.reason_code for r in result.rows if not r.covered} == set(fleet_plan.REASONS) - {"no-agent-target"}
    assert {r.target for r in result.rows if r.covered} == {t.name for t in p.targets} | {"Citrix pool", "Kiosks"}


# --- golden files of the example -------------------------------------------------------------------

def test_the_example_plan_is_pinned(tmp_path, file_regression, capsys):
    config = tmp_path / "ex" / "mdegen.yaml"
    assert cli.main(["init", "--example", str(config.parent), "--force"]) == 0
    capsys.readouterr()
    assert cli.main(["plan", "-c", str(config), "--inventory", str(config.parent / "inventory.csv"),
                     "-o", str(tmp_path / "out")]) == 0
    console = capsys.readouterr().out.replace(str(tmp_path / "out"), "<output>")
    file_regression.check(console, fullpath=GOLDEN / "console.txt")
    for name in ("plan.csv", "plan.html", "plan.json"):
        file_regression.check((tmp_path / "out" / "plan" / name).read_bytes(), binary=True, fullpath=GOLDEN / name)
    assert cli.main(["verify", str(tmp_path / "out" / "plan")]) == 0
    summary = json.loads((tmp_path / "out" / "plan" / "plan.json").read_text(encoding="utf-8"))
    assert summary["computers"] == len(example_fleet.COMPUTERS) == summary["covered"] + summary["not_covered"]


# --- reading inventories ---------------------------------------------------------------------------

AD_TEXT = ('"Name","DNSHostName","OperatingSystem","OperatingSystemVersion","PrimaryGroupID","Enabled",'
           '"LastLogonDate","DistinguishedName"\r\n'
           '"SRV1","srv1.contoso.com","Windows Server 2022 Standard","10.0 (20348)","515","True",'
           '"{date}","CN=SRV1,DC=contoso,DC=com"\r\n')


@pytest.mark.parametrize("encoding,prefix", [("utf-8", ""), ("utf-8-sig", ""), ("utf-16", ""), ("cp1252", ""),
                                             ("utf-8", "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADComputer\r\n")])
def test_both_powershells_exports_are_read(encoding, prefix, tmp_path):
    path = tmp_path / "inv.csv"
    text = prefix + AD_TEXT.format(date="1/15/2026 10:32:11 AM").replace("srv1.contoso.com", "srv1.müller.example")
    path.write_bytes(text.encode(encoding))
    inventory = read_inventory(path)
    (computer,) = inventory.computers
    assert inventory.kind == "Active Directory"
    assert (computer.name, computer.build, computer.product_type) == ("SRV1", "20348", 3)
    assert computer.last_logon == dt.datetime(2026, 1, 15, 10, 32, 11)
    assert computer.dns_host_name == "srv1.müller.example"


@pytest.mark.parametrize("text,expected", [
    ("2026-01-15T10:32:11", dt.datetime(2026, 1, 15, 10, 32, 11)),
    ("1/15/2026 10:32:11 PM", dt.datetime(2026, 1, 15, 22, 32, 11)),
    ("15.01.2026 10:32:11", dt.datetime(2026, 1, 15, 10, 32, 11)),
    ("15/01/2026 10:32", dt.datetime(2026, 1, 15, 10, 32)),
    ("2026/01/15 10:32:11", dt.datetime(2026, 1, 15, 10, 32, 11)),
])
def test_dates_in_every_culture_export_csv_writes(text, expected, tmp_path):
    (computer,) = read_inventory(_write(tmp_path, AD_TEXT.format(date=text))).computers
    assert computer.last_logon == expected


def _write(tmp_path, text, name="inv.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_a_configmgr_export_is_read(tmp_path):
    text = ('"Name","Build","ProductType","OperatingSystemSKU","Caption","Active","Obsolete","LastActiveTime"\r\n'
            '"SRV1","10.0.17763","3","8","Microsoft Windows Server 2019 Datacenter","1","0","2026-01-15 10:00:00"\r\n'
            '"AVD1","10.0.26100","3","175","Microsoft Windows 11 Enterprise multi-session","1","0","2026-01-15"\r\n'
            '"GONE","10.0.17763","3","8","Microsoft Windows Server 2019 Datacenter","0","0","2026-01-15"\r\n')
    inventory = read_inventory(_write(tmp_path, text))
    assert inventory.kind == "ConfigMgr"
    result = fleet_plan.plan(_project([{"name": "Servers"}]), inventory, inventory_name="x")
    assert [(r.computer.name, r.target or r.reason_code) for r in result.rows] == [
        ("SRV1", "Servers"), ("AVD1", "multi-session"), ("GONE", "disabled")]


@pytest.mark.parametrize("text,message", [
    ("Name,Foo\r\nA,B\r\n", r"inv\.csv:1: has neither the Active Directory columns"),
    (AD_TEXT.format(date="yesterday"), r"inv\.csv:2: LastLogonDate: 'yesterday' is not a date"),
    (AD_TEXT.format(date="").replace('"True"', '"Maybe"'), r"inv\.csv:2: Enabled: 'Maybe' is neither True nor False"),
    (AD_TEXT.format(date="") + '"SRV2","x"\r\n', r"inv\.csv:3: has 2 fields, the header 8"),
    (AD_TEXT.format(date="") + '"SRV2,"x\r\n', r"inv\.csv:\d+: not CSV as Export-Csv writes it"),
    ("", r"inv\.csv: is empty"),
])
def test_a_malformed_inventory_names_file_and_line(text, message, tmp_path, capsys):
    path = _write(tmp_path, text)
    with pytest.raises(InventoryError, match=message):
        read_inventory(path)
    config = tmp_path / "ex" / "mdegen.yaml"
    assert cli.main(["init", "--example", str(config.parent), "--force"]) == 0
    capsys.readouterr()
    assert cli.main(["plan", "-c", str(config), "--inventory", str(path), "-o", str(tmp_path / "out")]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


# --- decisions -------------------------------------------------------------------------------------

def test_disabled_inactive_and_two_routes(tmp_path):
    pools = [{"name": "Pool", "mode": "multiple", "ou": "OU=VDI,DC=contoso,DC=com"}]
    p = _project([{"name": "Servers"}], pools=pools)
    rows = [_ad_row("A", "Windows Server 2022 Standard", "10.0 (20348)", enabled="False"),
            _ad_row("B", "Windows Server 2022 Standard", "10.0 (20348)", last="2025-10-01T00:00:00"),
            _ad_row("C", "Windows Server 2022 Standard", "10.0 (20348)", last=""),
            _ad_row("D", "Windows Server 2022 Standard", "10.0 (20348)", dn="CN=D,OU=VDI,DC=contoso,DC=com"),
            _ad_row("E", "Windows 11 Enterprise", "10.0 (26100)", dn="CN=E,OU=Pc,OU=VDI,DC=contoso,DC=com"),
            _ad_row("F", "Windows Server 2022 Standard", "10.0 (20348)")]
    inventory = read_inventory(_write_ad(tmp_path / "inv.csv", rows))
    result = fleet_plan.plan(p, inventory, inventory_name="x")
    assert [(r.computer.name, r.target or r.reason_code) for r in result.rows] == [
        ("A", "disabled"), ("B", "inactive"), ("C", "inactive"), ("D", "two-routes"), ("E", "Pool"), ("F", "Servers")]
    assert result.as_of == dt.date(2026, 1, 15)
    assert "target 'Servers' and pool 'Pool'" in result.rows[3].reason
    assert result.rows[5].route == "GPO or SCCM package"
    assert fleet_plan.plan(_project([{"name": "Servers"}], share=False), inventory,
                           inventory_name="x").rows[5].route == "SCCM package"
    old = read_inventory(_write_ad(tmp_path / "old.csv", [_ad_row("G", "Windows Server 2016 Standard", "10.0 (14393)")]))
    assert fleet_plan.plan(p, old, inventory_name="x").rows[0].reason_code == "no-agent-target"
    later = fleet_plan.plan(p, inventory, inventory_name="x", as_of=dt.date(2026, 9, 1))
    assert later.rows[5].reason_code == "inactive"


HOSTILE = ["<script>alert(1)</script>", 'a"b', "a&b", "line\nbreak", "=HYPERLINK(\"http://x\")"]


@given(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE))
def test_hostile_names_are_shown_escaped(name, os_name):
    """A computer writes its own operatingSystem attribute: nothing of it may run in the page or
    in a spreadsheet, and one computer stays one CSV row."""
    import tempfile
    from pathlib import Path

    from generator import pages

    with tempfile.TemporaryDirectory() as folder:
        path = _write_ad(Path(folder) / "inv.csv", [_ad_row(name, "Windows Server 2022 " + os_name, "10.0 (20348)")])
        inventory = read_inventory(path)
    result = fleet_plan.plan(_project([{"name": "Servers"}]), inventory, inventory_name="inv.csv")
    page = pages.plan_page(result).decode("utf-8")
    assert "<script>alert" not in page and "\nbreak" not in page
    assert page.count("<script>") == 1                   # the page's own, and no other
    data = csv_table.dumps(fleet_plan.COLUMNS, [r.cells() for r in result.rows]).decode("utf-8-sig")
    assert data.count("\r\n") == 2 and '"=' not in data


@pytest.mark.parametrize("layout", [name for name in LAYOUTS if LAYOUTS[name] is not None])
def test_a_configmgr_plan_agrees_with_the_generated_collections(layout, tmp_path):
    """The ConfigMgr inventory of the collection tests' resources (every release as member and DC,
    workstations, multi-session hosts): the plan's target is the one whose collection query holds
    the resource."""
    from generator.targeting import cm_collection_wql
    from test_cm_targeting import RESOURCES, matches

    p = _project(LAYOUTS[layout])
    lines = ['"Name","Build","ProductType","OperatingSystemSKU","Caption"']
    lines += [f'"R{i}","{r.build}","{r.product_type}","{r.sku}","{r.caption}"' for i, r in enumerate(RESOURCES)]
    result = fleet_plan.plan(p, read_inventory(_write(tmp_path, "\r\n".join(lines) + "\r\n")), inventory_name="devices.csv")
    for resource, row in zip(RESOURCES, result.rows):
        by_collection = {t.name for t in p.targets if matches(cm_collection_wql(t), resource.row())}
        assert set(row.filter_targets) == by_collection, resource.caption
        assert row.target == (by_collection.pop() if by_collection else ""), resource.caption


# --- what the review of the first version found ----------------------------------------------------

@pytest.mark.parametrize("dates,expected", [
    (["05-01-2026", "15-01-2026"], [dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 15)]),     # nl-NL: day first
    (["01/05/2026 10:00:00 PM", "01/15/2026"], [dt.datetime(2026, 1, 5, 22), dt.datetime(2026, 1, 15)]),  # en-US
])
def test_a_files_dates_decide_their_order(dates, expected, tmp_path):
    rows = [_ad_row(f"S{i}", "Windows Server 2022 Standard", "10.0 (20348)", last=d) for i, d in enumerate(dates)]
    computers = read_inventory(_write_ad(tmp_path / "inv.csv", rows)).computers
    assert [c.last_logon for c in computers] == expected


@pytest.mark.parametrize("dates,message", [
    (["05/01/2026", "10/01/2026"], r"inv\.csv:2: LastLogonDate: '05/01/2026' could be day/month or month/day"),
    (["13/01/2026", "01/13/2026"], r"inv\.csv: LastLogonDate: its dates are day first in some rows"),
    (["1/15/26"], r"inv\.csv:2: LastLogonDate: '1/15/26' is not a date"),
    (["31.02.2026"], r"inv\.csv:2: LastLogonDate: '31.02.2026' is not a date"),
])
def test_dates_that_cannot_be_read_for_sure_are_refused(dates, message, tmp_path):
    rows = [_ad_row(f"S{i}", "Windows Server 2022 Standard", "10.0 (20348)", last=d) for i, d in enumerate(dates)]
    with pytest.raises(InventoryError, match=message):
        read_inventory(_write_ad(tmp_path / "inv.csv", rows))


def test_one_clock_years_ahead_does_not_make_the_rest_inactive(tmp_path):
    rows = [_ad_row(f"S{i}", "Windows Server 2022 Standard", "10.0 (20348)", last=f"2026-01-{10 + i:02}T08:00:00")
            for i in range(5)] + [_ad_row("FUTURE", "Windows Server 2022 Standard", "10.0 (20348)", last="2099-01-01T00:00:00")]
    result = fleet_plan.plan(_project([{"name": "Servers"}]), read_inventory(_write_ad(tmp_path / "inv.csv", rows)),
                             inventory_name="inv.csv")
    assert result.as_of == dt.date(2026, 1, 14) and all(r.covered for r in result.rows)
    assert any("a clock ahead" in n for n in result.notes)


def test_without_primary_group_ids_domain_controllers_cannot_be_told_apart(tmp_path):
    text = '"Name","OperatingSystem","OperatingSystemVersion"\r\n"DC1","Windows Server 2022 Standard","10.0 (20348)"\r\n'
    with pytest.raises(InventoryError, match=r"inv\.csv:1: has neither the Active Directory columns \(Name, "
                                             r"OperatingSystem, OperatingSystemVersion, PrimaryGroupID\)"):
        read_inventory(_write(tmp_path, text))
    row = _ad_row("DC1", "Windows Server 2022 Standard", "10.0 (20348)", group="")
    with pytest.raises(InventoryError, match=r"inv\.csv:2: PrimaryGroupID is empty"):
        read_inventory(_write_ad(tmp_path / "inv.csv", [row]))


def test_headers_as_import_csv_reads_them(tmp_path):
    text = ('name;OPERATINGSYSTEM;operatingSystemVersion;PrimaryGroupId\r\n'
            'SRV1;Windows Server 2022 Standard;10.0 (20348);515\r\n')
    (computer,) = read_inventory(_write(tmp_path, text)).computers
    assert (computer.name, computer.build, computer.product_type) == ("SRV1", "20348", 3)
    with pytest.raises(InventoryError, match=r"inv\.csv:1: the column Name is there twice"):
        read_inventory(_write(tmp_path, "Name,name,OperatingSystem,OperatingSystemVersion,PrimaryGroupID\r\n"))


def test_windows_without_the_word_is_windows(tmp_path):
    rows = [_ad_row("HV1", "Hyper-V Server 2019", "10.0 (17763)"), _ad_row("HCI1", "Azure Stack HCI", "10.0 (20348)")]
    result = fleet_plan.plan(_project([{"name": "Servers"}]), read_inventory(_write_ad(tmp_path / "inv.csv", rows)),
                             inventory_name="inv.csv")
    assert [r.target for r in result.rows] == ["Servers", "Servers"]


def test_configmgr_rows_the_collections_leave_out(tmp_path):
    text = ('"Name","Build","ProductType","OperatingSystemSKU","Caption"\r\n'
            '"NOSKU","10.0.26100","3","","Microsoft Windows Server 2025 Datacenter"\r\n'
            '"AVD","10.0.26100","3","","Microsoft Windows 11 Enterprise multi-session"\r\n'
            '"NOTYPE","10.0.17763","","8","Microsoft Windows Server 2019 Datacenter"\r\n'
            '"EXT","10.0.17763.1234","3","8","Microsoft Windows Server 2019 Datacenter"\r\n')
    inventory = read_inventory(_write(tmp_path, text))
    assert not inventory.dated
    result = fleet_plan.plan(_project([{"name": "Servers"}]), inventory, inventory_name="devices.csv",
                             as_of=dt.date(2026, 1, 15))
    assert [(r.computer.name, r.target or r.reason_code) for r in result.rows] == [
        ("NOSKU", "no-build"), ("AVD", "multi-session"), ("NOTYPE", "no-build"), ("EXT", "Servers")]
    assert "no OperatingSystemSKU" in result.rows[0].reason and result.as_of is None


def test_plan_never_replaces_a_folder_it_did_not_write(tmp_path, capsys):
    config = tmp_path / "ex" / "mdegen.yaml"
    assert cli.main(["init", "--example", str(config.parent), "--force"]) == 0
    mine = tmp_path / "out" / "plan" / "notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("mine", encoding="utf-8")
    args = ["plan", "-c", str(config), "--inventory", str(config.parent / "inventory.csv"), "-o", str(tmp_path / "out")]
    capsys.readouterr()
    assert cli.main(args) == 2
    assert "not empty" in capsys.readouterr().err and mine.read_text(encoding="utf-8") == "mine"
    assert cli.main([*args, "--force"]) == 0 and not mine.exists()


def test_repeated_records_and_a_configmgr_export_with_pools_are_noted(tmp_path):
    text = ('"Name","Build","ProductType","OperatingSystemSKU","LastActiveTime"\r\n'
            '"SRV1","10.0.17763","3","8","2025-06-01"\r\n'
            '"SRV1","10.0.20348","3","8","2026-01-15"\r\n'
            '"SRV2","10.0.17763","3","8","2026-01-14"\r\n')
    pools = [{"name": "Pool", "mode": "multiple", "ou": "OU=VDI,DC=contoso,DC=com"}]
    result = fleet_plan.plan(_project([{"name": "Servers"}], pools=pools), read_inventory(_write(tmp_path, text)),
                             inventory_name="devices.csv")
    assert [(r.computer.name, r.computer.build, r.covered) for r in result.rows] == [("SRV1", "20348", True),
                                                                                   ("SRV2", "17763", True)]
    assert any("repeat a computer name" in n for n in result.notes)
    assert any("no OU" in n for n in result.notes)
    assert result.summary()["notes"] == list(result.notes)
