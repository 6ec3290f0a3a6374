"""Tests for generator.formats.regpol, the registry.pol (PReg) codec.

Golden bytes come from the format notes (MS-GPREG §2.2.1 layout) and are rebuilt here by a tiny
independent encoder (`_ref_*`), never by the module under test.  Real files are read from the
shared reference folder next to the repository when it exists; Samba's NDR parser is used as an
outside oracle when Debian's python3-samba is installed.
"""

from __future__ import annotations

import base64
import gc
import io
import json
import random
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator.errors import MdegenError
from generator.formats import regpol
from generator.formats.regpol import (
    HEADER, PolEntry, RegistryPolError, RegType, Special, canonical_order, dump, dumps,
    entries_to_json, format_entries, load, loads,
)
from samba_preg import samba_available, samba_read

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "reference" / "samples"
K = "Software\\Policies\\Contoso\\Agent"


# ---------------------------------------------------------------------------------------------
# An independent reference encoder, written from the byte layout in the format notes
# ---------------------------------------------------------------------------------------------

def _u16z(s: str) -> bytes:
    return (s + "\0").encode("utf-16-le")


def _ref_entry(key: str, name: str, typ: int, data: bytes) -> bytes:
    semi = ";".encode("utf-16-le")
    return ("[".encode("utf-16-le") + _u16z(key) + semi + _u16z(name) + semi
            + struct.pack("<I", typ) + semi + struct.pack("<I", len(data)) + semi
            + data + "]".encode("utf-16-le"))


def _ref_data(e: PolEntry) -> bytes:
    if e.raw:
        return e.value
    if e.type in (1, 2):
        return _u16z(e.value)
    if e.type == 7:
        return "".join(s + "\0" for s in e.value).encode("utf-16-le") + b"\0\0"
    if e.type == 4:
        return struct.pack("<I", e.value)
    if e.type == 5:
        return struct.pack(">I", e.value)
    if e.type == 11:
        return struct.pack("<Q", e.value)
    return bytes(e.value)


def _ref_file(entries) -> bytes:
    return b"PReg" + struct.pack("<I", 1) + b"".join(
        _ref_entry(e.key, e.name, e.type, _ref_data(e)) for e in entries)


# ---------------------------------------------------------------------------------------------
# Golden bytes
# ---------------------------------------------------------------------------------------------

def test_constructed_dword_example():
    # formats.md §1's hex for [A;B;REG_DWORD;4;1].  (The notes call it "50 bytes"; the hex they
    # give is 32 bytes, 40 with the header - the hex is what the layout table adds up to.)
    body = bytes.fromhex("5b00 4100 0000 3b00 4200 0000 3b00 04000000 3b00 04000000 3b00"
                         " 01000000 5d00")
    assert len(body) == 32
    data = dumps([PolEntry.dword("A", "B", 1)])
    assert len(data) == 40
    assert data == b"PReg\x01\x00\x00\x00" + body
    assert loads(data) == [PolEntry("A", "B", RegType.DWORD, 1)]


@pytest.mark.parametrize("entry, size, data_hex", [
    (PolEntry.sz("Software\\MyKey", "MyValue", "String"), 0x0E, "5300740072006900 6e00 6700 0000"),
    (PolEntry.sz(K, "Empty", ""), 2, "0000"),
    (PolEntry.sz(K, "One", "1"), 4, "31000000"),
    (PolEntry.multi_sz(K, "M", ["x", "y"]), 10, "78000000790000000000"),
    (PolEntry.multi_sz(K, "M", ["rick", "morty"]), 0x18, None),
    (PolEntry.multi_sz(K, "M", ["rick"]), 0x0C, None),
    (PolEntry.multi_sz(K, "M", []), 2, "0000"),
    (PolEntry.dword(K, "D", 0x01020304), 4, "04030201"),
    (PolEntry.dword_big_endian(K, "D", 0x01020304), 4, "01020304"),
    (PolEntry.qword(K, "Q", 0x0102030405060708), 8, "0807060504030201"),
    (PolEntry.binary(K, "B", b"\x00\xff\x10"), 3, "00ff10"),
    (PolEntry.expand_sz(K, "E", "%A%"), 8, "2500410025000000"),
])
def test_value_encodings(entry, size, data_hex):
    data = dumps([entry])
    # ... ';' size ';' data ']' at the end of the file
    assert data[-2:] == b"]\x00"
    assert data[-(size + 8):-(size + 2)] == struct.pack("<I", size) + b";\x00"
    assert data[-(size + 10):-(size + 8)] == b";\x00"
    assert struct.unpack_from("<I", data, len(data) - size - 14)[0] == entry.type
    if data_hex is not None:
        assert data[-(size + 2):-2] == bytes.fromhex(data_hex)
    assert data == _ref_file([entry])
    assert loads(data) == [entry]


