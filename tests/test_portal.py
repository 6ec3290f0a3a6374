"""Tests of the portal-package reader (generator/portal.py) over synthetic FAKE packages
(generator/synthetic.py), plus a pass over the real portal files in the shared samples folder
when it sits next to the repository."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
import struct
import uuid
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import synthetic
from generator.errors import PackageError
from generator.portal import (GP_SCRIPT_NAME, LOCAL_SCRIPT_NAME, OFFBOARDING_VALUE, VDI_SCRIPT_NAME,
                              PackageKind, PortalPackage, check_offboarding_expiry, check_same_org,
                              check_unattended, cloud_hint, datetime_to_filetime, facts_as_dict,
                              filetime_to_datetime, format_facts, parse_certificate, read_package)

UTC = dt.timezone.utc
ORG_A = "00000000-0000-0000-0000-00000000000a"
ORG_B = "00000000-0000-0000-0000-00000000000b"
TODAY = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.timezone.utc)     # "now" is an instant, in UTC


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def raw_zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    """A zip written with whatever names/attributes a test needs (no validation)."""
    import io
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # zipfile warns about duplicate names
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return buf.getvalue()


GP = synthetic.onboarding_script("gp")


# --- Kinds --------------------------------------------------------------------------------------


def test_gp_script_bare(tmp_path):
    pkg = read_package(write(tmp_path, GP_SCRIPT_NAME, GP))
    assert pkg.kind is PackageKind.GP_ONBOARDING
    assert not pkg.interactive and not pkg.is_zip and not pkg.is_folder
    assert pkg.script_name == GP_SCRIPT_NAME
    assert pkg.script == GP
    assert pkg.files == ((GP_SCRIPT_NAME, GP),)
    assert pkg.sha256 == hashlib.sha256(GP).hexdigest()
    assert pkg.optional_params_policy == () and pkg.vdi_script is None
    check_unattended(pkg, "the GPO startup task")      # no error


def test_gp_zip_carries_optional_params_policy(tmp_path):
    data = synthetic.onboarding_zip("gp")
    pkg = read_package(write(tmp_path, "WindowsDefenderATPOnboardingPackage.zip", data))
    assert pkg.kind is PackageKind.GP_ONBOARDING
    assert pkg.is_zip and pkg.sha256 == hashlib.sha256(data).hexdigest()
    assert pkg.script_path == GP_SCRIPT_NAME
    assert pkg.optional_params_policy == ("OptionalParamsPolicy/AtpConfiguration.admx",
                                          "OptionalParamsPolicy/en-US/AtpConfiguration.adml")
    assert [n for n, _ in pkg.files] == [GP_SCRIPT_NAME, *pkg.optional_params_policy]
    assert pkg.file("optionalparamspolicy\\AtpConfiguration.ADMX").startswith(b"<?xml")


def test_local_zip(tmp_path):
    pkg = read_package(write(tmp_path, "pkg.zip", synthetic.onboarding_zip("local")))
    assert pkg.kind is PackageKind.LOCAL_ONBOARDING
    assert pkg.interactive
    assert pkg.script_name == LOCAL_SCRIPT_NAME
    signs = " ".join(pkg.local_signs)
    assert "set /p" in signs and "pause" in signs and "latency=Demo" in signs


def test_vdi_zip(tmp_path):
    pkg = read_package(write(tmp_path, "vdi.zip", synthetic.vdi_zip()))
    assert pkg.kind is PackageKind.VDI
    assert pkg.vdi_script == VDI_SCRIPT_NAME
    assert pkg.script_name == GP_SCRIPT_NAME
    assert pkg.file(VDI_SCRIPT_NAME) == synthetic.vdi_ps1()
    check_unattended(pkg, "the VDI startup script")


def test_vdi_folder(tmp_path):
    folder = tmp_path / "vdi"
    write(folder, GP_SCRIPT_NAME, GP)
    write(folder, VDI_SCRIPT_NAME, synthetic.vdi_ps1())
    pkg = read_package(folder)
    assert pkg.kind is PackageKind.VDI and pkg.is_folder and not pkg.is_zip
    assert pkg.sha256 == hashlib.sha256(GP).hexdigest()   # a folder: the script's hash


def test_bare_ps1_is_refused_with_advice(tmp_path):
    with pytest.raises(PackageError, match="VDI zip, or the folder"):
        read_package(write(tmp_path, VDI_SCRIPT_NAME, synthetic.vdi_ps1()))


def test_vdi_with_local_script_is_local(tmp_path):
    data = synthetic.package_zip([(LOCAL_SCRIPT_NAME, synthetic.onboarding_script("local")),
                                  (VDI_SCRIPT_NAME, synthetic.vdi_ps1())])
    pkg = read_package(write(tmp_path, "odd.zip", data))
    assert pkg.kind is PackageKind.LOCAL_ONBOARDING
    assert any("not a usable VDI package" in n for n in pkg.notes)


@pytest.mark.parametrize("interactive", [False, True])
def test_offboarding(tmp_path, interactive):
    expires = dt.datetime(2026, 12, 1, 17, 35, 26, 948401, tzinfo=UTC)
    data = synthetic.offboarding_zip(expires=expires, interactive=interactive)
    pkg = read_package(write(tmp_path, "off.zip", data))
    assert pkg.kind is PackageKind.OFFBOARDING
    assert pkg.interactive is interactive
    assert pkg.script_name == "WindowsDefenderATPOffboardingScript_valid_until_2026-12-01.cmd"
    assert pkg.facts.value_name == OFFBOARDING_VALUE
    assert pkg.facts.expiration == expires
    assert pkg.facts.org_ids == (synthetic.FAKE_ORG_ID,)
    assert pkg.notes == ()
    if interactive:
        with pytest.raises(PackageError) as e:
            check_unattended(pkg, "the GPO offboarding task")
        assert "Device management > Offboarding" in str(e.value)
    else:
        check_unattended(pkg, "the GPO offboarding task")


# --- Facts --------------------------------------------------------------------------------------


def test_facts_onboarding(tmp_path):
    not_after = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    data = synthetic.onboarding_script("gp", org_id=ORG_A, version="2.11", datacenter="NorthEurope",
                                       cert_not_after=not_after, package_guid=ORG_B,
                                       previous_org_ids=(ORG_B,))
    f = read_package(write(tmp_path, "x.cmd", data)).facts
    assert f.org_id == ORG_A
    assert f.previous_org_ids == (ORG_B,)
    assert f.version == "2.11"
    assert f.datacenter == "NorthEurope"
    assert f.geo_location_url == "https://winatp-gw-neu.microsoft.com/"
    assert f.vortex_geo_location == "EU"
    assert f.package_guid == ORG_B
    assert f.cert_not_after == not_after
    assert f.cert_not_before == not_after - dt.timedelta(days=365)
    assert f.cert_subject_cn == synthetic.FAKE_CERT_SUBJECT_CN
    assert f.expiration is None
    assert f.cloud == "commercial" and not f.is_government


def test_cert_generalized_time(tmp_path):
    not_after = dt.datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)     # after 2049: GeneralizedTime
    pkg = read_package(write(tmp_path, "x.cmd", synthetic.onboarding_script(cert_not_after=not_after)))
    assert pkg.facts.cert_not_after == not_after


def test_fake_cert_agrees_with_cryptography():
    x509 = pytest.importorskip("cryptography.x509")
    for when in (dt.datetime(2035, 12, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(2060, 1, 1, tzinfo=UTC)):
        der = synthetic.fake_certificate(when)
        cert = x509.load_der_x509_certificate(der)
        nb, na, cn = parse_certificate(der)
        assert (nb, na) == (cert.not_valid_before_utc, cert.not_valid_after_utc)
        assert cn == cert.subject.rfc4514_string().removeprefix("CN=")


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x80\x00\x00", b"\x02\x01\x00",
                                 b"\x30\x05\x30\x03\x02\x01\x00"])
def test_parse_certificate_rejects_garbage(der):
    with pytest.raises(ValueError):
        parse_certificate(der)


def test_filetime_round_trip():
    when = dt.datetime(2022, 10, 21, 17, 35, 26, 948401, tzinfo=UTC)
    ft = datetime_to_filetime(when)
    assert filetime_to_datetime(ft) == when
    assert filetime_to_datetime(0) is None
    assert filetime_to_datetime(10**30) is None


@pytest.mark.parametrize("url,datacenter,vortex,cloud", [
    ("https://winatp-gw-weu.microsoft.com/", "WestEurope", "EU", "commercial"),
    ("https://winatp-gw-usgt.microsoft.com/", "UsGovTexas", "FFL4", "gcc-high"),
    ("https://winatp-gw-usmv.microsoft.com/", None, None, "gcc"),
    (None, None, None, "unknown"),
    ("https://example.invalid/", None, None, "unknown"),
])
def test_cloud_hint(url, datacenter, vortex, cloud):
    assert cloud_hint(url, datacenter, vortex) == cloud


def test_government_blob(tmp_path):
    data = synthetic.onboarding_script(datacenter="UsGovTexas")
    f = read_package(write(tmp_path, "x.cmd", data)).facts
    assert f.is_government and f.cloud == "gcc-high"


# --- Recognition by content ---------------------------------------------------------------------


def test_renamed_gp_script_recognised_by_content(tmp_path):
    pkg = read_package(write(tmp_path, "WindowsDefender.cmd", GP))
    assert pkg.kind is PackageKind.GP_ONBOARDING
    assert pkg.script_name == "WindowsDefender.cmd"
    pkg = read_package(write(tmp_path, "onboard.txt", GP))       # any extension
    assert pkg.kind is PackageKind.GP_ONBOARDING


def test_renamed_script_inside_zip(tmp_path):
    data = synthetic.package_zip([("sub/WindowsDefender.cmd", GP), ("readme.txt", b"hello")])
    pkg = read_package(write(tmp_path, "p.zip", data))
    assert pkg.kind is PackageKind.GP_ONBOARDING
    assert pkg.script_path == "sub/WindowsDefender.cmd" and pkg.script_name == "WindowsDefender.cmd"


def test_offboarding_recognised_by_its_value_write(tmp_path):
    data = synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC))
    pkg = read_package(write(tmp_path, "WindowsDefenderATPOnboardingScript.cmd", data))
    assert pkg.kind is PackageKind.OFFBOARDING
    assert any("says onboarding" in n for n in pkg.notes)


def test_offboarding_name_date_mismatch_is_noted(tmp_path):
    data = synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC))
    pkg = read_package(write(tmp_path, "WindowsDefenderATPOffboardingScript_valid_until_2029-01-01.cmd", data))
    assert any("blob is authoritative" in n for n in pkg.notes)


def test_local_named_script_without_prompt_is_local(tmp_path):
    pkg = read_package(write(tmp_path, LOCAL_SCRIPT_NAME, GP))
    assert pkg.kind is PackageKind.LOCAL_ONBOARDING
    assert not pkg.interactive
    with pytest.raises(PackageError, match="Local Script"):
        check_unattended(pkg, "SCCM")


def stripped_local_script() -> bytes:
    """The Local Script with its consent prompt cut out but its pause kept (as a user might)."""
    text = synthetic.onboarding_script("local")
    start = text.index(b"echo FAKE stand-in for the portal's Local Script")
    end = text.index(b":BEGIN\r\n") + len(b":BEGIN\r\n")
    out = text[:start] + text[end:]
    assert b"set /p answer" not in out and b"\r\npause\r\n" in out
    return out


def test_local_script_with_prompt_stripped_still_local(tmp_path):
    pkg = read_package(write(tmp_path, GP_SCRIPT_NAME, stripped_local_script()))
    assert pkg.kind is PackageKind.LOCAL_ONBOARDING
    assert pkg.interactive
    assert any("pause" in s for s in pkg.local_signs)


def test_check_unattended_names_the_portal_choice(tmp_path):
    pkg = read_package(write(tmp_path, "l.zip", synthetic.onboarding_zip("local")))
    with pytest.raises(PackageError) as e:
        check_unattended(pkg, "the GPO startup task")
    msg = str(e.value)
    assert str(pkg.source) in msg and LOCAL_SCRIPT_NAME in msg
    assert "Settings > Endpoints > Device management > Onboarding" in msg
    assert '"Group Policy"' in msg
    assert '"Microsoft Configuration Manager 2012/2012 R2/1511/1602"' in msg
    assert "the GPO startup task" in msg


def test_pause_detection_ignores_comments_and_echo(tmp_path):
    data = GP.replace(b"@echo off\r\n", b"@echo off\r\nREM pause here\r\n:: pause\r\necho do not pause\r\n", 1)
    pkg = read_package(write(tmp_path, "x.cmd", data))
    assert pkg.kind is PackageKind.GP_ONBOARDING and not pkg.interactive
    data = GP.replace(b"@echo off\r\n", b"@echo off\r\nif 1==1 pause\r\n", 1)
    assert read_package(write(tmp_path, "y.cmd", data)).interactive


# --- Use checks ---------------------------------------------------------------------------------


def offboarding_pkg(tmp_path, expires, org_id=synthetic.FAKE_ORG_ID) -> PortalPackage:
    return read_package(write(tmp_path, "off.cmd", synthetic.offboarding_script(org_id=org_id, expires=expires)))


def test_expired_offboarding_refused(tmp_path):
    pkg = offboarding_pkg(tmp_path, dt.datetime(2026, 11, 27, 23, 0, tzinfo=UTC))
    with pytest.raises(PackageError, match=r"EXPIRED on 2026-11-27 23:00:00 UTC") as e:
        check_offboarding_expiry(pkg, NOW, warn_days=3)
    assert str(pkg.source) in str(e.value) and "Offboarding" in str(e.value)
    assert "EXPIRED on 2026-11-27" in format_facts(pkg, NOW)


@pytest.mark.parametrize("hours,expect", [(0.5, "in less than an hour"), (1, "in 1 hour"), (23, "in 23 hours"),
                                         (24, "in 1 day"), (71, "in 2 days"), (72, "in 3 days")])
def test_soon_expiring_offboarding_warned_with_the_time(tmp_path, hours, expect):
    expires = NOW + dt.timedelta(hours=hours)
    pkg = offboarding_pkg(tmp_path, expires)
    warnings_ = check_offboarding_expiry(pkg, NOW, warn_days=3)
    assert len(warnings_) == 1 and f"expires {expect}, at {expires:%Y-%m-%d %H:%M:%S} UTC" in warnings_[0]


def test_expiry_is_an_instant_not_a_local_date(tmp_path):
    """Expired at 08:00 UTC this morning: refused at 09:30 UTC, whatever the local calendar says."""
    pkg = offboarding_pkg(tmp_path, dt.datetime(2026, 11, 28, 8, 0, tzinfo=UTC))
    with pytest.raises(PackageError, match=r"EXPIRED on 2026-11-28 08:00:00 UTC"):
        check_offboarding_expiry(pkg, NOW, warn_days=3)
    # The same instant seen from a zone where it is still 27 November: still expired.
    with pytest.raises(PackageError, match="EXPIRED"):
        check_offboarding_expiry(pkg, NOW.astimezone(dt.timezone(dt.timedelta(hours=-10))), warn_days=3)
    assert "EXPIRED on 2026-11-28" in format_facts(pkg, NOW)
    with pytest.raises(ValueError, match="aware"):
        check_offboarding_expiry(pkg, dt.datetime(2026, 11, 28), warn_days=3)


def test_far_future_offboarding_fine(tmp_path):
    pkg = offboarding_pkg(tmp_path, dt.datetime(2027, 6, 1, tzinfo=UTC))
    assert check_offboarding_expiry(pkg, NOW, warn_days=3) == []
    assert "EXPIRED" not in format_facts(pkg, NOW)


def test_expiry_check_on_onboarding_package_refused(tmp_path):
    pkg = read_package(write(tmp_path, "x.cmd", GP))
    with pytest.raises(PackageError, match="not an offboarding package"):
        check_offboarding_expiry(pkg, NOW, 3)


def test_differing_org_ids_refused(tmp_path):
    on = read_package(write(tmp_path, "on.cmd", synthetic.onboarding_script(org_id=ORG_A)))
    off = offboarding_pkg(tmp_path, dt.datetime(2030, 1, 1, tzinfo=UTC), org_id=ORG_B)
    with pytest.raises(PackageError) as e:
        check_same_org(on, off)
    assert ORG_A in str(e.value) and ORG_B in str(e.value)
    same = offboarding_pkg(tmp_path, dt.datetime(2030, 1, 1, tzinfo=UTC), org_id=ORG_A.upper())
    check_same_org(on, same)     # GUIDs compare case-insensitively


# --- Zip safety ---------------------------------------------------------------------------------


def zip_error(tmp_path, data: bytes, *, name="bad.zip", **limits) -> str:
    p = write(tmp_path, name, data)
    with pytest.raises(PackageError) as e:
        read_package(p, **limits)
    msg = str(e.value)
    assert str(p) in msg
    return msg


@pytest.mark.parametrize("entry,expect", [
    ("../evil.cmd", "'..' component"),
    ("sub/../../evil.cmd", "'..' component"),
    ("/etc/evil.cmd", "absolute path"),
    ("\\Windows\\evil.cmd", "absolute path"),
    ("C:/evil.cmd", "drive letter"),
    ("C:evil.cmd", "drive letter"),
    ("sub\\..\\evil.cmd", "'..' component"),
    ("evil?.cmd", "characters Windows does not allow"),
    ("CON.cmd", "reserved device name"),
    ("evil.cmd ", "ends with a space or dot"),
])
def test_unsafe_names_refused(tmp_path, entry, expect):
    msg = zip_error(tmp_path, raw_zip([(GP_SCRIPT_NAME, GP), (entry, b"x")]))
    assert expect in msg and repr(entry) in msg


def test_symlink_entry_refused(tmp_path):
    info = zipfile.ZipInfo("link.cmd")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    msg = zip_error(tmp_path, raw_zip([(GP_SCRIPT_NAME, GP), (info, b"/etc/passwd")]))
    assert "symbolic link" in msg and "'link.cmd'" in msg


@pytest.mark.parametrize("second", [GP_SCRIPT_NAME, GP_SCRIPT_NAME.upper()])
def test_duplicate_names_refused(tmp_path, second):
    msg = zip_error(tmp_path, raw_zip([(GP_SCRIPT_NAME, GP), (second, b"other")]))
    assert "duplicate" in msg and "case-insensitive" in msg


def test_file_and_folder_of_same_name_refused(tmp_path):
    msg = zip_error(tmp_path, raw_zip([(GP_SCRIPT_NAME, GP), ("a", b"x"), ("a/b", b"y")]))
    assert "which is a file" in msg


def test_oversize_entry_refused(tmp_path):
    msg = zip_error(tmp_path, synthetic.package_zip([(GP_SCRIPT_NAME, GP)]), max_total_bytes=len(GP) - 1)
    assert f"'{GP_SCRIPT_NAME}'" in msg and "limit" in msg
    msg = zip_error(tmp_path, synthetic.package_zip([(GP_SCRIPT_NAME, GP)]), max_entry_bytes=1000)
    assert "declares" in msg


def test_total_size_cap(tmp_path):
    data = synthetic.package_zip([(GP_SCRIPT_NAME, GP), ("pad.bin", b"\0" * 4000)])
    msg = zip_error(tmp_path, data, max_total_bytes=len(GP) + 1000)
    assert "in total" in msg


def test_zip_bomb_refused(tmp_path):
    data = synthetic.package_zip([(GP_SCRIPT_NAME, GP), ("bomb.bin", b"\0" * (8 * 1024 * 1024))])
    assert len(data) < 100_000
    msg = zip_error(tmp_path, data)
    assert "'bomb.bin'" in msg and "limit" in msg


def test_lying_declared_size_refused(tmp_path):
    """An entry that declares fewer bytes than it holds is caught while unpacking."""
    data = bytearray(synthetic.package_zip([(GP_SCRIPT_NAME, GP), ("x.bin", b"A" * 100_000)]))
    cd = data.rfind(b"PK\x01\x02")                 # central directory record of x.bin
    struct.pack_into("<I", data, cd + 24, 10)       # uncompressed size
    lh = data.find(b"PK\x03\x04", 1)                # local header of x.bin
    struct.pack_into("<I", data, lh + 22, 10)
    msg = zip_error(tmp_path, bytes(data))
    assert "'x.bin'" in msg and "corrupt" in msg


def test_too_many_entries_refused(tmp_path):
    data = synthetic.package_zip([(GP_SCRIPT_NAME, GP)] + [(f"f{i}.txt", b"x") for i in range(5)])
    msg = zip_error(tmp_path, data, max_entries=4)
    assert "6 entries" in msg and "limit of 4" in msg


def test_encrypted_entry_refused(tmp_path):
    data = bytearray(synthetic.package_zip([(GP_SCRIPT_NAME, GP)]))
    struct.pack_into("<H", data, 6, struct.unpack_from("<H", data, 6)[0] | 1)
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 8, struct.unpack_from("<H", data, cd + 8)[0] | 1)
    assert "encrypted" in zip_error(tmp_path, bytes(data))


def test_corrupt_zip_refused(tmp_path):
    assert "not a readable zip archive" in zip_error(tmp_path, b"this is not a zip at all")
    good = synthetic.onboarding_zip("gp")
    assert "zip" in zip_error(tmp_path, good[: len(good) // 2])


def test_corrupt_entry_data_refused(tmp_path):
    data = bytearray(synthetic.package_zip([(GP_SCRIPT_NAME, GP)]))
    data[100] ^= 0xFF                               # inside the deflated data
    msg = zip_error(tmp_path, bytes(data))
    assert GP_SCRIPT_NAME in msg


def test_empty_zip_refused(tmp_path):
    msg = zip_error(tmp_path, synthetic.package_zip([]))
    assert "empty" in msg and GP_SCRIPT_NAME in msg


def test_zip_without_script_refused(tmp_path):
    msg = zip_error(tmp_path, synthetic.package_zip([("readme.txt", b"hi"), ("other.cmd", b"@echo off\r\n")]))
    assert "holds no Defender onboarding or offboarding script" in msg
    assert "readme.txt" in msg and GP_SCRIPT_NAME in msg and "OnboardingInfo" in msg


def test_zip_with_configmgr_blob_gets_advice(tmp_path):
    msg = zip_error(tmp_path, synthetic.package_zip([("WindowsDefenderATP.onboarding", b"{}")]))
    assert "Configuration Manager current-branch" in msg and '"Group Policy"' in msg


def test_zip_with_two_scripts_refused(tmp_path):
    off = synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC))
    msg = zip_error(tmp_path, synthetic.package_zip([(GP_SCRIPT_NAME, GP), ("off.cmd", off)]))
    assert "more than one" in msg


def test_zip_recognised_by_content_not_suffix(tmp_path):
    pkg = read_package(write(tmp_path, "package.bin", synthetic.onboarding_zip("gp")))
    assert pkg.is_zip and pkg.kind is PackageKind.GP_ONBOARDING


def test_missing_and_non_script_files(tmp_path):
    with pytest.raises(PackageError, match="does not exist"):
        read_package(tmp_path / "nope.zip")
    with pytest.raises(PackageError, match="not a Defender portal script"):
        read_package(write(tmp_path, "notes.cmd", b"@echo off\r\necho hi\r\n"))
    with pytest.raises(PackageError, match="empty"):
        read_package(write(tmp_path, "empty.cmd", b""))
    with pytest.raises(PackageError, match="folder is empty"):
        (tmp_path / "emptydir").mkdir()
        read_package(tmp_path / "emptydir")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_in_folder_refused(tmp_path):
    folder = tmp_path / "pkg"
    write(folder, GP_SCRIPT_NAME, GP)
    try:
        os.symlink("/etc/hostname", folder / "link.txt")
    except OSError:
        pytest.skip("cannot create symlinks here")
    with pytest.raises(PackageError, match="symbolic link"):
        read_package(folder)


# --- Blob errors --------------------------------------------------------------------------------


def gp_with_blob(blob: str) -> bytes:
    return re.sub(rb'(/v OnboardingInfo /t REG_SZ /f /d ")(.*?)("\s*>)',
                  lambda m: m.group(1) + synthetic.escape_for_cmd(blob).encode() + m.group(3), GP, count=1)


@pytest.mark.parametrize("blob,expect", [
    ("{not json", "not valid JSON"),
    ('{"sig":"x"}', 'no "body"'),
    ('{"body":"{\\"version\\":\\"1.4\\"}"}', "has no orgId"),
    ('{"body":"{\\"orgId\\":\\"not-a-guid\\"}"}', "is not a GUID"),
    ('{"body":"[1]"}', "not a JSON object"),
    ('{"body":"{\\"orgId\\":\\"00000000-0000-0000-0000-000000000000\\",\\"previousOrgIds\\":7}"}', "list of GUIDs"),
])
def test_malformed_blob_refused(tmp_path, blob, expect):
    p = write(tmp_path, "x.cmd", gp_with_blob(blob))
    with pytest.raises(PackageError, match=re.escape(expect)) as e:
        read_package(p)
    assert str(p) in str(e.value)


def test_blob_without_cert_is_read_with_a_note(tmp_path):
    blob = '{"body":"{\\"orgId\\":\\"00000000-0000-0000-0000-000000000000\\"}","cert":"!!"}'
    pkg = read_package(write(tmp_path, "x.cmd", gp_with_blob(blob)))
    assert pkg.facts.cert_not_after is None
    assert any("certificate could not be read" in n for n in pkg.notes)


def test_script_writing_both_values_refused(tmp_path):
    off = synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC))
    line = re.search(rb"^reg add .*696C1FA1.*$", off, re.MULTILINE | re.IGNORECASE).group(0)
    with pytest.raises(PackageError, match="both the onboarding and the offboarding value"):
        read_package(write(tmp_path, "x.cmd", GP + line + b"\r\n"))


# --- Bytes preserved ----------------------------------------------------------------------------


def mixed_line_ends(script: bytes) -> bytes:
    out = script.replace(b"\r\n\r\n", b"\r\n\n")     # blank lines become bare LF, as in portal files
    assert b"\r\n" in out and re.search(rb"[^\r]\n", out)
    return out


def test_bytes_preserved_exactly(tmp_path):
    script = mixed_line_ends(GP)
    ps1 = synthetic.vdi_ps1()
    data = synthetic.package_zip([(GP_SCRIPT_NAME, script), (VDI_SCRIPT_NAME, ps1)])
    pkg = read_package(write(tmp_path, "v.zip", data))
    assert pkg.script == script
    assert pkg.files == ((GP_SCRIPT_NAME, script), (VDI_SCRIPT_NAME, ps1))
    assert facts_as_dict(pkg)["line_ends"] == "crlf+lf"
    bare = read_package(write(tmp_path, GP_SCRIPT_NAME, script))
    assert bare.script == script and bare.sha256 == hashlib.sha256(script).hexdigest()


def test_lf_only_script_is_noted(tmp_path):
    pkg = read_package(write(tmp_path, "x.cmd", GP.replace(b"\r\n", b"\n")))
    assert pkg.kind is PackageKind.GP_ONBOARDING
    assert any("LF-only" in n for n in pkg.notes)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
                      min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(min_value=0)))
def test_damaged_zips_give_package_errors_only(tmp_path, edits, cut):
    data = bytearray(synthetic.vdi_zip())
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    p = tmp_path / "fuzz.zip"
    p.write_bytes(bytes(data))
    try:
        read_package(p)
    except PackageError:
        pass


# --- Reports ------------------------------------------------------------------------------------


def test_facts_as_dict_is_json(tmp_path):
    pkg = read_package(write(tmp_path, "o.zip", synthetic.offboarding_zip(
        expires=dt.datetime(2026, 12, 1, 17, 35, 26, tzinfo=UTC), interactive=True)))
    d = facts_as_dict(pkg)
    assert json.loads(json.dumps(d)) == d
    assert d["kind"] == "offboarding" and d["interactive"] is True and d["unattended_ok"] is False
    assert d["blob"]["expiration"] == "2026-12-01T17:35:26Z"
    assert d["blob"]["cert_not_after"] == "2035-12-31T23:59:59Z"
    assert d["files"][0]["sha256"] == hashlib.sha256(pkg.script).hexdigest()


def test_format_facts(tmp_path):
    pkg = read_package(write(tmp_path, "l.zip", synthetic.onboarding_zip("local")))
    text = format_facts(pkg, NOW)
    assert "interactive Local script: not usable for GPO/SCCM" in text
    assert synthetic.FAKE_ORG_ID in text and "WestEurope" in text and "2035-12-31" in text
    gp = format_facts(read_package(write(tmp_path, "g.zip", synthetic.onboarding_zip("gp"))), NOW)
    assert "not usable" not in gp and "OptionalParamsPolicy/AtpConfiguration.admx" in gp


def test_format_facts_columns_aligned(tmp_path):
    text = format_facts(read_package(write(tmp_path, "g.zip", synthetic.onboarding_zip("gp"))), NOW)
    columns = {re.match(r"^(\S.*?\s{2,}|\s+)\S", line).end() - 1 for line in text.splitlines()}
    assert len(columns) == 1


# --- The synthetic files themselves -------------------------------------------------------------


def test_synthetic_output_is_deterministic_and_fake():
    assert synthetic.onboarding_zip("gp") == synthetic.onboarding_zip("gp")
    assert synthetic.vdi_zip() == synthetic.vdi_zip()
    for info in zipfile.ZipFile(__import__("io").BytesIO(synthetic.vdi_zip())).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.compress_type == zipfile.ZIP_DEFLATED
    for script in (GP, synthetic.onboarding_script("local"),
                   synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC))):
        assert script.isascii()
        assert script.startswith(b"@REM FAKE ")
        assert b"not a real Microsoft Defender package" in script.split(b"\r\n")[0]
        assert script.count(b"\r\n") == script.count(b"\n")           # CRLF only
        assert b"exit /b %d" % synthetic.FAKE_EXIT_CODE in script      # the safety stop
    ps1 = synthetic.vdi_ps1()
    assert ps1.startswith(b"\xef\xbb\xbf") and ps1.count(b"\r\n") == ps1.count(b"\n")
    assert b"param([string]$onboardingPackageLocation" in ps1


def test_fake_ps1_finds_org_id_the_way_it_is_written():
    """The fake VDI script's org-id regex (a .NET pattern) matches the fake onboarding script."""
    ps1 = synthetic.vdi_ps1().decode("utf-8-sig")
    pattern = re.search(r"\[regex\]::Match\(\$content, '([^']+)'\)", ps1).group(1)
    m = re.search(pattern, synthetic.onboarding_script(org_id=ORG_A).decode("ascii"))
    assert m and m.group(1) == ORG_A


