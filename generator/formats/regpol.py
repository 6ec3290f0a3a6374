"""Read and write Group Policy ``registry.pol`` files (the PReg format of MS-GPREG §2.2.1).

The API mirrors :mod:`plistlib`: :func:`loads`/:func:`load` turn bytes into a list of
:class:`PolEntry`, :func:`dumps`/:func:`dump` turn such a list back into bytes, and every problem
is a :class:`RegistryPolError`.

On disk (all integers little-endian, every delimiter one UTF-16LE code unit)::

    b"PReg" uint32(1)                                   8-byte header, no entry count
    "[" key\\0 ";" name\\0 ";" uint32 type ";" uint32 size ";" data[size] "]"   ... repeated

Values are typed in Python by their registry type:

================================  ===========================================================
type                              ``PolEntry.value``
================================  ===========================================================
REG_SZ, REG_EXPAND_SZ             ``str`` (on disk: UTF-16LE + one NUL, size counts the NUL)
REG_MULTI_SZ                      ``tuple[str, ...]`` (each item + NUL, then one more NUL;
                                  the empty tuple is a single NUL, 2 bytes)
REG_DWORD, REG_DWORD_BIG_ENDIAN   ``int`` 0..2**32-1 (size must be 4)
REG_QWORD                         ``int`` 0..2**64-1 (size must be 8)
REG_BINARY, REG_NONE, any other   ``bytes``, verbatim
================================  ===========================================================

Non-canonical strings.  A string-typed value (SZ, EXPAND_SZ, MULTI_SZ) whose data is not exactly
what this module would write for some value - no NUL terminator, extra NULs, odd length, an
unpaired surrogate, an empty MULTI_SZ item, or the 4-byte empty MULTI_SZ some tools write - is
read as ``PolEntry(..., value=<the data bytes>, raw=True)`` and written back verbatim, so every
file :func:`loads` accepts comes back byte-identical from :func:`dumps` (provided its keys and
names pass the writer's checks).  ``raw=True`` is refused for every other type, and an entry
without it must hold the Python type of the table above.  The real GPMC sample holds no such
value; the flag exists so a foreign file can be inspected and rewritten without loss.

The reader is strict about structure (header, every ``[ ; ]`` delimiter, NUL-terminated UTF-16
key and name, size within the data and at most 65,535, fixed sizes for DWORD/QWORD, nothing
trailing) and lenient about meaning (hive prefixes, odd key shapes and special-name misuse are
only refused by the writer).  A header-only file is read as ``[]``; :func:`dumps` refuses an
empty list unless ``allow_empty=True`` (MS-GPREG's grammar needs at least one instruction, so
callers should omit the file instead).

The writer refuses, naming the entry's index, key and value name: a hive prefix in the key
(``HKLM\\``, ``HKEY_LOCAL_MACHINE\\``, ``HKCU:\\`` ..., any case), an empty key, an empty key
segment (leading, trailing or doubled backslash), a non-printable character in the key, a key
segment over 255 characters, a value name over 259 characters, a NUL in a name or string, an
unpaired surrogate, data over 65,535 bytes, an integer out of range for its type, a Python value
of the wrong type for its RegType, an empty REG_MULTI_SZ item (Windows would end the list there),
and a special name used against MS-GPREG (``**del.``/``**delvals.``/``**DeleteValues``/
``**DeleteKeys`` not REG_SZ, ``**SecureKey`` not REG_DWORD, ``**del.``/``**soft.`` naming no value).

The empty REG_MULTI_SZ is written as a single NUL (2 bytes), as Microsoft documents the type ("a
sequence of null-terminated strings, terminated by an empty string"); the 4-byte form other tools
write is read as raw data and so still round-trips.

Order is significant: Windows applies the instructions in file order, so :func:`dumps` writes
them exactly as given.  :func:`canonical_order` is the one deterministic order mdegen uses.

Speed: :func:`loads` first tries a reader specialised for well-formed canonical files and, on
anything unusual, re-reads with the step-by-step reader that is the reference (it also produces
the error offsets); the tests check that the two agree.  While reading, the cyclic garbage
collector is paused (the reader makes no cycles; collections triggered by its allocations cost
about a tenth of the time) and restored to its previous state afterwards.
"""

from __future__ import annotations

import codecs
import enum
import gc
import struct
from dataclasses import dataclass
from typing import IO, Any, Iterable

from generator.errors import MdegenError

__all__ = [
    "RegType", "Special", "RegistryPolError", "PolEntry",
    "loads", "load", "dumps", "dump", "canonical_order", "format_entries", "entries_to_json",
    "delete_value", "delete_all_values", "delete_values", "delete_keys", "soft", "secure_key",
    "HEADER", "MAX_DATA_SIZE", "MAX_VALUE_NAME_LENGTH", "MAX_KEY_SEGMENT_LENGTH",
]

HEADER = b"PReg\x01\x00\x00\x00"
MAX_DATA_SIZE = 0xFFFF
MAX_VALUE_NAME_LENGTH = 259
MAX_KEY_SEGMENT_LENGTH = 255   # a registry key name's limit (one path segment)


