"""Synthetic, clearly FAKE Defender portal packages for the built-in example and the tests.

The real portal files carry other organisations' tenant data, so mdegen never ships them. These
stand-ins have the same shape (the same steps, exit codes and the same
``reg add ... /v OnboardingInfo /t REG_SZ /f /d "<escaped JSON>"`` line, so
:mod:`generator.portal` reads them like real ones) but everything in them is ours: an all-zero
org id by default, fake signature strings and a fake, well-formed DER certificate whose validity
dates we choose.

Safety: every fake script stops at its top and changes nothing (exit code
:data:`FAKE_EXIT_CODE`) unless the environment variable ``MDEGEN_FAKE_PACKAGE=run`` is set, which
only a sandbox (Wine) should do. Defender would reject the fake blob anyway, but a fake offboarding
script would otherwise delete a real machine's onboarding value.

Output is deterministic: the same arguments give the same bytes (zip deflate output depends only
on the zlib build).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import zipfile

from generator.portal import (GP_SCRIPT_NAME, LOCAL_SCRIPT_NAME, OPTIONAL_PARAMS_DIR, VDI_SCRIPT_NAME,
                              datetime_to_filetime)
from generator.templating import render, to_crlf

FAKE_ORG_ID = "00000000-0000-0000-0000-000000000000"
FAKE_EXIT_CODE = 99
FAKE_CERT_NOT_AFTER = dt.datetime(2035, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
FAKE_CERT_SUBJECT_CN = "FAKE-Seville.mdegen.invalid"
FAKE_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

# datacenter -> (geoLocationUrl region token, vortexGeoLocation), as observed in real blobs.
DATACENTERS: dict[str, tuple[str, str]] = {
    "WestEurope": ("weu", "EU"),
    "NorthEurope": ("neu", "EU"),
    "WestUk": ("ukw", "UK"),
    "EastUs3": ("eus3", "US"),
    "CentralUs3": ("cus3", "US"),
    "UsGovTexas": ("usgt", "FFL4"),
}

_UTC = dt.timezone.utc


# --- A fake DER certificate ---------------------------------------------------------------------


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return _der(0x02, raw)


def _der_oid(dotted: str) -> bytes:
    nums = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * nums[0] + nums[1]])
    for n in nums[2:]:
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        out.extend(reversed(chunk))
    return _der(0x06, bytes(out))


def _der_name(cn: str) -> bytes:
    atv = _der(0x30, _der_oid("2.5.4.3") + _der(0x0C, cn.encode("utf-8")))
    return _der(0x30, _der(0x31, atv))


def _der_time(when: dt.datetime) -> bytes:
    when = when.astimezone(_UTC) if when.tzinfo else when.replace(tzinfo=_UTC)
    if 1950 <= when.year < 2050:      # RFC 5280: UTCTime through 2049, GeneralizedTime after
        return _der(0x17, when.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return _der(0x18, when.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def _fake_bytes(label: str, n: int) -> bytes:
    """Deterministic filler bytes (a SHA-256 counter stream): a stand-in for keys and signatures."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out.extend(hashlib.sha256(f"mdegen-fake:{label}:{counter}".encode()).digest())
        counter += 1
    return bytes(out[:n])


def fake_certificate(not_after: dt.datetime = FAKE_CERT_NOT_AFTER, *, not_before: dt.datetime | None = None,
                     subject_cn: str = FAKE_CERT_SUBJECT_CN, issuer_cn: str = "FAKE mdegen test CA",
                     serial: int = 1) -> bytes:
    """A well-formed but FAKE X.509 v3 certificate (DER): fake RSA key, fake signature, no extensions."""
    if not_before is None:
        not_before = not_after - dt.timedelta(days=365)
    sig_alg = _der(0x30, _der_oid("1.2.840.113549.1.1.11") + b"\x05\x00")    # sha256WithRSAEncryption
    modulus = int.from_bytes(b"\xc0" + _fake_bytes(f"key:{subject_cn}", 255), "big") | 1
    rsa_key = _der(0x30, _der_int(modulus) + _der_int(65537))
    spki = _der(0x30, _der(0x30, _der_oid("1.2.840.113549.1.1.1") + b"\x05\x00")
                + _der(0x03, b"\x00" + rsa_key))
    tbs = _der(0x30,
               _der(0xA0, _der_int(2))                     # [0] version v3
               + _der_int(serial)
               + sig_alg
               + _der_name(issuer_cn)
               + _der(0x30, _der_time(not_before) + _der_time(not_after))
               + _der_name(subject_cn)
               + spki)
    signature = _der(0x03, b"\x00" + _fake_bytes(f"sig:{subject_cn}:{serial}", 256))
    return _der(0x30, tbs + sig_alg + signature)