def test_salt_sz_vector_exact():
    data = dumps([PolEntry.sz("Software\\MyKey", "MyValue", "String")])
    assert data.endswith(struct.pack("<I", 1) + b";\x00" + struct.pack("<I", 0x0E) + b";\x00"
                         + "String\0".encode("utf-16-le") + b"]\x00")


def test_key_only_bytes():
    data = dumps([PolEntry.key_only("Software\\Policies\\Microsoft\\SystemCertificates\\CRLs")])
    assert data == HEADER + ("[" + "Software\\Policies\\Microsoft\\SystemCertificates\\CRLs"
                             + "\0;\0;").encode("utf-16-le") + bytes(4) + b";\x00" + bytes(4) \
        + b";\x00]\x00"
    (e,) = loads(data)
    assert (e.type, e.name, e.value) == (RegType.NONE, "", b"")


def test_matches_shared_hand_built_sample():
    """The oracle folder's byte-by-byte writer, when present, produces exactly our bytes."""
    script = SHARED / "oracles" / "make_sample_pol.py"
    if not script.is_file():
        pytest.skip("shared/oracles not available")
    ns: dict = {"__name__": "make_sample_pol"}
    exec(compile(script.read_text(), str(script), "exec"), ns)
    expected = ns["build"]()
    ours = dumps([
        PolEntry.dword(K, "Enabled", 1),
        PolEntry.sz(K, "ServerUrl", "https://example.invalid/a"),
        PolEntry.multi_sz(K, "Tags", ["alpha", "beta"]),
    ])
    assert ours == expected
    assert dumps(loads(expected)) == expected


def test_header_only_file_reads_as_empty_and_is_not_written_by_default():
    assert loads(HEADER) == []
    with pytest.raises(RegistryPolError, match="at least one instruction"):
        dumps([])
    with pytest.raises(RegistryPolError):
        dumps(iter(()))
    assert dumps([], allow_empty=True) == HEADER


def test_order_is_kept_as_given():
    es = [PolEntry.dword(K, "b", 1), PolEntry.delete_all_values(K), PolEntry.dword(K, "a", 2)]
    assert loads(dumps(es)) == es
    assert dumps(es) == _ref_file(es)


# ---------------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------------

def _real_samples() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name.lower() == "registry.pol")


@pytest.mark.parametrize("path", _real_samples() or [None],
                         ids=lambda p: p.parent.name if p else "none")
def test_real_sample_round_trips_byte_identical(path):
    if path is None:
        pytest.skip("no shared reference samples next to the repository")
    data = path.read_bytes()
    entries = loads(data)
    assert entries
    assert not any(e.raw for e in entries)
    assert regpol._loads_checked(data) == entries
    assert dumps(entries) == data
    assert _ref_file(entries) == data


# ---------------------------------------------------------------------------------------------
# Reader errors carry offsets
# ---------------------------------------------------------------------------------------------

GOOD = dumps([PolEntry.dword("A", "B", 1)])          # 40 bytes, entry starts at 8
# offsets inside GOOD: '[' 8, key 10, ';' 14, name 16, ';' 20, type 22, ';' 26, size 28,
# ';' 32, data 34, ']' 38


def _patch(data: bytes, off: int, new: bytes) -> bytes:
    return data[:off] + new + data[off + len(new):]


@pytest.mark.parametrize("data, offset, fragment", [
    (b"PRe", 0, "shorter than the 8-byte"),
    (b"PREG\x01\x00\x00\x00", 0, "signature"),
    (b"PReg\x02\x00\x00\x00", 4, "version is 2"),
    (_patch(GOOD, 8, b"(\x00"), 8, "expected '['"),
    (_patch(GOOD, 14, b":\x00"), 14, "after the key"),
    (_patch(GOOD, 20, b":\x00"), 20, "after the value name"),
    (_patch(GOOD, 26, b":\x00"), 26, "after the type"),
    (_patch(GOOD, 32, b":\x00"), 32, "after the size"),
    (_patch(GOOD, 38, b")\x00"), 38, "expected ']'"),
    (_patch(GOOD, 28, struct.pack("<I", 3)), 28, "REG_DWORD size is 3"),
    (_patch(GOOD, 28, struct.pack("<I", 50)), 28, "runs past the end"),
    (_patch(GOOD, 28, struct.pack("<I", 0x10000)), 28, "over the limit"),
    (GOOD + b"\x00", 40, "stray byte"),
    (GOOD + b"[\x00", 42, "key has no UTF-16 NUL terminator"),
    (GOOD + b"xy", 40, "expected '['"),
    (GOOD[:-1], 38, "expected ']'"),
    (GOOD[:30], 22, "file ends inside the type/size"),
    (HEADER + b"[\x00A\x00", 10, "key has no UTF-16 NUL terminator"),
    # a NUL inside the key or name ends it; what follows must then be ';'
    (HEADER + "[A\0B\0;V\0;".encode("utf-16-le") + GOOD[22:], 14, "after the key"),
    (HEADER + "[A\0;B\0C\0;".encode("utf-16-le") + GOOD[22:], 20, "after the value name"),
    (HEADER + b"[\x00\x00\xd8\x00\x00;\x00", 10, "key is not valid UTF-16LE"),
    (HEADER + "[A\0;".encode("utf-16-le") + b"\x00\xdc\x00\x00;\x00", 16,
     "value name is not valid UTF-16LE"),
])
def test_reader_errors_name_the_offset(data, offset, fragment):
    with pytest.raises(RegistryPolError) as info:
        loads(data)
    assert info.value.offset == offset
    assert fragment in str(info.value)
    assert f"byte offset {offset}" in str(info.value)