def test_sense_guid_derivation_matches_the_documented_vector():
    """What the VDI script computes (Guid(SHA1(UTF8(orgId_machine))[0..15])), in Python terms."""
    digest = hashlib.sha1("b4e68314-62a1-47e3-bb3c-354ff6fee77b_VDI-POOL-01".encode()).digest()
    assert str(uuid.UUID(bytes_le=digest[:16])) == "06761b16-5691-9df2-28d0-e57dbb772352"


def _syntax_errors(language_module: str, src: bytes) -> list[str]:
    ts = pytest.importorskip("tree_sitter")
    mod = pytest.importorskip(language_module)
    tree = ts.Parser(ts.Language(mod.language())).parse(src)
    problems, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            problems.append(f"{node.start_point}: {node.type} {node.text[:40]!r}")
        stack.extend(node.children)
    if tree.root_node.has_error and not problems:
        problems.append("parser reported an error")
    return problems


@pytest.mark.parametrize("script", [
    GP, synthetic.onboarding_script("local"),
    synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC)),
    synthetic.offboarding_script(expires=dt.datetime(2030, 1, 1, tzinfo=UTC), interactive=True),
], ids=["gp", "local", "offboarding", "offboarding-local"])
def test_fake_cmd_parses_as_batch(script):
    assert _syntax_errors("tree_sitter_batch", script) == []
    labels = {m.lower() for m in re.findall(rb"^:(\w+)", script, re.MULTILINE)}
    jumps = {m.lower() for m in re.findall(rb"\bgoto\s+:?(\w+)", script, re.IGNORECASE)}
    assert jumps <= labels