# --- The blob -----------------------------------------------------------------------------------


def _fake_signature(label: str) -> str:
    text = f"FAKE {label} signature made by mdegen; not signed by Microsoft.".encode("ascii")
    return base64.b64encode(text + _fake_bytes(label, 256 - len(text))).decode("ascii")


def signed_blob(body: dict, *, cert_not_after: dt.datetime = FAKE_CERT_NOT_AFTER,
                sha256_pss: bool = False) -> str:
    """The envelope JSON (body + fake signatures + fake cert and chain) as the registry holds it."""
    envelope: dict[str, object] = {"body": json.dumps(body, separators=(",", ":"))}
    envelope["sig"] = _fake_signature("sig")
    envelope["sha256sig"] = _fake_signature("sha256sig")
    if sha256_pss:
        envelope["sha256sigPss"] = _fake_signature("sha256sigPss")
    envelope["cert"] = base64.b64encode(fake_certificate(cert_not_after)).decode("ascii")
    ca_dates = {"not_after": dt.datetime(2036, 1, 1, tzinfo=_UTC), "not_before": dt.datetime(2011, 1, 1, tzinfo=_UTC)}
    chain = [fake_certificate(ca_dates["not_after"], not_before=ca_dates["not_before"], serial=2,
                              subject_cn="FAKE mdegen test CA", issuer_cn="FAKE mdegen test root"),
             fake_certificate(ca_dates["not_after"], not_before=ca_dates["not_before"], serial=3,
                              subject_cn="FAKE mdegen test root", issuer_cn="FAKE mdegen test root")]
    envelope["chain"] = [base64.b64encode(c).decode("ascii") for c in chain]
    return json.dumps(envelope, separators=(",", ":"))


def escape_for_cmd(blob: str) -> str:
    """Escape JSON for the portal scripts' `reg add ... /d "..."`: backslash and quote get a backslash."""
    if "%" in blob or not blob.isascii() or "\n" in blob or "\r" in blob:
        raise ValueError("a blob for a .cmd line must be one line of ASCII without '%'")
    return blob.replace("\\", "\\\\").replace('"', '\\"')


def _script_bytes(text: str) -> bytes:
    return to_crlf(text).encode("ascii")


# --- Scripts ------------------------------------------------------------------------------------


def onboarding_script(kind: str = "gp", *, org_id: str = FAKE_ORG_ID, version: str = "1.56",
                      datacenter: str = "WestEurope", cert_not_after: dt.datetime = FAKE_CERT_NOT_AFTER,
                      geo_location_url: str | None = None, vortex_geo_location: str | None = None,
                      package_guid: str | None = None, previous_org_ids: tuple[str, ...] = ()) -> bytes:
    """A FAKE onboarding .cmd: ``kind`` "gp" (non-interactive) or "local" (consent prompt, pause,
    latency=Demo). ASCII with CRLF line ends."""
    if kind not in ("gp", "local"):
        raise ValueError(f"kind must be 'gp' or 'local', not {kind!r}")
    region, vortex = DATACENTERS.get(datacenter, ("weu", "EU"))
    body: dict[str, object] = {
        "previousOrgIds": list(previous_org_ids),
        "orgId": org_id,
        "geoLocationUrl": geo_location_url or f"https://winatp-gw-{region}.microsoft.com/",
        "datacenter": datacenter,
        "vortexGeoLocation": vortex_geo_location or vortex,
        "version": version,
    }
    if package_guid is not None:
        body["packageGuid"] = package_guid
    blob = escape_for_cmd(signed_blob(body, cert_not_after=cert_not_after))
    local = kind == "local"
    text = render("synthetic/onboarding.cmd.j2", local=local, blob=blob,
                  q="" if local else " >NUL 2>&1", fake_exit_code=FAKE_EXIT_CODE)
    return _script_bytes(text)