def test_qword_size_must_be_8():
    data = HEADER + _ref_entry("A", "Q", 11, b"\x01\x02\x03\x04")
    with pytest.raises(RegistryPolError, match="REG_QWORD size is 4") as info:
        loads(data)
    assert info.value.offset == 8 + 2 + 4 + 2 + 4 + 2 + 4 + 2


def test_error_class_is_an_mdegen_and_value_error():
    with pytest.raises(MdegenError):
        loads(b"nope")
    with pytest.raises(ValueError):
        loads(b"nope")


def test_loads_accepts_bytes_like_and_file_objects():
    data = dumps([PolEntry.dword("A", "B", 1), PolEntry.sz("A", "C", "x")])
    assert loads(bytearray(data)) == loads(memoryview(data)) == loads(data)
    assert load(io.BytesIO(data)) == loads(data)
    buf = io.BytesIO()
    dump(loads(data), buf)
    assert buf.getvalue() == data


@pytest.mark.parametrize("was_enabled", [True, False])
@pytest.mark.parametrize("data", [GOOD, GOOD + b"!"])
def test_loads_restores_the_garbage_collector_state(was_enabled, data):
    (gc.enable if was_enabled else gc.disable)()
    try:
        try:
            loads(data)
        except RegistryPolError:
            pass
        assert gc.isenabled() is was_enabled
    finally:
        gc.enable()


# ---------------------------------------------------------------------------------------------
# Non-canonical string data is kept exactly (raw=True)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typ, data", [
    (1, "abc".encode("utf-16-le")),                     # no terminator
    (1, "abc\0\0".encode("utf-16-le")),                 # an extra NUL
    (2, b"a\x00b"),                                     # odd size
    (1, b""),                                           # size 0
    (1, b"\x00\xd8\x00\x00"),                           # unpaired surrogate
    (1, "a\0b\0".encode("utf-16-le")),                  # NUL inside
    (7, "a\0b\0".encode("utf-16-le")),                  # one terminator only
    (7, b"\x00\x00\x00\x00"),                           # 4-byte empty list
    (7, "a\0\0b\0\0".encode("utf-16-le")),              # empty item inside
    (7, b""),                                           # size 0
])
def test_non_canonical_strings_round_trip_raw(typ, data):
    pol = HEADER + _ref_entry("A\\B", "V", typ, data) + _ref_entry("A\\B", "W", 4, bytes(4))
    entries = loads(pol)
    assert entries[0] == PolEntry("A\\B", "V", typ, data, raw=True)
    assert entries[1] == PolEntry.dword("A\\B", "W", 0)
    assert dumps(entries) == pol


def test_raw_is_only_for_string_types_and_needs_bytes():
    with pytest.raises(RegistryPolError, match="raw=True is only for"):
        dumps([PolEntry(K, "V", RegType.DWORD, b"\x01\x00\x00\x00", raw=True)])
    with pytest.raises(RegistryPolError, match="raw value must be bytes"):
        dumps([PolEntry(K, "V", RegType.SZ, "text", raw=True)])


# ---------------------------------------------------------------------------------------------
# Writer refusals: each names the entry's key and value
# ---------------------------------------------------------------------------------------------

def _refused(entry, fragment, *more):
    with pytest.raises(RegistryPolError) as info:
        dumps([PolEntry.dword(K, "First", 1), *more, entry])
    msg = str(info.value)
    assert fragment in msg
    assert repr(entry.key) in msg and repr(entry.name) in msg
    assert info.value.offset is None
    return info.value