class RegType(enum.IntEnum):
    """Registry value types (winnt.h ``REG_*``)."""

    NONE = 0
    SZ = 1
    EXPAND_SZ = 2
    BINARY = 3
    DWORD = 4
    DWORD_BIG_ENDIAN = 5
    LINK = 6
    MULTI_SZ = 7
    RESOURCE_LIST = 8
    FULL_RESOURCE_DESCRIPTOR = 9
    RESOURCE_REQUIREMENTS_LIST = 10
    QWORD = 11


class Special(enum.Enum):
    """The special value names of MS-GPREG §3.2.5.1.2; the value is the spelling mdegen writes.

    Names are matched case-insensitively.  ``DELETE_VALUE`` and ``SOFT`` are prefixes followed
    by the target value name; the others are whole names.
    """

    DELETE_VALUE = "**del."             # delete one value
    DELETE_ALL_VALUES = "**delvals."    # delete every value of the key (subkeys stay)
    DELETE_VALUES = "**DeleteValues"    # delete the ';'-separated values in the data
    DELETE_KEYS = "**DeleteKeys"        # delete the ';'-separated immediate subkeys in the data
    SECURE_KEY = "**SecureKey"          # REG_DWORD 1: admins/SYSTEM full control, users read
    SOFT = "**soft."                    # create the value only if it does not exist

    @property
    def key_wide(self) -> bool:
        """True for the instructions that act on the whole key rather than on one value."""
        return self not in (Special.DELETE_VALUE, Special.SOFT)