def offboarding_script(*, org_id: str = FAKE_ORG_ID, expires: dt.datetime, interactive: bool = False,
                       version: str = "1.4", cert_not_after: dt.datetime = FAKE_CERT_NOT_AFTER) -> bytes:
    """A FAKE offboarding .cmd whose blob expires at ``expires`` (UTC if naive); ``interactive``
    adds the Local variant's closing ``pause``. ASCII with CRLF line ends."""
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=_UTC)
    body = {
        "orgIds": [org_id],
        "orgId": org_id,
        "expirationTimestamp": datetime_to_filetime(expires),
        "version": version,
    }
    blob = escape_for_cmd(signed_blob(body, cert_not_after=cert_not_after, sha256_pss=True))
    text = render("synthetic/offboarding.cmd.j2", interactive=interactive, blob=blob,
                  q="" if interactive else " >NUL 2>&1", fake_exit_code=FAKE_EXIT_CODE,
                  valid_until=expires.astimezone(_UTC).date().isoformat())
    return _script_bytes(text)


def offboarding_script_name(expires: dt.datetime) -> str:
    """The portal's file name for an offboarding script: the UTC date of its expiry."""
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=_UTC)
    return f"WindowsDefenderATPOffboardingScript_valid_until_{expires.astimezone(_UTC).date().isoformat()}.cmd"


def vdi_ps1() -> bytes:
    """A FAKE Onboard-NonPersistentMachine.ps1 shaped like Microsoft's: the real one's parameter
    and exit codes, UTF-8 with BOM, CRLF line ends, about 20 KB, ending in an Authenticode-style
    ``# SIG # Begin signature block`` ... ``# SIG # End signature block`` comment. The block's
    base64 is made-up bytes (no certificate verifies it), so the file is clearly fake."""
    text = render("synthetic/Onboard-NonPersistentMachine.ps1.j2", gp_script_name=GP_SCRIPT_NAME)
    blob = base64.b64encode(b"FAKE-SIGNATURE-BLOCK-mdegen" + _fake_bytes("vdi-signature", 12_000)).decode("ascii")
    lines = [f"# {blob[i:i + 64]}" for i in range(0, len(blob), 64)]
    text = text.rstrip("\n") + "\n\n# SIG # Begin signature block\n" + "\n".join(lines) + "\n# SIG # End signature block\n"
    return b"\xef\xbb\xbf" + to_crlf(text).encode("utf-8")


def optional_params_files() -> list[tuple[str, bytes]]:
    """FAKE OptionalParamsPolicy/AtpConfiguration.admx and en-US/AtpConfiguration.adml (UTF-8, CRLF)."""
    admx = to_crlf(render("synthetic/AtpConfiguration.admx.j2")).encode("utf-8")
    adml = to_crlf(render("synthetic/AtpConfiguration.adml.j2")).encode("utf-8")
    return [(f"{OPTIONAL_PARAMS_DIR}/AtpConfiguration.admx", admx),
            (f"{OPTIONAL_PARAMS_DIR}/en-US/AtpConfiguration.adml", adml)]


# --- Zips ---------------------------------------------------------------------------------------