@pytest.mark.parametrize("key", [
    "HKLM\\Software\\Policies", "hklm\\Software", "HKEY_LOCAL_MACHINE\\Software",
    "HKCU\\Software", "HKEY_CURRENT_USER\\Software", "HKU\\S-1-5-18\\Software",
    "HKLM:\\Software", "Hkcr\\x", "HKLM",
])
def test_refuses_hive_prefix(key):
    _refused(PolEntry.dword(key, "V", 1), "hive")


def test_refuses_empty_key():
    _refused(PolEntry.dword("", "V", 1), "key is empty")


@pytest.mark.parametrize("key", ["\\Software\\X", "Software\\X\\", "Software\\\\X"])
def test_refuses_empty_key_segments(key):
    _refused(PolEntry.dword(key, "V", 1), "empty segment")


@pytest.mark.parametrize("key", ["Software\\A\tB", "Software\\A\nB", "Software\\\x7f",
                                 "Software\\A\u200bB", "Software\\\ud800"])
def test_refuses_non_printable_key(key):
    _refused(PolEntry.dword(key, "V", 1), "non-printable")


def test_refuses_nul_in_key():
    _refused(PolEntry.dword("Software\\A\0B", "V", 1), "non-printable")


def test_refuses_overlong_key_segment():
    _refused(PolEntry.dword("Software\\" + "k" * 256, "V", 1), "over 255")
    dumps([PolEntry.dword("Software\\" + "k" * 255, "V", 1)])


def test_refuses_value_name_over_259_chars():
    _refused(PolEntry.dword(K, "n" * 260, 1), "over the limit of 259")
    assert loads(dumps([PolEntry.dword(K, "n" * 259, 1)]))[0].name == "n" * 259


def test_refuses_nul_in_value_name():
    _refused(PolEntry.dword(K, "a\0b", 1), "NUL")


def test_refuses_unpaired_surrogate_in_value_name():
    _refused(PolEntry.dword(K, "a\udc00", 1), "cannot be encoded")


@pytest.mark.parametrize("entry", [PolEntry.sz(K, "V", "a\0b"), PolEntry.expand_sz(K, "V", "\0")])
def test_refuses_nul_in_string(entry):
    _refused(entry, "NUL")


def test_refuses_unpaired_surrogate_in_string():
    _refused(PolEntry.sz(K, "V", "x\ud800"), "cannot be encoded")


def test_refuses_nul_or_empty_item_in_multi_sz():
    _refused(PolEntry.multi_sz(K, "V", ["a\0b"]), "NUL")
    _refused(PolEntry.multi_sz(K, "V", ["a", ""]), "empty")


@pytest.mark.parametrize("entry", [
    PolEntry.binary(K, "V", bytes(65536)),
    PolEntry.sz(K, "V", "x" * 32767),                     # 65,536 bytes with the NUL
    PolEntry.multi_sz(K, "V", ["x" * 40000]),
])
def test_refuses_data_over_65535_bytes(entry):
    _refused(entry, "over the limit of 65535")


def test_accepts_data_of_exactly_65535_bytes():
    data = dumps([PolEntry.binary(K, "V", bytes(65535)), PolEntry.sz(K, "S", "x" * 32766)])
    assert [len(e.data) for e in loads(data)] == [65535, 65534]


@pytest.mark.parametrize("entry", [
    PolEntry.dword(K, "V", -1), PolEntry.dword(K, "V", 2**32),
    PolEntry.dword_big_endian(K, "V", 2**32), PolEntry.qword(K, "V", 2**64),
    PolEntry.qword(K, "V", -5),
])
def test_refuses_integers_out_of_range(entry):
    _refused(entry, "out of range")


@pytest.mark.parametrize("entry, fragment", [
    (PolEntry(K, "V", RegType.DWORD, "1"), "needs an int"),
    (PolEntry(K, "V", RegType.DWORD, True), "needs an int"),
    (PolEntry(K, "V", RegType.DWORD, 1.0), "needs an int"),
    (PolEntry(K, "V", RegType.QWORD, b"\x00" * 8), "needs an int"),
    (PolEntry(K, "V", RegType.SZ, 1), "needs a str"),
    (PolEntry(K, "V", RegType.SZ, b"x\x00"), "needs a str"),
    (PolEntry(K, "V", RegType.MULTI_SZ, "ab"), "tuple or list"),
    (PolEntry(K, "V", RegType.MULTI_SZ, ("a", 1)), "is not a str"),
    (PolEntry(K, "V", RegType.BINARY, "x"), "needs bytes"),
    (PolEntry(K, "V", RegType.NONE, None), "needs bytes"),
])
def test_refuses_python_type_mismatch(entry, fragment):
    _refused(entry, fragment)


@pytest.mark.parametrize("typ", [-1, 2**32, "4", 4.0, True, None])
def test_refuses_bad_type_field(typ):
    _refused(PolEntry(K, "V", typ, b""), "type must be an int")