class RegistryPolError(MdegenError, ValueError):
    """A registry.pol file cannot be read, or entries cannot be written, as asked.

    ``offset`` is the byte offset in the input where the reader found the problem (``None`` for
    writer and ordering errors); ``reason`` is the message without the offset.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.reason = message
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at byte offset {offset})")


_BYTES_TYPES = (bytes, bytearray, memoryview)


@dataclass(frozen=True, slots=True)
class PolEntry:
    """One registry.pol instruction: set (or, with a special name, delete...) a value of a key.

    ``key`` is hive-relative (``Software\\Policies\\...``); the hive is implied by the folder
    (``Machine`` or ``User``) the file sits in.  See the module docstring for ``value``/``raw``.
    """

    key: str
    name: str
    type: int
    value: Any
    raw: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.value, list):       # keep entries hashable
            object.__setattr__(self, "value", tuple(self.value))
        elif isinstance(self.value, (bytearray, memoryview)):
            object.__setattr__(self, "value", bytes(self.value))

    # -- plain values, exactly as GPMC writes them ------------------------------------------
    @classmethod
    def dword(cls, key: str, name: str, n: int) -> PolEntry:
        return cls(key, name, RegType.DWORD, n)

    @classmethod
    def dword_big_endian(cls, key: str, name: str, n: int) -> PolEntry:
        return cls(key, name, RegType.DWORD_BIG_ENDIAN, n)

    @classmethod
    def qword(cls, key: str, name: str, n: int) -> PolEntry:
        return cls(key, name, RegType.QWORD, n)

    @classmethod
    def sz(cls, key: str, name: str, text: str) -> PolEntry:
        return cls(key, name, RegType.SZ, text)

    @classmethod
    def expand_sz(cls, key: str, name: str, text: str) -> PolEntry:
        return cls(key, name, RegType.EXPAND_SZ, text)

    @classmethod
    def multi_sz(cls, key: str, name: str, items: Iterable[str]) -> PolEntry:
        if isinstance(items, str):
            raise RegistryPolError(f"key {key!r}, value {name!r}: REG_MULTI_SZ needs a list of "
                                   "strings, not one string")
        return cls(key, name, RegType.MULTI_SZ, tuple(items))

    @classmethod
    def binary(cls, key: str, name: str, data: bytes) -> PolEntry:
        return cls(key, name, RegType.BINARY, bytes(data))

    @classmethod
    def key_only(cls, key: str) -> PolEntry:
        """Create the key without values: REG_NONE, empty name, no data (as GPMC writes it)."""
        return cls(key, "", RegType.NONE, b"")

    # -- special instructions -------------------------------------------------------------
    @classmethod
    def delete_value(cls, key: str, name: str) -> PolEntry:
        """``**del.<name>``: REG_SZ " " (data ``20 00 00 00``), lowercase as GPMC writes it."""
        if not name:
            raise RegistryPolError(f"key {key!r}: **del. needs the name of the value to delete")
        return cls(key, "**del." + name, RegType.SZ, " ")

    @classmethod
    def delete_all_values(cls, key: str) -> PolEntry:
        """``**delvals.``: delete every value of ``key`` (put it before the key's values)."""
        return cls(key, "**delvals.", RegType.SZ, " ")

    @classmethod
    def delete_values(cls, key: str, names: Iterable[str]) -> PolEntry:
        """``**DeleteValues``: REG_SZ ``"a;b"``."""
        return cls(key, "**DeleteValues", RegType.SZ, _semicolon_list(key, "**DeleteValues", names))

    @classmethod
    def delete_keys(cls, key: str, names: Iterable[str]) -> PolEntry:
        """``**DeleteKeys``: REG_SZ ``"sub1;sub2"`` naming immediate subkeys of ``key``."""
        joined = _semicolon_list(key, "**DeleteKeys", names)
        if "\\" in joined:
            raise RegistryPolError(
                f"key {key!r}, value '**DeleteKeys': names immediate subkeys; no backslash allowed")
        return cls(key, "**DeleteKeys", RegType.SZ, joined)

    @classmethod
    def soft(cls, key: str, name: str, type: int, value: Any) -> PolEntry:
        """``**soft.<name>``: set the value only where it does not exist yet."""
        if not name:
            raise RegistryPolError(f"key {key!r}: **soft. needs the name of the value to create")
        return cls(key, "**soft." + name, type, value)

    @classmethod
    def secure_key(cls, key: str, on: bool = True) -> PolEntry:
        """``**SecureKey`` REG_DWORD 1 (on) or 0 (off)."""
        return cls(key, "**SecureKey", RegType.DWORD, 1 if on else 0)

    # -- questions --------------------------------------------------------------------------
    @property
    def special(self) -> Special | None:
        """Which special instruction this entry is (names compared case-insensitively), or None."""
        return _special_of(self.name)

    @property
    def target(self) -> str | None:
        """The value name the entry acts on (``X`` for ``X``, ``**del.X``, ``**soft.X``), or None
        for the key-wide instructions."""
        sp = _special_of(self.name)
        if sp is None:
            return self.name
        if sp is Special.DELETE_VALUE:
            return self.name[6:]
        if sp is Special.SOFT:
            return self.name[7:]
        return None

    @property
    def type_name(self) -> str:
        return _type_name(self.type)

    @property
    def data(self) -> bytes:
        """The data field as it goes on disk (raises RegistryPolError for an unwritable value)."""
        try:
            return _encode_value(self.type, self.value, self.raw)
        except _Bad as exc:
            raise RegistryPolError(f"key {self.key!r}, value {self.name!r}: {exc}") from None


def _semicolon_list(key: str, what: str, names: Iterable[str]) -> str:
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise RegistryPolError(f"key {key!r}, value {what!r}: the name list is empty")
    for n in names:
        if not isinstance(n, str) or not n or ";" in n:
            raise RegistryPolError(
                f"key {key!r}, value {what!r}: each name must be a non-empty string without ';', "
                f"got {n!r}")
    return ";".join(names)


# Module-level spellings of the special-name helpers.
delete_value = PolEntry.delete_value
delete_all_values = PolEntry.delete_all_values
delete_values = PolEntry.delete_values
delete_keys = PolEntry.delete_keys
soft = PolEntry.soft
secure_key = PolEntry.secure_key


def _special_of(name: str) -> Special | None:
    if name[:2] != "**":
        return None
    low = name.lower()
    if low == "**delvals.":
        return Special.DELETE_ALL_VALUES
    if low.startswith("**del."):
        return Special.DELETE_VALUE
    if low.startswith("**soft."):
        return Special.SOFT
    if low == "**deletevalues":
        return Special.DELETE_VALUES
    if low == "**deletekeys":
        return Special.DELETE_KEYS
    if low == "**securekey":
        return Special.SECURE_KEY
    return None


_TYPE_OF = {int(t): t for t in RegType}


def _type_name(t: int) -> str:
    rt = _TYPE_OF.get(t)
    return f"REG_{rt.name}" if rt is not None else f"REG_TYPE_{t}"


# ---------------------------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------------------------

_TS = struct.Struct("<IHIH")        # type ';' size ';'
_U32 = struct.Struct("<I")
_U32BE = struct.Struct(">I")
_U64 = struct.Struct("<Q")
_SEMI = 0x3B
_DECODE = codecs.utf_16_le_decode   # called directly: bytes.decode("utf-16-le") costs 4x more
_ENCODE = codecs.utf_16_le_encode   # (it goes through the Python-level codec registry)
_NUL2 = b"\x00\x00"
_NEW = object.__new__
_SET_KEY = PolEntry.key.__set__          # slot descriptors: set fields without __init__,
_SET_NAME = PolEntry.name.__set__        # about twice as fast as the frozen dataclass __init__
_SET_TYPE = PolEntry.type.__set__
_SET_VALUE = PolEntry.value.__set__
_SET_RAW = PolEntry.raw.__set__


_FIXED_SIZE = {4: 4, 5: 4, 11: 8}


def _show(data: bytes, off: int) -> str:
    chunk = data[off:off + 2]
    return " ".join(f"{b:02x}" for b in chunk) if chunk else "end of data"


def loads(data: bytes) -> list[PolEntry]:
    """Parse registry.pol bytes into entries, in file order.

    Raises RegistryPolError (with ``offset``) for anything that is not a well-formed PReg file.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    n = len(data)
    if n < 8:
        raise RegistryPolError(f"file is {n} bytes, shorter than the 8-byte PReg header", 0)
    if data[:4] != b"PReg":
        raise RegistryPolError(f"signature is {data[:4]!r}, expected b'PReg'", 0)
    version = _U32.unpack_from(data, 4)[0]
    if version != 1:
        raise RegistryPolError(f"version is {version}, expected 1", 4)
    if n == 8:
        return []
    # The reader creates no reference cycles, so a collection triggered by its many new
    # objects only costs time (about an eighth of it); pause the collector meanwhile.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _loads_fast(data)
    except (_Anomaly, UnicodeDecodeError, struct.error):
        # Something unusual (an error, a non-canonical string, an odd alignment...): the
        # step-by-step reader decides, with an exact error offset.
        return _loads_checked(data)
    finally:
        if gc_was_enabled:
            gc.enable()


class _Anomaly(Exception):
    """Internal: the fast reader met something it leaves to the step-by-step reader."""


_HDR_DWORD = struct.Struct("<IHIHI")     # type ';' size ';' + a following uint32
_ENTRY_JOIN = b"]\x00[\x00"
_KSEP = b"\x00\x00;\x00"


def _loads_fast(data: bytes) -> list[PolEntry]:
    """The reader for well-formed, canonical files: same result as _loads_checked (the
    reference) in about two thirds of the time.  It raises _Anomaly (or a decode/struct error)
    for anything else, including every malformed input."""
    n = len(data)
    out: list[PolEntry] = []
    append = out.append
    find = data.find
    dec = _DECODE
    unpack16 = _HDR_DWORD.unpack_from
    unpack12 = _TS.unpack_from
    type_of = _TYPE_OF.get
    new = _NEW
    set_key, set_name, set_type, set_value, set_raw = (
        _SET_KEY, _SET_NAME, _SET_TYPE, _SET_VALUE, _SET_RAW)
    ksep = _KSEP
    if data[8:10] != b"[\x00":
        raise _Anomaly
    p = 10                                  # just after an entry's '['
    while True:                             # one pass per run of entries with the same key
        e = find(ksep, p)
        if e < 0 or (e - p) & 1:
            raise _Anomaly
        key = dec(data[p:e], None, True)[0]
        if "\x00" in key:
            raise _Anomaly
        q = e + 4
        # ']' '[' key NUL ';' : seeing this after an entry's data means "next entry, same key"
        same_key = _ENTRY_JOIN + data[p:q]
        lj = len(same_key)
        while True:                         # one pass per entry; q = start of the value name
            e = find(ksep, q)
            if e < 0 or (e - q) & 1:
                raise _Anomaly
            if e == q:
                name = ""
            else:
                name = dec(data[q:e], None, True)[0]
                if "\x00" in name:
                    raise _Anomaly
            q = e + 4
            try:
                typ, s1, size, s2, u = unpack16(data, q)
            except struct.error:            # fewer than 16 bytes left: the last entry
                typ, s1, size, s2 = unpack12(data, q)
                u = None
            if s1 != 59 or s2 != 59 or size > 0xFFFF:
                raise _Anomaly
            d0 = q + 12
            d1 = d0 + size
            if typ == 4:
                if size != 4:
                    raise _Anomaly
                value = u
            elif typ == 1 or typ == 2:
                if size < 2 or data[d1 - 2:d1] != b"\x00\x00":
                    raise _Anomaly
                value = dec(data[d0:d1 - 2], None, True)[0]
                if "\x00" in value:
                    raise _Anomaly
            elif typ == 11:
                if size != 8:
                    raise _Anomaly
                value = _U64.unpack_from(data, d0)[0]
            elif typ == 7:
                if size < 2:
                    raise _Anomaly
                text = dec(data[d0:d1], None, True)[0]
                if text == "\x00":
                    value = ()
                else:
                    if text[-2:] != "\x00\x00":
                        raise _Anomaly
                    value = tuple(text[:-2].split("\x00"))
                    if "" in value:
                        raise _Anomaly
            elif typ == 5:
                if size != 4:
                    raise _Anomaly
                value = _U32BE.unpack_from(data, d0)[0]
            else:
                value = data[d0:d1]
            ent = new(PolEntry)
            set_key(ent, key)
            set_name(ent, name)
            set_type(ent, type_of(typ, typ))
            set_value(ent, value)
            set_raw(ent, False)
            append(ent)
            if data[d1:d1 + lj] == same_key:
                q = d1 + lj
                continue
            break
        if data[d1:d1 + 4] != _ENTRY_JOIN:
            if d1 + 2 == n and data[d1:] == b"]\x00":
                return out
            raise _Anomaly
        p = d1 + 4


def _loads_checked(data: bytes) -> list[PolEntry]:
    """The step-by-step reader: checks every field in file order and reports the first problem
    with its byte offset.  Expects the 8-byte header to be checked already."""
    n = len(data)
    out: list[PolEntry] = []
    append = out.append
    find = data.find
    startswith = data.startswith
    unpack_ts = _TS.unpack_from
    type_of = _TYPE_OF.get
    dec = _DECODE
    prev_kb = b""                # the previous key's bytes + NUL + ';' (b"" = none yet)
    prev_key = ""
    pos = 8
    index = 0
    while pos < n:
        if not startswith(b"[\x00", pos):
            raise RegistryPolError(
                f"entry {index}: expected '[' (5b 00) to start an entry, found {_show(data, pos)}"
                if pos + 2 <= n else f"entry {index}: 1 stray byte after the last entry", pos)
        p = pos + 2
        # key: entries of one key are usually adjacent, so try the previous key first
        if prev_kb and startswith(prev_kb, p):
            key = prev_key
            q = p + len(prev_kb)
        else:
            e = find(_NUL2, p)
            while e != -1 and (e - p) & 1:
                e = find(_NUL2, e + 1)
            if e == -1:
                raise RegistryPolError(f"entry {index}: key has no UTF-16 NUL terminator", p)
            try:
                key = dec(data[p:e], None, True)[0]
            except UnicodeDecodeError as exc:
                raise RegistryPolError(f"entry {index}: key is not valid UTF-16LE ({exc.reason})",
                                       p + exc.start) from None
            if not startswith(b";\x00", e + 2):
                raise RegistryPolError(f"entry {index}: expected ';' (3b 00) after the key, "
                                       f"found {_show(data, e + 2)}", e + 2)
            q = e + 4
            prev_kb = data[p:q]
            prev_key = key
        # value name
        e = find(_NUL2, q)
        while e != -1 and (e - q) & 1:
            e = find(_NUL2, e + 1)
        if e == -1:
            raise RegistryPolError(f"entry {index}: value name has no UTF-16 NUL terminator", q)
        if e == q:
            name = ""
        else:
            try:
                name = dec(data[q:e], None, True)[0]
            except UnicodeDecodeError as exc:
                raise RegistryPolError(
                    f"entry {index}: value name is not valid UTF-16LE ({exc.reason})",
                    q + exc.start) from None
        if not startswith(b";\x00", e + 2):
            raise RegistryPolError(
                f"entry {index}: expected ';' (3b 00) after the value name, found "
                f"{_show(data, e + 2)}", e + 2)
        q = e + 4
        # type ; size ;
        if q + 12 > n:
            raise RegistryPolError(
                f"entry {index}: file ends inside the type/size fields ({n - q} of 12 bytes)", q)
        typ, s1, size, s2 = unpack_ts(data, q)
        if s1 != _SEMI:
            raise RegistryPolError(
                f"entry {index}: expected ';' (3b 00) after the type, found {_show(data, q + 4)}",
                q + 4)
        if s2 != _SEMI:
            raise RegistryPolError(
                f"entry {index}: expected ';' (3b 00) after the size, found {_show(data, q + 10)}",
                q + 10)
        if size > MAX_DATA_SIZE:
            raise RegistryPolError(
                f"entry {index}: data size {size} is over the limit of {MAX_DATA_SIZE}", q + 6)
        d0 = q + 12
        d1 = d0 + size
        if d1 > n:
            raise RegistryPolError(
                f"entry {index}: data size {size} runs past the end of the file "
                f"({n - d0} bytes left)", q + 6)
        fixed = _FIXED_SIZE.get(typ)
        if fixed is not None and size != fixed:
            raise RegistryPolError(
                f"entry {index}: {_type_name(typ)} size is {size}, must be {fixed}", q + 6)
        if not startswith(b"]\x00", d1):
            raise RegistryPolError(
                f"entry {index}: expected ']' (5d 00) after {size} bytes of data, found "
                f"{_show(data, d1)}", d1)
        raw = False
        # value
        if typ == 4:
            value = _U32.unpack_from(data, d0)[0]
        elif typ == 1 or typ == 2:
            value = None
            if size >= 2 and not size & 1 and startswith(_NUL2, d1 - 2):
                try:
                    value = dec(data[d0:d1 - 2], None, True)[0]
                except UnicodeDecodeError:
                    pass
                else:
                    if "\x00" in value:
                        value = None
            if value is None:
                value = data[d0:d1]
                raw = True
        elif typ == 7:
            value = None
            if size >= 2 and not size & 1:
                try:
                    text = dec(data[d0:d1], None, True)[0]
                except UnicodeDecodeError:
                    pass
                else:
                    if text == "\x00":
                        value = ()
                    elif text[-2:] == "\x00\x00":
                        items = text[:-2].split("\x00")
                        if "" not in items:
                            value = tuple(items)
            if value is None:
                value = data[d0:d1]
                raw = True
        elif typ == 11:
            value = _U64.unpack_from(data, d0)[0]
        elif typ == 5:
            value = _U32BE.unpack_from(data, d0)[0]
        else:
            value = data[d0:d1]
        ent = _NEW(PolEntry)
        _SET_KEY(ent, key)
        _SET_NAME(ent, name)
        _SET_TYPE(ent, type_of(typ, typ))
        _SET_VALUE(ent, value)
        _SET_RAW(ent, raw)
        append(ent)
        pos = d1 + 2
        index += 1
    return out


def load(fp: IO[bytes]) -> list[PolEntry]:
    """Read a registry.pol from a binary file object."""
    return loads(fp.read())


# ---------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------

class _Bad(Exception):
    """Internal: why one value cannot be written (dumps adds the entry context)."""


_HIVES = frozenset({
    "HKLM", "HKEY_LOCAL_MACHINE", "HKCU", "HKEY_CURRENT_USER", "HKU", "HKEY_USERS",
    "HKCR", "HKEY_CLASSES_ROOT", "HKCC", "HKEY_CURRENT_CONFIG", "HKPD", "HKEY_PERFORMANCE_DATA",
})
_STRING_TYPES = frozenset({1, 2, 7})
_SZ_ONLY = {Special.DELETE_VALUE, Special.DELETE_ALL_VALUES, Special.DELETE_VALUES,
            Special.DELETE_KEYS}


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"key must be a str, not {type(key).__name__}"
    if not key:
        return "key is empty"
    segments = key.split("\\")
    if segments[0].upper().rstrip(":") in _HIVES:
        return (f"key starts with the hive {segments[0]!r}; registry.pol keys are hive-relative "
                "(the Machine or User folder sets the hive)")
    if not key.isprintable():
        bad = next(c for c in key if not c.isprintable())
        return f"key contains the non-printable character {bad!r}"
    if "" in segments:
        return "key has an empty segment (leading, trailing or doubled backslash)"
    for s in segments:
        if len(s) > MAX_KEY_SEGMENT_LENGTH:
            return f"key segment {s[:20]!r}... is over {MAX_KEY_SEGMENT_LENGTH} characters"
    return None


def _name_problem(name: object, typ: int) -> str | None:
    if not isinstance(name, str):
        return f"value name must be a str, not {type(name).__name__}"
    if len(name) > MAX_VALUE_NAME_LENGTH:
        return f"value name is {len(name)} characters, over the limit of {MAX_VALUE_NAME_LENGTH}"
    if "\x00" in name:
        return "value name contains a NUL character"
    sp = _special_of(name)
    if sp is not None:
        if sp in _SZ_ONLY and typ != 1:
            return f"special name {sp.value} must be REG_SZ, not {_type_name(typ)}"
        if sp is Special.SECURE_KEY and typ != 4:
            return f"special name **SecureKey must be REG_DWORD, not {_type_name(typ)}"
        if sp is Special.DELETE_VALUE and len(name) == 6:
            return "**del. names no value"
        if sp is Special.SOFT and len(name) == 7:
            return "**soft. names no value"
    return None


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _encode_value(typ: int, value: Any, raw: bool) -> bytes:
    if raw:
        if typ not in _STRING_TYPES:
            raise _Bad("raw=True is only for REG_SZ/REG_EXPAND_SZ/REG_MULTI_SZ, "
                       f"not {_type_name(typ)}")
        if not isinstance(value, _BYTES_TYPES):
            raise _Bad(f"a raw value must be bytes, not {type(value).__name__}")
        data = bytes(value)
    elif typ == 4 or typ == 5:
        if not _is_int(value):
            raise _Bad(f"{_type_name(typ)} needs an int, not {type(value).__name__}")
        if not 0 <= value <= 0xFFFFFFFF:
            raise _Bad(f"{value} is out of range for {_type_name(typ)} (0..4294967295)")
        return (_U32 if typ == 4 else _U32BE).pack(value)
    elif typ == 1 or typ == 2:
        if not isinstance(value, str):
            raise _Bad(f"{_type_name(typ)} needs a str, not {type(value).__name__}")
        if "\x00" in value:
            raise _Bad(f"{_type_name(typ)} string contains a NUL character")
        try:
            data = _ENCODE(value + "\x00")[0]
        except UnicodeEncodeError as exc:
            raise _Bad(f"string cannot be encoded as UTF-16 ({exc.reason})") from None
    elif typ == 7:
        if not isinstance(value, (tuple, list)):
            raise _Bad(f"REG_MULTI_SZ needs a tuple or list of str, not {type(value).__name__}")
        for item in value:
            if not isinstance(item, str):
                raise _Bad(f"REG_MULTI_SZ item {item!r} is not a str")
            if not item:
                raise _Bad("REG_MULTI_SZ item is empty (Windows would end the list there)")
            if "\x00" in item:
                raise _Bad(f"REG_MULTI_SZ item {item!r} contains a NUL character")
        text = "\x00".join(value) + "\x00\x00" if value else "\x00"
        try:
            data = _ENCODE(text)[0]
        except UnicodeEncodeError as exc:
            raise _Bad(f"REG_MULTI_SZ cannot be encoded as UTF-16 ({exc.reason})") from None
    elif typ == 11:
        if not _is_int(value):
            raise _Bad(f"REG_QWORD needs an int, not {type(value).__name__}")
        if not 0 <= value <= 0xFFFFFFFFFFFFFFFF:
            raise _Bad(f"{value} is out of range for REG_QWORD (0..2**64-1)")
        return _U64.pack(value)
    else:
        if not _is_int(typ):
            raise _Bad(f"type must be an int, not {type(typ).__name__}")
        if not 0 <= typ <= 0xFFFFFFFF:
            raise _Bad(f"type {typ} is out of range (0..4294967295)")
        if not isinstance(value, _BYTES_TYPES):
            raise _Bad(f"{_type_name(typ)} needs bytes, not {type(value).__name__}")
        data = bytes(value)
    if len(data) > MAX_DATA_SIZE:
        raise _Bad(f"data is {len(data)} bytes, over the limit of {MAX_DATA_SIZE}")
    return data


def dumps(entries: Iterable[PolEntry], *, allow_empty: bool = False) -> bytes:
    """Serialise entries, in the order given, to registry.pol bytes.

    Raises RegistryPolError naming the entry (index, key, value name) for anything Windows would
    choke on.  An empty entry list is refused unless ``allow_empty=True``, which writes the
    8-byte header alone (what LGPO /b writes; valid for readers, not for MS-GPREG's grammar).
    """
    parts = [HEADER]
    pack_head = _TS.pack
    pack_dword = _DWORD_ENTRY.pack
    small_dword = _SMALL_DWORD
    keys: dict[str, bytes] = {}
    kget = keys.get
    encode_value = _encode_value
    enc = _ENCODE
    max_name = MAX_VALUE_NAME_LENGTH
    i = -1
    for i, ent in enumerate(entries):
        if ent.__class__ is not PolEntry and not isinstance(ent, PolEntry):
            raise RegistryPolError(f"entry {i} is a {type(ent).__name__}, not a PolEntry")
        key = ent.key
        name = ent.name
        typ = ent.type
        value = ent.value
        tc = typ.__class__
        if tc is not RegType and (tc is not int or not 0 <= typ <= 0xFFFFFFFF):
            if not _is_int(typ) or not 0 <= typ <= 0xFFFFFFFF:
                raise _entry_error(i, key, name,
                                   f"type must be an int in 0..4294967295, not {typ!r}")
        kb = kget(key) if key.__class__ is str else None
        if kb is None:
            problem = _key_problem(key)
            if problem is not None:
                raise _entry_error(i, key, name, problem)
            kb = keys[key] = b"[\x00" + enc(key)[0] + b"\x00\x00;\x00"
        if name.__class__ is not str or len(name) > max_name or "\x00" in name or "**" in name:
            problem = _name_problem(name, typ)
            if problem is not None:
                raise _entry_error(i, key, name, problem)
        try:
            nb = enc(name)[0]
            if typ == 4 and value.__class__ is int and 0 <= value <= 0xFFFFFFFF and not ent.raw:
                parts += (kb, nb, small_dword[value] if value < 256
                          else pack_dword(0, 59, 4, 59, 4, 59, value, 93))
                continue
            if (typ == 1 or typ == 2) and value.__class__ is str and "\x00" not in value \
                    and not ent.raw:
                data = enc(value)[0]
                size = len(data) + 2
                if size <= MAX_DATA_SIZE:
                    parts += (kb, nb, _NAME_END, pack_head(typ, 59, size, 59), data, _SZ_END)
                    continue
            data = encode_value(typ, value, ent.raw)
        except UnicodeEncodeError as exc:
            what = "value name" if exc.object is name else "string"
            raise _entry_error(i, key, name, f"{what} cannot be encoded as UTF-16 ({exc.reason})")
        except _Bad as exc:
            raise _entry_error(i, key, name, str(exc))
        parts += (kb, nb, _NAME_END, pack_head(typ, 59, len(data), 59), data, b"]\x00")
    if i < 0 and not allow_empty:
        raise RegistryPolError(
            "no entries to write: a registry.pol needs at least one instruction "
            "(omit the file, or pass allow_empty=True for a header-only file)")
    return b"".join(parts)


_DWORD_ENTRY = struct.Struct("<HHIHIHIH")  # after the name: NUL ; type ; size ; value ]
_SMALL_DWORD = tuple(_DWORD_ENTRY.pack(0, 59, 4, 59, 4, 59, v, 93) for v in range(256))
_NAME_END = b"\x00\x00;\x00"
_SZ_END = b"\x00\x00]\x00"


def _entry_error(i: int, key: object, name: object, problem: str) -> RegistryPolError:
    return RegistryPolError(f"entry {i} (key {key!r}, value {name!r}): {problem}")


def dump(entries: Iterable[PolEntry], fp: IO[bytes], *, allow_empty: bool = False) -> None:
    """Write entries to a binary file object (see :func:`dumps`)."""
    fp.write(dumps(entries, allow_empty=allow_empty))


# ---------------------------------------------------------------------------------------------
# Ordering
# ---------------------------------------------------------------------------------------------

_KEY_WIDE_RANK = {
    Special.DELETE_ALL_VALUES: 0,
    Special.DELETE_VALUES: 1,
    Special.DELETE_KEYS: 2,
    Special.SECURE_KEY: 3,
}
_VALUE_RANK = 4


def canonical_order(entries: Iterable[PolEntry]) -> list[PolEntry]:
    """The deterministic order mdegen writes: a stable sort by

    1. key, case-insensitively (``str.upper``, as Windows compares registry names);
    2. within a key, the key-wide instructions first, in the order ``**delvals.``,
       ``**DeleteValues``, ``**DeleteKeys``, ``**SecureKey`` - so ``**delvals.`` always
       precedes the values it clears;
    3. then the values by name, case-insensitively, ``**del.X`` and ``**soft.X`` sorting as
       ``X`` (a key-only entry has the empty name and so comes first).

    Two entries acting on the same (key, value) - same key and name case-insensitively, or a
    value together with its ``**del.``/``**soft.`` form, or a key-wide instruction twice - are
    refused with a RegistryPolError naming them: in file order one would silently override
    the other.
    """
    decorated = []
    for i, ent in enumerate(entries):
        if not isinstance(ent, PolEntry):
            raise RegistryPolError(f"entry {i} is a {type(ent).__name__}, not a PolEntry")
        if not isinstance(ent.key, str) or not isinstance(ent.name, str):
            raise _entry_error(i, ent.key, ent.name, "key and value name must be str")
        sp = _special_of(ent.name)
        if sp is None:
            rank, target = _VALUE_RANK, ent.name
        elif sp.key_wide:
            rank, target = _KEY_WIDE_RANK[sp], ""
        else:
            rank, target = _VALUE_RANK, ent.name[6:] if sp is Special.DELETE_VALUE else ent.name[7:]
        decorated.append(((ent.key.upper(), rank, target.upper()), ent))
    decorated.sort(key=lambda pair: pair[0])
    for (k1, a), (k2, b) in zip(decorated, decorated[1:]):
        if k1 == k2:
            raise RegistryPolError(
                f"duplicate instruction for key {b.key!r}: value {a.name!r} and value {b.name!r} "
                "collide (names compare case-insensitively, **del.X and **soft.X as X); in file "
                "order the later one would silently win")
    return [ent for _, ent in decorated]


# ---------------------------------------------------------------------------------------------
# Text and JSON views
# ---------------------------------------------------------------------------------------------

_TEXT_TAG = {1: "SZ", 2: "EXSZ", 7: "MULTISZ", 4: "DWORD", 5: "DWORD_BIG_ENDIAN", 11: "QWORD",
             3: "BINARY", 0: "NONE"}
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _printable(s: str) -> str:
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else _ESCAPES.get(c) or f"\\u{ord(c):04x}" for c in s)


def _action(ent: PolEntry) -> tuple[str, str]:
    """(value-name line, action line) in LGPO text style."""
    sp = _special_of(ent.name)
    if sp is Special.DELETE_VALUE:
        return _printable(ent.name[6:]), "DELETE"
    if sp is Special.DELETE_ALL_VALUES:
        return "*", "DELETEALLVALUES"
    if ent.type == 0 and ent.name == "" and ent.value == b"":
        return "*", "CREATEKEY"
    tag = _TEXT_TAG.get(ent.type, f"REG_TYPE_{ent.type}")
    v = ent.value
    if ent.raw or isinstance(v, bytes):
        body = bytes(v).hex()
        if ent.raw:
            tag += "_RAW"
    elif ent.type == 7:
        body = "\\0".join(_printable(s) for s in v)
    elif isinstance(v, str):
        body = _printable(v)
    else:
        body = str(v)
    return _printable(ent.name), f"{tag}:{body}"


def format_entries(entries: Iterable[PolEntry], scope: str = "Computer",
                   source: str | None = None) -> str:
    """A text dump close to ``LGPO.exe /parse`` output: per entry the scope line, the key, the
    value name and the action (``DWORD:1``, ``SZ:text``, ``EXSZ:...``, ``MULTISZ:a\\0b``,
    ``QWORD:n``, ``BINARY:<hex>``, ``DELETE`` for ``**del.X`` (name line ``X``),
    ``DELETEALLVALUES`` and ``CREATEKEY`` (name line ``*``)), entries separated by a blank line,
    framed by ``;`` comment lines.  Other special names are shown verbatim with their typed
    action; raw (non-canonical) string data as ``SZ_RAW:<hex>`` etc.  Control characters are
    escaped so that every entry stays four lines.
    """
    rule = "; " + "-" * 70
    lines = [rule, f"; PARSING {scope.upper()} POLICY"]
    if source is not None:
        lines.append(f"; Source file:  {source}")
    lines.append("")
    for ent in entries:
        name_line, action = _action(ent)
        lines += [scope, _printable(ent.key), name_line, action, ""]
    lines += ["; PARSING COMPLETED.", rule, ""]
    return "\n".join(lines)


def entries_to_json(entries: Iterable[PolEntry]) -> list[dict[str, Any]]:
    """JSON-safe dicts: ``key``, ``name``, ``type`` (``"REG_DWORD"``...; ``"REG_TYPE_<n>"`` for
    unknown types), ``value`` (str, list of str, int, or lowercase hex for bytes and raw data),
    ``special`` (the :class:`Special` member name or None) and ``raw``."""
    out = []
    for ent in entries:
        v = ent.value
        if isinstance(v, bytes):
            v = v.hex()
        elif isinstance(v, tuple):
            v = list(v)
        elif isinstance(v, int):
            v = int(v)
        sp = _special_of(ent.name)
        out.append({"key": ent.key, "name": ent.name, "type": _type_name(ent.type), "value": v,
                    "special": sp.name if sp is not None else None, "raw": ent.raw})
    return out