def package_zip(files: list[tuple[str, bytes]], *,
                date_time: tuple[int, int, int, int, int, int] = FAKE_ZIP_DATE_TIME) -> bytes:
    """A deterministic zip of ``files`` in the given order: fixed time stamp, Unix regular-file
    mode 0644, deflate level 9, no extra fields or comment."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def onboarding_zip(kind: str = "gp", *, optional_params: bool | None = None, **script_args: object) -> bytes:
    """A FAKE WindowsDefenderATPOnboardingPackage.zip: "gp" holds the GP script and (by default)
    the OptionalParamsPolicy ADMX/ADML; "local" holds the Local Script only, as the portal does."""
    script = onboarding_script(kind, **script_args)  # type: ignore[arg-type]
    if kind == "local":
        files = [(LOCAL_SCRIPT_NAME, script)]
    else:
        files = [(GP_SCRIPT_NAME, script)]
    if optional_params if optional_params is not None else kind == "gp":
        files += optional_params_files()
    return package_zip(files)


def offboarding_zip(*, expires: dt.datetime, **script_args: object) -> bytes:
    """A FAKE offboarding package zip holding WindowsDefenderATPOffboardingScript_valid_until_<date>.cmd."""
    script = offboarding_script(expires=expires, **script_args)  # type: ignore[arg-type]
    return package_zip([(offboarding_script_name(expires), script)])


def vdi_zip(*, optional_params: bool = False, **script_args: object) -> bytes:
    """A FAKE VDI onboarding zip: the GP script and Onboard-NonPersistentMachine.ps1 side by side."""
    files = [(GP_SCRIPT_NAME, onboarding_script("gp", **script_args)),  # type: ignore[arg-type]
             (VDI_SCRIPT_NAME, vdi_ps1())]
    if optional_params:
        files += optional_params_files()
    return package_zip(files)


# --- Agent files (generator.agents) -------------------------------------------------------------
#
# FAKE stand-ins for DefenderDT.exe, MMASetup-*.exe, md4ws.msi, install.ps1 and the DefenderDT
# package's WindowsDefenderATP.onboarding: the file structure mdegen checks, and nothing else. The
# programs hold no code (entry point 0, no sections with code); the MSI holds no tables; the
# install.ps1 stops with FAKE_EXIT_CODE unless MDEGEN_FAKE_PACKAGE=run; every "signature" is
# made-up bytes that start with the words FAKE mdegen.

import struct  # noqa: E402  (kept with the agent fakes, which alone need it)

from generator.agents import MSI_DATABASE_CLSID, OLE_SIGNATURE  # noqa: E402

FAKE_MARK = b"FAKE mdegen"
FAKE_INSTALL_PS1_VERSION = "1.20000101.0"       # the real script's version shape, a date no release has
_PE_MACHINES = {"x64": 0x8664, "x86": 0x014C, "ARM64": 0xAA64}


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def fake_pe(label: str, machine: str = "x64", signed: bool = False) -> bytes:
    """A FAKE, minimal PE image: DOS header (``MZ``, e_lfanew 0x80) with a stub text, ``PE\\0\\0``,
    a COFF header for ``machine`` ("x64", "x86" or "ARM64"), a PE32+ (PE32 for x86) optional header
    with 16 data directories, one data-only section ``.fake`` holding "FAKE mdegen" and a
    version-resource style ``OriginalFilename`` string (UTF-16LE) set to ``label``, and, when
    ``signed``, a made-up WIN_CERTIFICATE that the security directory (entry 4) points at. It
    has no code: the entry point is 0."""
    if machine not in _PE_MACHINES:
        raise ValueError(f"machine must be one of {', '.join(_PE_MACHINES)}, not {machine!r}")
    plus = machine != "x86"
    e_lfanew = 0x80
    stub = b"FAKE mdegen stub: this is not a program.\r\n$"
    dos = bytearray(e_lfanew)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, e_lfanew)
    dos[0x40:0x40 + len(stub)] = stub

    opt_size = (112 if plus else 96) + 16 * 8
    file_align, sect_align = 0x200, 0x1000
    headers_end = e_lfanew + 4 + 20 + opt_size + 40          # one section header
    size_of_headers = -(-headers_end // file_align) * file_align

    payload = (FAKE_MARK + f" stand-in for {label}; no code, not made by Microsoft.\0\0\0".encode("ascii"))
    payload += b"\0" * (-len(payload) % 4)
    payload += _utf16z("OriginalFilename") + b"\0\0" + _utf16z(label)
    payload += b"\0" * (-len(payload) % file_align)
    section_offset = size_of_headers
    image_size = sect_align + -(-len(payload) // sect_align) * sect_align

    cert = b""
    if signed:
        body = FAKE_MARK + f" Authenticode stand-in for {label}; no certificate verifies it.".encode("ascii")
        body += _fake_bytes(f"pe-signature:{label}", 256)
        body += b"\0" * (-(len(body) + 8) % 8)
        cert = struct.pack("<IHH", len(body) + 8, 0x0200, 0x0002) + body   # WIN_CERT_TYPE_PKCS_SIGNED_DATA
    cert_offset = section_offset + len(payload)

    characteristics = 0x0022 if plus else 0x0102     # executable image + large-address-aware / 32-bit
    coff = struct.pack("<HHIIIHH", _PE_MACHINES[machine], 1, 0, 0, 0, opt_size, characteristics)
    if plus:
        opt = struct.pack("<HBBIIIII", 0x20B, 14, 0, 0, len(payload), 0, 0, sect_align)
        opt += struct.pack("<Q", 0x140000000)
    else:
        opt = struct.pack("<HBBIIIIII", 0x10B, 14, 0, 0, len(payload), 0, 0, sect_align, sect_align)
        opt += struct.pack("<I", 0x400000)
    opt += struct.pack("<IIHHHHHHIIIIHH", sect_align, file_align, 6, 0, 0, 0, 6, 0, 0,
                       image_size, size_of_headers, 0, 3, 0x8160)     # console subsystem, ASLR/DEP/NX flags
    if plus:
        opt += struct.pack("<QQQQII", 0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    else:
        opt += struct.pack("<IIIIII", 0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    dirs = [(0, 0)] * 16
    if signed:
        dirs[4] = (cert_offset, len(cert))           # a file offset, not an RVA, for this directory
    opt += b"".join(struct.pack("<II", a, b) for a, b in dirs)
    assert len(opt) == opt_size
    section = struct.pack("<8sIIIIIIHHI", b".fake", len(payload), sect_align, len(payload), section_offset,
                          0, 0, 0, 0, 0x40000040)     # initialised data, readable
    head = bytes(dos) + b"PE\0\0" + coff + opt + section
    return head + b"\0" * (size_of_headers - len(head)) + payload + cert


def fake_msi(label: str = "md4ws.msi") -> bytes:
    """A FAKE compound file shaped like an MSI: the D0 CF 11 E0 A1 B1 1A E1 header (version 3,
    512-byte sectors), one FAT sector, a directory sector whose root entry carries the Windows
    Installer database CLSID, and a sector of text that says "FAKE mdegen". It holds no tables."""
    free, end, fat = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = OLE_SIGNATURE
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat_sector = struct.pack("<128I", fat, end, end, *([free] * 125))
    root = bytearray(128)
    name = "Root Entry".encode("utf-16-le") + b"\0\0"
    root[0:len(name)] = name
    struct.pack_into("<HBB", root, 0x40, len(name), 5, 1)
    struct.pack_into("<III", root, 0x44, free, free, free)
    root[0x50:0x60] = MSI_DATABASE_CLSID.bytes_le
    struct.pack_into("<IQ", root, 0x74, end, 0)
    empty = bytearray(128)
    struct.pack_into("<III", empty, 0x44, free, free, free)
    directory = bytes(root) + bytes(empty) * 3
    text = FAKE_MARK + f" stand-in for {label}: a compound file with no installer tables, not made by Microsoft.".encode("ascii")
    filler = text + b"\0" * (512 - len(text))
    return bytes(header) + fat_sector + directory + filler


def _fake_ps_signature_block(label: str, size: int = 4000) -> str:
    blob = base64.b64encode(b"FAKE-SIGNATURE-BLOCK-mdegen" + _fake_bytes(label, size)).decode("ascii")
    lines = [f"# {blob[i:i + 64]}" for i in range(0, len(blob), 64)]
    return "# SIG # Begin signature block\n" + "\n".join(lines) + "\n# SIG # End signature block\n"


_FAKE_INSTALL_PS1 = """\
<#
    FAKE mdegen stand-in for Microsoft's install.ps1 (unified agent helper for md4ws.msi), version {version}.
    Not made by Microsoft and not signed by anyone: the signature block below is made-up bytes.
    It installs nothing: without MDEGEN_FAKE_PACKAGE=run it exits {fake_exit_code} at once.