def test_refuses_key_or_name_of_wrong_python_type():
    _refused(PolEntry(K, 5, RegType.DWORD, 1), "value name must be a str")
    with pytest.raises(RegistryPolError, match="key must be a str"):
        dumps([PolEntry(b"Software", "V", RegType.DWORD, 1)])


def test_refuses_non_entries():
    with pytest.raises(RegistryPolError, match="entry 1 is a tuple"):
        dumps([PolEntry.dword(K, "V", 1), (K, "V", 4, 1)])


@pytest.mark.parametrize("entry, fragment", [
    (PolEntry(K, "**del.X", RegType.DWORD, 0), "must be REG_SZ"),
    (PolEntry(K, "**DelVals.", RegType.DWORD, 0), "must be REG_SZ"),   # what Samba writes
    (PolEntry(K, "**DeleteKeys", RegType.BINARY, b"x"), "must be REG_SZ"),
    (PolEntry(K, "**SecureKey", RegType.SZ, "1"), "must be REG_DWORD"),
    (PolEntry(K, "**del.", RegType.SZ, " "), "names no value"),
    (PolEntry(K, "**SOFT.", RegType.DWORD, 1), "names no value"),
])
def test_refuses_misused_special_names(entry, fragment):
    _refused(entry, fragment)


def test_refusal_names_the_entry_index():
    err = _refused(PolEntry.dword("HKLM\\X", "V", 1), "hive")
    assert str(err).startswith("entry 1 ")


# ---------------------------------------------------------------------------------------------
# Special names
# ---------------------------------------------------------------------------------------------

def test_delete_value_is_exactly_what_gpmc_writes():
    e = PolEntry.delete_value(K, "Old")
    assert (e.name, e.type, e.value, e.data) == ("**del.Old", RegType.SZ, " ", b"\x20\x00\x00\x00")
    assert dumps([e]) == HEADER + ("[" + K + "\0;**del.Old\0;").encode("utf-16-le") \
        + b"\x01\x00\x00\x00;\x00\x04\x00\x00\x00;\x00\x20\x00\x00\x00]\x00"
    assert e.special is Special.DELETE_VALUE and e.target == "Old"


def test_delete_all_values_is_exactly_what_gpmc_writes():
    e = regpol.delete_all_values(K)
    assert dumps([e]) == HEADER + ("[" + K + "\0;**delvals.\0;").encode("utf-16-le") \
        + b"\x01\x00\x00\x00;\x00\x04\x00\x00\x00;\x00\x20\x00\x00\x00]\x00"
    assert e.special is Special.DELETE_ALL_VALUES and e.target is None


def test_list_and_key_specials():
    dv = regpol.delete_values(K, ["EnableURL", "TabURL"])
    dk = regpol.delete_keys(K, ("NoRun", "NoFind"))
    sk = regpol.secure_key(K, True)
    assert (dv.name, dv.type, dv.value) == ("**DeleteValues", RegType.SZ, "EnableURL;TabURL")
    assert (dk.name, dk.type, dk.value) == ("**DeleteKeys", RegType.SZ, "NoRun;NoFind")
    assert (sk.name, sk.type, sk.value) == ("**SecureKey", RegType.DWORD, 1)
    assert regpol.secure_key(K, False).value == 0
    assert [e.special for e in (dv, dk, sk)] == [
        Special.DELETE_VALUES, Special.DELETE_KEYS, Special.SECURE_KEY]
    assert loads(dumps([dv, dk, sk])) == [dv, dk, sk]


def test_soft_keeps_the_type():
    e = regpol.soft(K, "Level", RegType.DWORD, 3)
    assert (e.name, e.type, e.value) == ("**soft.Level", RegType.DWORD, 3)
    assert e.special is Special.SOFT and e.target == "Level"
    assert loads(dumps([e])) == [e]


@pytest.mark.parametrize("name, special", [
    ("**DEL.x", Special.DELETE_VALUE), ("**Del.x", Special.DELETE_VALUE),
    ("**DelVals.", Special.DELETE_ALL_VALUES), ("**DELVALS.", Special.DELETE_ALL_VALUES),
    ("**deletevalues", Special.DELETE_VALUES), ("**DELETEKEYS", Special.DELETE_KEYS),
    ("**securekey", Special.SECURE_KEY), ("**Soft.x", Special.SOFT),
    ("Value", None), ("", None), ("**other", None), ("*del.x", None), ("**delvalsX", None),
])
def test_special_names_are_case_insensitive(name, special):
    assert PolEntry(K, name, RegType.SZ, " ").special is special