def test_fake_ps1_parses_as_powershell():
    assert _syntax_errors("tree_sitter_pwsh", synthetic.vdi_ps1()[3:]) == []


def test_fake_admx_is_well_formed():
    etree = pytest.importorskip("lxml.etree")
    for _, data in synthetic.optional_params_files():
        etree.fromstring(data)


# --- The real portal files (shared samples, when present) ---------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "shared/reference/samples/mde-portal"

# folder -> (kind, interactive); see PROVENANCE.md there. No tenant values here.
EXPECTED = {
    "Seagull239-DefOB": (PackageKind.LOCAL_ONBOARDING, True),
    "amirulzulkifli3647-EDR": (PackageKind.LOCAL_ONBOARDING, True),
    "subhash012-sharedfiles": (PackageKind.LOCAL_ONBOARDING, True),
    "carmitage-mlife-public": (PackageKind.LOCAL_ONBOARDING, True),
    "janieandjack-Faronics": (PackageKind.OFFBOARDING, True),
    "octihex-Deploy": (PackageKind.GP_ONBOARDING, False),
    "pkamenar-TeamViewer": (PackageKind.GP_ONBOARDING, False),
}


def _real_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples folder mde-portal/ not present")
@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_real_portal_file(path):
    folder = path.relative_to(SAMPLES).parts[0]
    if path.suffix.lower() in (".admx", ".adml"):       # the GP package's OptionalParamsPolicy files
        with pytest.raises(PackageError, match="not a Defender portal script"):
            read_package(path)
        return
    pkg = read_package(path)
    assert pkg.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert uuid.UUID(pkg.facts.org_id)
    assert pkg.facts.version
    assert pkg.facts.cert_not_after is not None and pkg.facts.cert_subject_cn
    d = facts_as_dict(pkg)
    assert json.loads(json.dumps(d)) == d
    text = format_facts(pkg, NOW)
    assert pkg.kind.label in text
    if folder not in EXPECTED:                          # a sample added later: reading is enough
        return
    kind, interactive = EXPECTED[folder]
    assert pkg.kind is kind
    assert pkg.interactive is interactive
    assert pkg.is_zip is (path.suffix.lower() == ".zip")
    if kind is PackageKind.LOCAL_ONBOARDING:
        assert "interactive Local script: not usable for GPO/SCCM" in text
        with pytest.raises(PackageError, match="Group Policy"):
            check_unattended(pkg, "the GPO startup task")
    elif kind is PackageKind.GP_ONBOARDING:
        check_unattended(pkg, "the GPO startup task")
        assert pkg.facts.datacenter and pkg.facts.cloud == "commercial"
    else:
        exp = pkg.facts.expiration
        assert exp is not None and path.name.endswith(f"valid_until_{exp.date().isoformat()}.cmd")
        with pytest.raises(PackageError, match="EXPIRED"):
            check_offboarding_expiry(pkg, exp + dt.timedelta(seconds=1), warn_days=3)
        assert check_offboarding_expiry(pkg, exp - dt.timedelta(days=30), warn_days=3) == []
        assert f"EXPIRED on {exp.date().isoformat()}" in text


@pytest.mark.skipif(not (SAMPLES / "octihex-Deploy").is_dir(), reason="shared samples not present")
def test_real_gp_folder_with_optional_params_policy():
    pkg = read_package(SAMPLES / "octihex-Deploy")
    assert pkg.kind is PackageKind.GP_ONBOARDING and pkg.is_folder
    assert [p.lower() for p in pkg.optional_params_policy] == [
        "optionalparamspolicy/atpconfiguration.admx", "optionalparamspolicy/en-us/atpconfiguration.adml"]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples folder mde-portal/ not present")
def test_real_certs_agree_with_cryptography():
    x509 = pytest.importorskip("cryptography.x509")
    import base64
    from generator.portal import _UNESCAPE_RE, _find_blobs
    for path in _real_files():
        if path.suffix.lower() in (".admx", ".adml"):
            continue
        pkg = read_package(path)
        envelope = json.loads(_UNESCAPE_RE.sub(rb"\1", _find_blobs(pkg.script)[0][1]))
        cert = x509.load_der_x509_certificate(base64.b64decode(envelope["cert"]))
        assert pkg.facts.cert_not_after == cert.not_valid_after_utc
        assert pkg.facts.cert_not_before == cert.not_valid_before_utc