#>
[CmdletBinding(DefaultParameterSetName = 'install')]
param(
    [Parameter(ParameterSetName = 'install')] [guid] $RemoveMMA,
    [Parameter(ParameterSetName = 'install')] [string] $OnboardingScript,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [string] $OffboardingScript,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [switch] $UI,
    [Parameter(ParameterSetName = 'install')] [switch] $Passive,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [switch] $NoMSILog,
    [Parameter(ParameterSetName = 'install')] [Parameter(ParameterSetName = 'uninstall')] [switch] $NoEtl,
    [Parameter(ParameterSetName = 'install')] [hashtable] $ExtraWebRequestOptions,
    [Parameter(ParameterSetName = 'install')] [switch] $DevMode,
    [Parameter(ParameterSetName = 'uninstall', Mandatory)] [switch] $Uninstall
)
if ($env:MDEGEN_FAKE_PACKAGE -ne 'run') {{
    Write-Host 'FAKE mdegen install.ps1: refusing to run (set MDEGEN_FAKE_PACKAGE=run in a sandbox).'
    exit {fake_exit_code}
}}
Write-Host "FAKE mdegen install.ps1 would use $PSScriptRoot\\md4ws.msi ($($PSCmdlet.ParameterSetName))."
exit 0
"""


def fake_install_ps1(version: str = FAKE_INSTALL_PS1_VERSION) -> bytes:
    """A FAKE install.ps1: UTF-8 with BOM, CRLF, a param() block with the real script's parameter
    names (facts from mde-2026.md §C, nothing of its code), a body that exits FAKE_EXIT_CODE unless
    MDEGEN_FAKE_PACKAGE=run, and a made-up ``# SIG #`` block at the end."""
    text = _FAKE_INSTALL_PS1.format(version=version, fake_exit_code=FAKE_EXIT_CODE)
    text += "\n" + _fake_ps_signature_block(f"install.ps1:{version}")
    return b"\xef\xbb\xbf" + to_crlf(text).encode("utf-8")