@pytest.mark.parametrize("call", [
    lambda: regpol.delete_values(K, []),
    lambda: regpol.delete_values(K, ["a;b"]),
    lambda: regpol.delete_keys(K, ["", "x"]),
    lambda: regpol.delete_keys(K, ["a\\b"]),
    lambda: regpol.delete_value(K, ""),
    lambda: regpol.soft(K, "", RegType.DWORD, 1),
    lambda: PolEntry.multi_sz(K, "M", "ab"),
])
def test_helpers_refuse_unusable_arguments(call):
    with pytest.raises(RegistryPolError):
        call()


def test_entries_are_hashable_and_lists_become_tuples():
    e = PolEntry(K, "M", RegType.MULTI_SZ, ["a", "b"])
    assert e.value == ("a", "b")
    assert e == PolEntry.multi_sz(K, "M", ["a", "b"])
    assert len({e, PolEntry.multi_sz(K, "M", ("a", "b")), PolEntry.dword(K, "D", 1)}) == 2
    assert PolEntry(K, "B", RegType.BINARY, bytearray(b"x")).value == b"x"


# ---------------------------------------------------------------------------------------------
# canonical_order
# ---------------------------------------------------------------------------------------------

def test_canonical_order_puts_key_wide_instructions_first():
    other = "Software\\Policies\\Alpha"
    es = [
        PolEntry.dword(K, "b", 1),
        PolEntry.sz(K, "A", "x"),
        regpol.secure_key(K),
        regpol.delete_keys(K, ["Sub"]),
        PolEntry.delete_value(K, "aa"),
        regpol.delete_values(K, ["c"]),
        PolEntry.delete_all_values(K.upper()),
        PolEntry.dword(other, "z", 1),
        PolEntry.key_only(K),
    ]
    got = canonical_order(es)
    assert [(e.key.upper(), e.name) for e in got] == [
        (other.upper(), "z"),
        (K.upper(), "**delvals."), (K.upper(), "**DeleteValues"), (K.upper(), "**DeleteKeys"),
        (K.upper(), "**SecureKey"), (K.upper(), ""), (K.upper(), "A"),
        (K.upper(), "**del.aa"), (K.upper(), "b"),
    ]
    assert got.index(es[6]) < got.index(es[0])          # **delvals. precedes what it clears


def test_canonical_order_is_deterministic():
    es = [PolEntry.dword(f"Software\\K{i % 7}", f"v{i}", i) for i in range(60)]
    es += [PolEntry.delete_all_values(f"Software\\k{i}") for i in range(7)]
    rnd = random.Random(5)
    expected = canonical_order(es)
    for _ in range(5):
        shuffled = es[:]
        rnd.shuffle(shuffled)
        assert canonical_order(shuffled) == expected
    assert all(expected.index(PolEntry.delete_all_values(f"Software\\k{i}"))
               < expected.index(PolEntry.dword(f"Software\\K{i}", f"v{i}", i)) for i in range(7))


@pytest.mark.parametrize("a, b", [
    (PolEntry.dword(K, "Value", 1), PolEntry.dword(K.lower(), "VALUE", 2)),
    (PolEntry.dword(K, "Value", 1), PolEntry.delete_value(K, "value")),
    (PolEntry.dword(K, "Value", 1), regpol.soft(K, "Value", RegType.DWORD, 1)),
    (PolEntry.delete_all_values(K), PolEntry(K, "**DelVals.", RegType.SZ, " ")),
    (regpol.secure_key(K), regpol.secure_key(K, False)),
])
def test_canonical_order_refuses_duplicates(a, b):
    with pytest.raises(RegistryPolError) as info:
        canonical_order([a, PolEntry.dword(K, "Other", 1), b])
    assert repr(a.name) in str(info.value) and repr(b.name) in str(info.value)


def test_canonical_order_refuses_non_entries():
    with pytest.raises(RegistryPolError, match="not a PolEntry"):
        canonical_order([PolEntry.dword(K, "V", 1), "x"])
    with pytest.raises(RegistryPolError, match="must be str"):
        canonical_order([PolEntry(None, "V", RegType.DWORD, 1)])


def test_canonical_order_keeps_distinct_keys_apart():
    es = [PolEntry.dword(K, "V", 1), PolEntry.dword(K + "\\Sub", "V", 1)]
    assert canonical_order(es) == es


# ---------------------------------------------------------------------------------------------
# Text and JSON views
# ---------------------------------------------------------------------------------------------

