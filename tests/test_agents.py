"""Tests of the agent-file reader (generator/agents.py) over the FAKE agent files of
generator/synthetic.py: each kind read, each refusal, zips, and the inspect table."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import struct
import uuid
import zipfile
from pathlib import Path

import pytest

from generator import synthetic
from generator.agents import (SIG_BEGIN, SIG_END, AgentFile, AgentKind, AgentPackage, format_agent_facts,
                              read_agent_file, read_agent_package)
from generator.errors import PackageError

import pwsh_syntax

UTC = dt.timezone.utc
ORG = "00000000-0000-0000-0000-00000000000a"
EXPIRES = dt.datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def raw_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def refused(path: Path, kind: str, *words: str) -> str:
    """Read ``path`` as ``kind``, expect a refusal naming the file and saying ``words``; return it."""
    with pytest.raises(PackageError) as e:
        read_agent_file(path, kind)
    msg = str(e.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, msg
    return msg


PS1 = synthetic.fake_install_ps1()
ONBOARDING = synthetic.fake_defenderdt_onboarding(org_id=ORG, expires=EXPIRES, package_guid=ORG)

FILES = {
    "defenderdt": ("DefenderDT.exe", synthetic.fake_pe("DefenderDT.exe", signed=True)),
    "mma-setup": ("MMASetup-AMD64.exe", synthetic.fake_pe("MMASetup-AMD64.exe", "x64", signed=True)),
    "unified-msi": ("md4ws.msi", synthetic.fake_msi()),
    "unified-script": ("install.ps1", PS1),
    "defenderdt-onboarding": ("WindowsDefenderATP.onboarding", ONBOARDING),
}


# --- Each kind ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(FILES))
def test_each_kind_reads_from_its_fake(tmp_path, kind):
    name, data = FILES[kind]
    f = read_agent_file(write(tmp_path, name, data), kind)
    assert isinstance(f, AgentFile) and f.kind is AgentKind(kind)
    assert f.size == len(data) and f.data == data
    assert f.sha256 == hashlib.sha256(data).hexdigest()
    assert f.name == name and not f.in_zip


def test_kind_must_be_known(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        read_agent_file(write(tmp_path, "x.exe", FILES["defenderdt"][1]), "defender")


@pytest.mark.parametrize("machine", ["x64", "x86", "ARM64"])
def test_program_machine_and_signature(tmp_path, machine):
    signed = read_agent_file(write(tmp_path, "a.exe", synthetic.fake_pe("DefenderDT.exe", machine, signed=True)),
                             "defenderdt")
    assert signed.pe.machine == machine and signed.pe.signed and signed.pe.signature_size > 0
    assert signed.pe.pe32_plus is (machine != "x86")
    assert not any("no Authenticode" in n for n in signed.notes)
    plain = read_agent_file(write(tmp_path, "b.exe", synthetic.fake_pe("DefenderDT.exe", machine)), "defenderdt")
    assert plain.pe.machine == machine and not plain.pe.signed and plain.pe.signature_size == 0
    assert any("no Authenticode signature" in n for n in plain.notes)


def test_signature_is_read_from_data_directory_4_not_from_anywhere_else(tmp_path):
    data = bytearray(synthetic.fake_pe("DefenderDT.exe", signed=True))
    e_lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    security = e_lfanew + 4 + 20 + 112 + 4 * 8 + 4            # PE32+: size field of entry 4
    assert struct.unpack_from("<I", data, security)[0] > 0
    struct.pack_into("<I", data, security, 0)
    f = read_agent_file(write(tmp_path, "DefenderDT.exe", bytes(data)), "defenderdt")
    assert not f.pe.signed


def test_mma_setup_architecture_goes_by_content(tmp_path):
    f = read_agent_file(write(tmp_path, "MMASetup-AMD64.exe", synthetic.fake_pe("MMASetup-AMD64.exe", "x86")),
                        "mma-setup")
    assert f.pe.machine == "x86"
    assert any("file name says x64" in n and "built for x86" in n for n in f.notes)
    ok = read_agent_file(write(tmp_path, "MMASetup-i386.exe", synthetic.fake_pe("MMASetup-i386.exe", "x86")),
                         "mma-setup")
    assert not any("file name says" in n for n in ok.notes)


def test_a_program_whose_version_resource_names_the_other_agent_is_refused(tmp_path):
    p = write(tmp_path, "DefenderDT.exe", synthetic.fake_pe("MMASetup-AMD64.exe"))
    refused(p, "defenderdt", "MMASetup-AMD64.exe", "Log Analytics agent", "Download DefenderDT.exe")
    q = write(tmp_path, "MMASetup-AMD64.exe", synthetic.fake_pe("DefenderDT.exe"))
    refused(q, "mma-setup", "Defender deployment tool", "LinkId=828603")


def test_msi_facts(tmp_path):
    f = read_agent_file(write(tmp_path, "md4ws.msi", synthetic.fake_msi()), "unified-msi")
    assert f.msi.major_version == 3 and f.msi.sector_size == 512
    assert f.msi.root_clsid == "{000C1084-0000-0000-C000-000000000046}" and f.msi.installer_database
    assert not f.notes


def test_msi_with_another_root_clsid_is_read_with_a_note_and_a_patch_is_refused(tmp_path):
    data = bytearray(synthetic.fake_msi())
    root = 2 * 512                                         # directory sector 1
    data[root + 0x50:root + 0x60] = uuid.UUID("00020906-0000-0000-C000-000000000046").bytes_le   # a Word document
    f = read_agent_file(write(tmp_path, "md4ws.msi", bytes(data)), "unified-msi")
    assert f.msi.installer_database is False and any("not the Windows Installer" in n for n in f.notes)
    data[root + 0x50:root + 0x60] = uuid.UUID("000C1086-0000-0000-C000-000000000046").bytes_le
    refused(write(tmp_path, "md4ws2.msi", bytes(data)), "unified-msi", "patch (.msp)", "Windows Server 2012 R2 and 2016")


def test_install_ps1_facts_read(tmp_path):
    f = read_agent_file(write(tmp_path, "install.ps1", PS1), "unified-script")
    s = f.script
    assert s.version == synthetic.FAKE_INSTALL_PS1_VERSION and "version" in f.inferred
    assert {"OnboardingScript", "OffboardingScript", "Passive", "RemoveMMA", "Uninstall"} <= set(s.parameters)
    assert s.bom and s.line_ends == "crlf" and s.signature_lines > 10 and s.nothing_after_signature
    other = read_agent_file(write(tmp_path, "i2.ps1", synthetic.fake_install_ps1("1.20991231.7")), "unified-script")
    assert other.script.version == "1.20991231.7"


def test_install_ps1_without_bom_and_with_lf_is_still_read(tmp_path):
    data = PS1[3:].replace(b"\r\n", b"\n")
    f = read_agent_file(write(tmp_path, "install.ps1", data), "unified-script")
    assert not f.script.bom and f.script.line_ends == "lf"


def test_install_ps1_version_absent_is_not_marked_inferred(tmp_path):
    data = PS1.replace(synthetic.FAKE_INSTALL_PS1_VERSION.encode(), b"unknown")
    f = read_agent_file(write(tmp_path, "install.ps1", data), "unified-script")
    assert f.script.version is None and "version" not in f.inferred


def test_install_ps1_blank_lines_after_the_block_are_noted(tmp_path):
    f = read_agent_file(write(tmp_path, "install.ps1", PS1 + b"\r\n\r\n"), "unified-script")
    assert not f.script.nothing_after_signature
    assert any("blank lines follow" in n for n in f.notes)


def test_fake_install_ps1_is_safe_and_parses():
    text = PS1.decode("utf-8-sig")
    assert "FAKE mdegen" in text and f"exit {synthetic.FAKE_EXIT_CODE}" in text
    guard = text.index("MDEGEN_FAKE_PACKAGE")
    assert guard < text.index("exit 0") and text.index(f"exit {synthetic.FAKE_EXIT_CODE}") < text.index("exit 0")
    assert text.rstrip("\r\n").endswith(SIG_END) and text.count(SIG_BEGIN) == 1
    assert pwsh_syntax.problems(PS1) == []


def test_onboarding_file_facts_are_marked_inferred(tmp_path):
    f = read_agent_file(write(tmp_path, "WindowsDefenderATP.onboarding", ONBOARDING), "defenderdt-onboarding")
    b = f.blob
    assert b.org_id == ORG and b.package_guid == ORG and b.datacenter == "WestEurope" and b.version == "2.11"
    assert b.expiration == EXPIRES and b.cloud == "commercial"
    assert b.cert_not_after == synthetic.FAKE_CERT_NOT_AFTER
    assert {"format", "org_id", "expiration"} <= set(f.inferred)
    # without an expirationTimestamp there is no expiry, and none is claimed as inferred
    g = read_agent_file(write(tmp_path, "b.onboarding", synthetic.fake_defenderdt_onboarding()), "defenderdt-onboarding")
    assert g.blob.expiration is None and "expiration" not in g.inferred


def test_onboarding_json_of_another_shape_is_kept_without_facts(tmp_path):
    f = read_agent_file(write(tmp_path, "x.onboarding", b'{"something": "else"}'), "defenderdt-onboarding")
    assert f.blob is None and any('no "body"' in n for n in f.notes)
    assert "Format" in format_agent_facts(f) and "shape not recognised" in format_agent_facts(f)


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(FILES))
def test_empty_file_is_refused(tmp_path, kind):
    refused(write(tmp_path, FILES[kind][0], b""), kind, "empty")


def test_text_as_exe_is_refused(tmp_path):
    refused(write(tmp_path, "DefenderDT.exe", b"<html><body>Sign in</body></html>\r\n"), "defenderdt",
            "no 'MZ' header", "HTML page", "Download DefenderDT.exe again", "Defender deployment tool")
    refused(write(tmp_path, "MMASetup-AMD64.exe", synthetic.onboarding_script()), "mma-setup",
            "portal onboarding/offboarding script", "LinkId=828603")


def test_exe_without_pe_header_is_refused(tmp_path):
    data = bytearray(synthetic.fake_pe("DefenderDT.exe"))
    data[0x80:0x84] = b"NE\0\0"
    refused(write(tmp_path, "DefenderDT.exe", bytes(data)), "defenderdt", "no PE header at offset 0x80")
    far = bytearray(data[:0x40])
    struct.pack_into("<I", far, 0x3C, 0x10000)
    refused(write(tmp_path, "MMASetup-i386.exe", bytes(far)), "mma-setup", "no PE header")


def test_truncated_program_is_refused(tmp_path):
    data = synthetic.fake_pe("DefenderDT.exe")
    refused(write(tmp_path, "DefenderDT.exe", data[:0x80 + 4 + 20 + 50]), "defenderdt", "cut off")
    refused(write(tmp_path, "tiny.exe", b"MZ" + b"\0" * 10), "defenderdt", "too short")


def test_msi_with_a_wrong_signature_is_refused(tmp_path):
    good = synthetic.fake_msi()
    bad = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe2" + good[8:]
    refused(write(tmp_path, "md4ws.msi", bad), "unified-msi", "D0 CF 11 E0 A1 B1 1A E2", "compound-file signature",
            "Download the installation package md4ws.msi")
    refused(write(tmp_path, "md4ws2.msi", FILES["defenderdt"][1]), "unified-msi", "Windows program")
    refused(write(tmp_path, "md4ws3.msi", good[:300]), "unified-msi", "shorter than a compound-file header")


def test_install_ps1_without_signature_block_is_refused(tmp_path):
    text = PS1.decode("utf-8-sig")
    unsigned = text[:text.index(SIG_BEGIN)].encode("utf-8")
    refused(write(tmp_path, "install.ps1", unsigned), "unified-script", "no Authenticode signature block",
            "a changed or unsigned copy", "microsoft/mdefordownlevelserver")


def test_install_ps1_with_its_signature_block_not_at_the_end_is_refused(tmp_path):
    msg = refused(write(tmp_path, "install.ps1", PS1 + b"Write-Host 'added later'\r\n"), "unified-script",
                  "text follows the signature block", "a changed or unsigned copy")
    assert "line" in msg
    text = PS1.decode("utf-8-sig")
    moved = text.replace("exit 0\r\n", "").rstrip("\r\n") + "\r\nexit 0\r\n"      # code after the block
    refused(write(tmp_path, "i2.ps1", moved.encode()), "unified-script", "text follows the signature block")


def test_install_ps1_with_code_inside_the_block_or_markers_swapped_is_refused(tmp_path):
    text = PS1.decode("utf-8-sig")
    inside = text.replace(SIG_BEGIN + "\r\n", SIG_BEGIN + "\r\nWrite-Host 'x'\r\n")
    refused(write(tmp_path, "a.ps1", inside.encode()), "unified-script", "inside the signature block is not a comment")
    swapped = text.replace(SIG_BEGIN, "@@").replace(SIG_END, SIG_BEGIN).replace("@@", SIG_END)
    refused(write(tmp_path, "b.ps1", swapped.encode()), "unified-script", "out of order")


def test_other_scripts_are_not_install_ps1(tmp_path):
    refused(write(tmp_path, "install.ps1", synthetic.vdi_ps1()), "unified-script", "never mentions md4ws.msi")
    refused(write(tmp_path, "install.ps1", synthetic.onboarding_script()), "unified-script", "portal")
    utf16 = b"\xff\xfe" + PS1.decode("utf-8-sig").encode("utf-16-le")
    refused(write(tmp_path, "u.ps1", utf16), "unified-script", "UTF-16")
    refused(write(tmp_path, "b.ps1", FILES["unified-msi"][1]), "unified-script", "binary data")


def test_cmd_portal_script_as_onboarding_file_is_refused(tmp_path):
    refused(write(tmp_path, "WindowsDefenderATP.onboarding", synthetic.onboarding_script()), "defenderdt-onboarding",
            "portal .cmd script", "Defender deployment tool", "WindowsDefenderATP.onboarding")
    off = synthetic.offboarding_script(expires=EXPIRES)
    refused(write(tmp_path, "x.onboarding", off), "defenderdt-onboarding", "portal .cmd script")
    refused(write(tmp_path, "y.onboarding", b"@echo off\r\necho hi\r\n"), "defenderdt-onboarding", "batch (.cmd)")


def test_binary_or_non_json_onboarding_file_is_refused(tmp_path):
    refused(write(tmp_path, "a.onboarding", b"\x00\x01\x02binary"), "defenderdt-onboarding", "binary data")
    refused(write(tmp_path, "b.onboarding", b"\xc3\x28 not utf-8"), "defenderdt-onboarding", "binary data")
    refused(write(tmp_path, "c.onboarding", FILES["defenderdt"][1]), "defenderdt-onboarding", "program")
    refused(write(tmp_path, "d.onboarding", b"just some notes\n"), "defenderdt-onboarding",
            "not the JSON document", "inferred")
    refused(write(tmp_path, "e.onboarding", b"[1, 2]"), "defenderdt-onboarding", "JSON list")
    refused(write(tmp_path, "f.onboarding", b"  \r\n"), "defenderdt-onboarding", "empty")


def test_offboarding_blob_as_onboarding_file_is_refused(tmp_path):
    body = {"orgIds": [ORG], "orgId": ORG, "expirationTimestamp": 133_000_000_000_000_000, "version": "1.4"}
    data = synthetic.signed_blob(body).encode()
    refused(write(tmp_path, "x.offboarding", data), "defenderdt-onboarding", "offboarding blob")


def test_onboarding_blob_without_org_id_is_refused(tmp_path):
    data = synthetic.signed_blob({"geoLocationUrl": "https://winatp-gw-weu.microsoft.com/"}).encode()
    refused(write(tmp_path, "x.onboarding", data), "defenderdt-onboarding", "no orgId")


def test_a_zip_given_as_a_single_file_is_refused(tmp_path):
    refused(write(tmp_path, "md4ws.msi", synthetic.unified_agent_zip()), "unified-msi", "is a zip archive")


def test_missing_file_is_refused(tmp_path):
    refused(tmp_path / "nope.exe", "defenderdt", "does not exist")


# --- Zips ---------------------------------------------------------------------------------------


def test_unified_agent_zip_is_recognised_by_content(tmp_path):
    pkg = read_agent_package(write(tmp_path, "agent.zip", synthetic.unified_agent_zip(with_onboarding_script=True)))
    assert isinstance(pkg, AgentPackage)
    assert pkg.kinds == (AgentKind.UNIFIED_MSI, AgentKind.UNIFIED_SCRIPT)
    assert pkg.get("unified-msi").data == synthetic.fake_msi("md4ws.msi")
    assert pkg.get(AgentKind.UNIFIED_SCRIPT).in_zip and pkg.get("unified-script").name == "Install.ps1"
    assert pkg.others == ("WindowsDefenderATPOnboardingScript.cmd",)
    assert any("portal onboarding/offboarding script" in n for n in pkg.notes)
    assert pkg.sha256 == hashlib.sha256((tmp_path / "agent.zip").read_bytes()).hexdigest()


def test_names_do_not_decide_what_a_zip_entry_is(tmp_path):
    z = synthetic.package_zip([("readme.txt", synthetic.fake_msi()), ("a.txt", PS1), ("b.bin", ONBOARDING),
                               ("c.dat", synthetic.fake_pe("DefenderDT.exe", signed=True))])
    pkg = read_agent_package(write(tmp_path, "renamed.zip", z))
    assert {f.name: f.kind.value for f in pkg.files} == {
        "readme.txt": "unified-msi", "a.txt": "unified-script", "b.bin": "defenderdt-onboarding",
        "c.dat": "defenderdt"}
    assert all("kind" not in f.inferred for f in pkg.files)


def test_a_program_without_version_resource_is_told_apart_by_its_name_and_marked_inferred(tmp_path):
    anon = synthetic.fake_pe("tool.exe")      # OriginalFilename names neither agent
    z = synthetic.package_zip([("DefenderDT.exe", anon), ("other.exe", anon)])
    pkg = read_agent_package(write(tmp_path, "dt.zip", z))
    f = pkg.get("defenderdt")
    assert f is not None and f.inferred[0] == "kind" and any("by its file name" in n for n in f.notes)
    assert pkg.others == ("other.exe",) and any("cannot identify" in n for n in pkg.notes)
    assert "Defender deployment tool (DefenderDT.exe) (inferred)" in format_agent_facts(f)


def test_defenderdt_zip_and_both_mma_architectures(tmp_path):
    pkg = read_agent_package(write(tmp_path, "dt.zip", synthetic.defenderdt_zip(expires=EXPIRES)))
    assert pkg.kinds == (AgentKind.DEFENDERDT, AgentKind.DEFENDERDT_ONBOARDING)
    assert pkg.get("defenderdt-onboarding").blob.expiration == EXPIRES
    both = synthetic.package_zip([("MMASetup-i386.exe", synthetic.fake_pe("MMASetup-i386.exe", "x86")),
                                  ("MMASetup-AMD64.exe", synthetic.fake_pe("MMASetup-AMD64.exe"))])
    mma = read_agent_package(write(tmp_path, "mma.zip", both))
    assert len(mma.all("mma-setup")) == 2 and mma.get("mma-setup").pe.machine == "x64"


def test_zip_with_two_of_a_kind_is_refused(tmp_path):
    z = synthetic.package_zip([("a/md4ws.msi", synthetic.fake_msi()), ("b/md4ws.msi", synthetic.fake_msi("b"))])
    p = write(tmp_path, "two.zip", z)
    with pytest.raises(PackageError, match="more than one unified agent installer") as e:
        read_agent_package(p)
    assert str(p) in str(e.value)


def test_zip_with_a_path_traversal_is_refused(tmp_path):
    p = write(tmp_path, "evil.zip", raw_zip([("md4ws.msi", synthetic.fake_msi()), ("../install.ps1", PS1)]))
    with pytest.raises(PackageError) as e:
        read_agent_package(p)
    assert str(p) in str(e.value) and "'..'" in str(e.value) and "../install.ps1" in str(e.value)


def test_zip_with_an_oversized_entry_is_refused(tmp_path):
    big = synthetic.fake_msi() + b"\0" * 20_000
    p = write(tmp_path, "big.zip", synthetic.package_zip([("md4ws.msi", big)]))
    with pytest.raises(PackageError) as e:
        read_agent_package(p, max_entry_bytes=10_000)
    assert str(p) in str(e.value) and "md4ws.msi" in str(e.value) and "10000" in str(e.value)
    assert read_agent_package(p, max_entry_bytes=30_000).get("unified-msi").size == len(big)


def test_zip_limits_on_entries_and_total(tmp_path):
    many = synthetic.package_zip([(f"f{i}.txt", b"x") for i in range(5)] + [("md4ws.msi", synthetic.fake_msi())])
    p = write(tmp_path, "many.zip", many)
    with pytest.raises(PackageError, match="6 entries"):
        read_agent_package(p, max_entries=5)
    with pytest.raises(PackageError, match="limit"):
        read_agent_package(p, max_total_bytes=1000)


def test_zip_refusals_propagate_with_the_entry(tmp_path):
    text = PS1.decode("utf-8-sig")
    unsigned = text[:text.index(SIG_BEGIN)].encode()
    p = write(tmp_path, "agent.zip", synthetic.package_zip([("md4ws.msi", synthetic.fake_msi()),
                                                            ("install.ps1", unsigned)]))
    with pytest.raises(PackageError) as e:
        read_agent_package(p)
    assert f"{p}: entry 'install.ps1'" in str(e.value) and "a changed or unsigned copy" in str(e.value)


def test_zip_without_agent_files_or_not_a_zip_is_refused(tmp_path):
    p = write(tmp_path, "portal.zip", synthetic.onboarding_zip("gp"))
    with pytest.raises(PackageError, match="holds no agent file") as e:
        read_agent_package(p)
    assert "WindowsDefenderATPOnboardingScript.cmd" in str(e.value) and "md4ws.msi" in str(e.value)
    q = write(tmp_path, "md4ws.msi", synthetic.fake_msi())
    with pytest.raises(PackageError, match="not a zip archive"):
        read_agent_package(q)
    r = write(tmp_path, "empty.zip", raw_zip([]))
    with pytest.raises(PackageError, match="the zip is empty"):
        read_agent_package(r)


# --- Reporting ----------------------------------------------------------------------------------


def test_format_agent_facts_shows_the_fields(tmp_path):
    exe = read_agent_file(write(tmp_path, "DefenderDT.exe", FILES["defenderdt"][1]), "defenderdt")
    table = format_agent_facts(exe)
    assert exe.sha256 in table and f"{exe.size} bytes" in table
    assert "Machine" in table and "x64 (PE32+)" in table and "Authenticode directory present" in table
    rows = [ln for ln in table.splitlines() if ln]
    assert len({ln.index(ln.split("  ", 1)[1].lstrip()) for ln in rows}) == 1      # one aligned column

    ps = format_agent_facts(read_agent_file(write(tmp_path, "install.ps1", PS1), "unified-script"))
    assert f"{synthetic.FAKE_INSTALL_PS1_VERSION} (inferred)" in ps and "-OnboardingScript" in ps
    msi = format_agent_facts(read_agent_file(write(tmp_path, "md4ws.msi", synthetic.fake_msi()), "unified-msi"))
    assert "Windows Installer database" in msi


def test_format_agent_facts_marks_inferred_onboarding_facts_and_expiry(tmp_path):
    f = read_agent_file(write(tmp_path, "WindowsDefenderATP.onboarding", ONBOARDING), "defenderdt-onboarding")
    table = format_agent_facts(f)
    assert f"{ORG} (inferred)" in table and "2027-03-01 12:00:00 UTC (inferred)" in table
    assert "signed JSON blob (inferred)" in table and "EXPIRED" not in table
    later = format_agent_facts(f, now=dt.datetime(2027, 3, 2, tzinfo=UTC))
    assert "EXPIRED on 2027-03-01" in later


def test_format_agent_facts_of_a_package(tmp_path):
    pkg = read_agent_package(write(tmp_path, "agent.zip", synthetic.unified_agent_zip(with_onboarding_script=True)))
    table = format_agent_facts(pkg)
    assert "(zip)" in table and "unified-msi, unified-script" in table
    assert f"md4ws.msi (in {tmp_path / 'agent.zip'})" in table and "Other files" in table


# --- The fakes ----------------------------------------------------------------------------------


def test_fakes_are_deterministic_small_and_marked():
    makers = [lambda: synthetic.fake_pe("DefenderDT.exe", signed=True), synthetic.fake_msi,
              synthetic.fake_install_ps1, synthetic.fake_defenderdt_onboarding, synthetic.unified_agent_zip,
              synthetic.defenderdt_zip]
    for make in makers:
        a, b = make(), make()
        assert a == b and len(a) < 64 * 1024
    for data in (synthetic.fake_pe("x"), synthetic.fake_msi(), PS1):
        assert b"FAKE mdegen" in data
    env = json.loads(synthetic.fake_defenderdt_onboarding())
    assert json.loads(env["body"])["orgId"] == synthetic.FAKE_ORG_ID
    assert "FAKE" in base64_text(env["sig"])


def base64_text(b64: str) -> str:
    import base64
    return base64.b64decode(b64)[:60].decode("ascii", "replace")


def test_fake_pe_refuses_unknown_machines():
    with pytest.raises(ValueError, match="machine"):
        synthetic.fake_pe("x", "mips")


def test_a_signature_cut_off_by_a_truncated_download_is_noted(tmp_path):
    data = synthetic.fake_pe("DefenderDT.exe", signed=True)
    whole = read_agent_file(write(tmp_path, "a.exe", data), "defenderdt")
    assert not any("past the end" in n for n in whole.notes)
    cut = read_agent_file(write(tmp_path, "b.exe", data[:-100]), "defenderdt")
    assert cut.pe.signed and any("points past the end of the file" in n for n in cut.notes)


def test_a_changed_copy_of_a_published_install_ps1_is_refused(tmp_path, monkeypatch):
    from generator import agents

    data = synthetic.fake_install_ps1()
    path = tmp_path / "install.ps1"
    path.write_bytes(data)
    monkeypatch.setitem(agents.PUBLISHED_SCRIPT_SHA256, synthetic.FAKE_INSTALL_PS1_VERSION, hashlib.sha256(data).hexdigest())
    assert agents.read_agent_file(path, "unified-script").script.version == synthetic.FAKE_INSTALL_PS1_VERSION
    path.write_bytes(data.replace(b"md4ws.msi", b"md4ws.MSI", 1))
    with pytest.raises(PackageError, match="not byte for byte the one Microsoft published"):
        agents.read_agent_file(path, "unified-script")