def fake_defenderdt_onboarding(*, org_id: str = FAKE_ORG_ID, version: str = "2.11",
                               datacenter: str = "WestEurope", expires: dt.datetime | None = None,
                               package_guid: str | None = None,
                               cert_not_after: dt.datetime = FAKE_CERT_NOT_AFTER) -> bytes:
    """A FAKE WindowsDefenderATP.onboarding in the format generator.agents infers for it: the same
    signed-blob JSON envelope as the .cmd's OnboardingInfo value (fake signatures and certificate),
    unescaped, UTF-8 without BOM or trailing line end. ``expires`` adds an ``expirationTimestamp``
    FILETIME to the body, where mdegen looks for the package's expiry (also inferred)."""
    region, vortex = DATACENTERS.get(datacenter, ("weu", "EU"))
    body: dict[str, object] = {
        "previousOrgIds": [],
        "orgId": org_id,
        "geoLocationUrl": f"https://winatp-gw-{region}.microsoft.com/",
        "datacenter": datacenter,
        "vortexGeoLocation": vortex,
        "version": version,
    }
    if package_guid is not None:
        body["packageGuid"] = package_guid
    if expires is not None:
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=_UTC)
        body["expirationTimestamp"] = datetime_to_filetime(expires)
    return signed_blob(body, cert_not_after=cert_not_after).encode("utf-8")


def fake_defenderdt_offboarding(*, org_id: str = FAKE_ORG_ID, expires: dt.datetime,
                                cert_not_after: dt.datetime = FAKE_CERT_NOT_AFTER) -> bytes:
    """A FAKE DefenderDT .offboarding file: the signed-blob JSON envelope with an offboarding body
    (orgIds, orgId, expirationTimestamp, version; no geoLocationUrl), the shape of the portal's
    offboarding blobs, unescaped (inferred, as for the .onboarding file)."""
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=_UTC)
    body = {"orgIds": [org_id], "orgId": org_id, "expirationTimestamp": datetime_to_filetime(expires), "version": "1.4"}
    return signed_blob(body, cert_not_after=cert_not_after).encode("utf-8")


def defenderdt_offboarding_name(expires: dt.datetime) -> str:
    """The file name the portal gives it, with its expiry date (as the offboarding scripts' names)."""
    return f"WindowsDefenderATP_valid_until_{expires:%Y-%m-%d}.offboarding"


def unified_agent_zip(*, with_onboarding_script: bool = False, version: str = FAKE_INSTALL_PS1_VERSION) -> bytes:
    """A FAKE unified-agent package: md4ws.msi and install.ps1 side by side (plus, with
    ``with_onboarding_script``, the FAKE Group Policy onboarding .cmd that install.ps1 is given)."""
    files = [("md4ws.msi", fake_msi("md4ws.msi")), ("Install.ps1", fake_install_ps1(version))]
    if with_onboarding_script:
        files.append((GP_SCRIPT_NAME, onboarding_script("gp")))
    return package_zip(files)


def defenderdt_zip(*, expires: dt.datetime | None = None) -> bytes:
    """A FAKE Defender deployment tool download: DefenderDT.exe (signed, x64) beside its
    WindowsDefenderATP.onboarding."""
    return package_zip([("DefenderDT.exe", fake_pe("DefenderDT.exe", signed=True)),
                        ("WindowsDefenderATP.onboarding", fake_defenderdt_onboarding(expires=expires))])


def configmgr_onboarding_zip(**blob_args: object) -> bytes:
    """A FAKE portal package for "Microsoft Endpoint Configuration Manager current branch and later":
    a zip holding WindowsDefenderATP.onboarding (the same signed blob the scripts carry)."""
    return package_zip([("WindowsDefenderATP.onboarding", fake_defenderdt_onboarding(**blob_args))])


def configmgr_offboarding_zip(*, expires: dt.datetime, org_id: str = FAKE_ORG_ID) -> bytes:
    """Its offboarding counterpart: a zip holding WindowsDefenderATP_valid_until_<date>.offboarding."""
    return package_zip([(defenderdt_offboarding_name(expires), fake_defenderdt_offboarding(org_id=org_id,
                                                                                           expires=expires))])