def test_format_entries_looks_like_lgpo_parse():
    es = [
        PolEntry.dword(K, "Enabled", 1),
        PolEntry.sz(K, "Url", "https://x.example/a"),
        PolEntry.expand_sz(K, "Path", "%SystemRoot%\\x"),
        PolEntry.multi_sz(K, "Tags", ["a", "b"]),
        PolEntry.binary(K, "Blob", b"\x01\xab"),
        PolEntry.qword(K, "Big", 2**40),
        PolEntry.delete_value(K, "Old"),
        PolEntry.delete_all_values(K),
        PolEntry.key_only(K),
        PolEntry.sz(K, "Multi\nLine", "a\tb"),
    ]
    text = format_entries(es, scope="User", source="registry.pol")
    lines = text.splitlines()
    assert lines[0].startswith("; ---") and lines[1] == "; PARSING USER POLICY"
    assert lines[2] == "; Source file:  registry.pol"
    body = text.split("\n\n", 1)[1]
    records = [r.split("\n") for r in body.split("\n\n") if not r.startswith(";")]
    assert records == [
        ["User", K, "Enabled", "DWORD:1"],
        ["User", K, "Url", "SZ:https://x.example/a"],
        ["User", K, "Path", "EXSZ:%SystemRoot%\\x"],
        ["User", K, "Tags", "MULTISZ:a\\0b"],
        ["User", K, "Blob", "BINARY:01ab"],
        ["User", K, "Big", f"QWORD:{2**40}"],
        ["User", K, "Old", "DELETE"],
        ["User", K, "*", "DELETEALLVALUES"],
        ["User", K, "*", "CREATEKEY"],
        ["User", K, "Multi\\nLine", "SZ:a\\tb"],
    ]
    assert all(line.startswith(";") for line in text.rstrip("\n").split("\n\n")[-1].splitlines())
    assert format_entries(es[:1]).splitlines()[1] == "; PARSING COMPUTER POLICY"
    assert "\nComputer\n" in format_entries(es[:1])


def test_format_entries_marks_raw_data():
    pol = HEADER + _ref_entry("A", "V", 1, b"a\x00")
    assert "SZ_RAW:6100" in format_entries(loads(pol))


def test_entries_to_json_is_json_safe():
    es = [PolEntry.dword(K, "D", 7), PolEntry.binary(K, "B", b"\x00\xff"),
          PolEntry.multi_sz(K, "M", ["a"]), PolEntry(K, "X", 12, b"\x01"),
          PolEntry.delete_value(K, "Old")]
    doc = entries_to_json(es)
    json.dumps(doc)
    assert doc[0] == {"key": K, "name": "D", "type": "REG_DWORD", "value": 7, "special": None,
                      "raw": False}
    assert doc[1]["value"] == "00ff"
    assert doc[2]["value"] == ["a"]
    assert doc[3]["type"] == "REG_TYPE_12"
    assert doc[4]["special"] == "DELETE_VALUE"


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

_HIVE_WORDS = {"HKLM", "HKEY_LOCAL_MACHINE", "HKCU", "HKEY_CURRENT_USER", "HKU", "HKEY_USERS",
               "HKCR", "HKEY_CLASSES_ROOT", "HKCC", "HKEY_CURRENT_CONFIG", "HKPD",
               "HKEY_PERFORMANCE_DATA"}
_segment = st.text(st.characters(blacklist_characters="\\", blacklist_categories=("Cs",)),
                   min_size=1, max_size=10).filter(str.isprintable)
keys = st.lists(_segment, min_size=1, max_size=4).map("\\".join).filter(
    lambda k: k.split("\\")[0].upper().rstrip(":") not in _HIVE_WORDS)
_text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
                max_size=20)
names = _text.filter(lambda n: not n.startswith("**"))
_u32 = st.integers(0, 2**32 - 1)


# (constructor, value strategy) per typed value, built once: building a one_of per draw made
# data generation the slowest part of these tests. The last choice is a type the codec only carries.
_TYPED = (
    (PolEntry.dword, _u32),
    (PolEntry.dword_big_endian, _u32),
    (PolEntry.qword, st.integers(0, 2**64 - 1)),
    (PolEntry.sz, _text),
    (PolEntry.expand_sz, _text),
    (PolEntry.multi_sz, st.lists(_text.filter(bool), max_size=4)),
    (PolEntry.binary, st.binary(max_size=24)),
)
_OTHER_TYPES = st.sampled_from([0, 6, 8, 9, 10, 12, 0xFFFF, 2**32 - 1])
_OTHER_DATA = st.binary(max_size=12)


def _typed(draw, key, name):
    choice = draw(st.integers(0, len(_TYPED)))
    if choice < len(_TYPED):
        make, values = _TYPED[choice]
        return make(key, name, draw(values))
    return PolEntry(key, name, draw(_OTHER_TYPES), draw(_OTHER_DATA))


@st.composite
def entries(draw, with_raw=False):
    key = draw(keys)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return PolEntry.key_only(key)
    if kind == 1:
        return PolEntry.delete_value(key, draw(names.filter(bool)))
    if kind == 2:
        return PolEntry.delete_all_values(key)
    if kind == 3 and with_raw:
        return PolEntry(key, draw(names), draw(st.sampled_from([1, 2, 7])),
                        draw(st.binary(max_size=12)), raw=True)
    return _typed(draw, key, draw(names))


entry_lists = st.lists(entries(), min_size=1, max_size=12)
PROPS = settings(suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(entry_lists)
def test_dumps_loads_dumps_identity(es):
    data = dumps(es)
    assert data == _ref_file(es)
    back = loads(data)
    assert back == es
    assert regpol._loads_checked(data) == back
    assert dumps(back) == data


@PROPS
@given(st.lists(entries(with_raw=True), min_size=1, max_size=8))
def test_bytes_round_trip_with_raw_entries(es):
    data = dumps(es)
    assert data == _ref_file(es)
    assert dumps(loads(data)) == data


@PROPS
@given(st.lists(entries(), min_size=1, max_size=6),
       st.sampled_from(["flip", "insert", "delete", "truncate", "append"]),
       st.integers(0, 10**6), st.binary(min_size=1, max_size=3))
def test_decoder_on_mutated_files_raises_only_its_error(es, how, where, junk):
    data = dumps(es)
    i = 8 + where % (len(data) - 8)
    if how == "flip":
        mutated = data[:i] + bytes([data[i] ^ (junk[0] or 1)]) + data[i + 1:]
    elif how == "insert":
        mutated = data[:i] + junk + data[i:]
    elif how == "delete":
        mutated = data[:i] + data[i + len(junk):]
    elif how == "truncate":
        mutated = data[:i]
    else:
        mutated = data + junk
    assume(mutated != data)
    _decode_or_refuse(mutated)


@PROPS
@given(st.binary(max_size=120))
def test_decoder_on_random_bytes_raises_only_its_error(blob):
    _decode_or_refuse(blob)
    _decode_or_refuse(HEADER + blob)
    _decode_or_refuse(HEADER + b"[\x00" + blob)


def _decode_or_refuse(data: bytes) -> None:
    """Only RegistryPolError may escape; whatever is accepted writes back byte-identically."""
    try:
        es = loads(data)
    except RegistryPolError as exc:
        assert exc.offset is not None and 0 <= exc.offset <= len(data)
        return
    assert regpol._loads_checked(data) == es
    try:
        again = dumps(es, allow_empty=True)
    except RegistryPolError:
        return                          # read fine, but holds something the writer refuses
    assert again == data


# ---------------------------------------------------------------------------------------------
# Samba cross-check
# ---------------------------------------------------------------------------------------------

@pytest.mark.skipif(not samba_available(), reason="Debian python3-samba not installed")
def test_samba_reads_what_we_write(tmp_path):
    es = [
        PolEntry.key_only("Software\\Policies\\Contoso\\Empty"),
        PolEntry.delete_all_values(K),
        PolEntry.dword(K, "Dword", 0xFFFFFFFF),
        PolEntry.dword_big_endian(K, "BigEndian", 0x01020304),
        PolEntry.qword(K, "Qword", 2**63 + 5),
        PolEntry.sz(K, "Sz", "héllo €"),
        PolEntry.sz(K, "EmptySz", ""),
        PolEntry.expand_sz(K, "Expand", "%ProgramFiles%\\Contoso"),
        PolEntry.multi_sz(K, "Multi", ["alpha", "beta"]),
        PolEntry.multi_sz(K, "EmptyMulti", []),
        PolEntry.binary(K, "Binary", bytes(range(7))),
        PolEntry(K, "Link", RegType.LINK, "x".encode("utf-16-le")),
        PolEntry(K, "Unknown", 12, b"\x01\x02\x03"),
        PolEntry.delete_value(K, "Old"),
        regpol.delete_values(K, ["a", "b"]),
        regpol.delete_keys(K, ["Sub"]),
        regpol.secure_key(K),
        regpol.soft(K, "Soft", RegType.SZ, "v"),
    ]
    path = tmp_path / "registry.pol"
    path.write_bytes(dumps(es))
    doc = samba_read(path)
    assert (doc["signature"], doc["version"], doc["repacked_identical"]) == ("PReg", 1, True)
    assert len(doc["entries"]) == len(es)
    for ours, (key, name, typ, size, value) in zip(es, doc["entries"]):
        assert (key, name, typ, size) == (ours.key, ours.name, ours.type, len(ours.data))
        if ours.type in (1, 2, 4, 5, 11):
            assert value == ours.value
        elif ours.type == 7:
            assert value == (list(ours.value) or [""])    # Samba's view of the empty list
        else:
            assert base64.b64decode(value) == ours.value
