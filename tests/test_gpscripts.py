"""The Group Policy scripts codec (generator/formats/gpscripts.py).

(a) exact bytes of small documents (inline, and golden files in tests/test_gpscripts/);
(b) round trips; (c) the reader on the files Windows accepts; (d) every refusal, naming the line;
(e) the startup-script merge; (f) gpt.ini and its merge; (g) the written files read back by an
independent reader that follows [MS-GPSCR] §2.2.2/§3.2.5, and by configparser.
"""

from __future__ import annotations

import configparser
import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.errors import MdegenError
from generator.formats import gpscripts
from generator.formats.gpscripts import (SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE, GpScriptsError,
                                         GptIni, ScriptsIni)

ONBOARD = "Onboard-NonPersistentMachine.ps1"
REGISTRY_CSE = "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
GPEDIT_REGISTRY_TOOL = "{0F6B957D-509E-11D1-A7CC-0000F87571E3}"
SECURITY_CSE = "{827D319E-6EAC-11D2-A4EA-00C04F79F83A}"
SECURITY_TOOL = "{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}"
SCRIPTS_TOOL_USER = "{40B66650-4972-11D1-A7CA-0000F87571E3}"
SCRIPTS_GROUP = f"[{SCRIPTS_CSE}{SCRIPTS_TOOL_MACHINE}]"


def u16(text: str) -> bytes:
    """What GPMC writes for ``text``: the FF FE mark, then UTF-16LE."""
    return b"\xff\xfe" + text.encode("utf-16-le")


def crlf(*lines: str) -> str:
    return "".join(line + "\r\n" for line in lines)


def merge(existing, cmdline=ONBOARD, parameters=""):
    return gpscripts.add_startup_script(existing, cmdline, parameters)


def add_scripts(existing, *, changed=False):
    return gpscripts.add_machine_extension(existing, SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE,
                                           changed=changed)


# --- an independent reader: [MS-GPSCR] §2.2.2 grammar, §3.2.5 order -----------------------------


def gpscr_read(data: bytes) -> dict[str, list[tuple[str, str]]]:
    """Sections -> (CmdLine, Parameters) in run order, read the way [MS-GPSCR] describes: a
    UTF-16LE file with mark FF FE; CR, LF and blanks are white space between tokens; keys
    ``<integer>CmdLine`` / ``<integer>Parameters``; lower integers run first."""
    assert data[:2] == b"\xff\xfe", "MS-GPSCR: UTF-16LE with byte-order mark"
    text = data[2:].decode("utf-16-le")
    sections: dict[str, dict[str, str]] = {}
    current = None
    for token in re.split(r"[\r\n]+", text):
        token = token.strip(" \t")
        if not token:
            continue
        header = re.fullmatch(r"\[[ \t]*([A-Za-z]+)[ \t]*\]", token)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        key, sep, value = token.partition("=")
        assert sep and current is not None, f"not a Key: {token!r}"
        current[key.strip(" \t")] = value.strip(" \t")
    out = {}
    for name, keys in sections.items():
        numbers = sorted(int(k[:-7]) for k in keys if re.fullmatch(r"[0-9]+CmdLine", k))
        out[name] = [(keys[f"{n}CmdLine"], keys.get(f"{n}Parameters", "")) for n in numbers]
    return out


def configparser_read(data: bytes) -> dict[str, dict[str, str]]:
    cp = configparser.ConfigParser(strict=True, interpolation=None)
    cp.optionxform = str
    cp.read_string(data[2:].decode("utf-16-le"))
    return {name: dict(cp[name]) for name in cp.sections()}


def test_the_independent_reader_can_fail():
    # Numbers, not file order, decide; and a file without the mark is not MS-GPSCR's.
    out_of_order = u16(crlf("[Startup]", "1CmdLine=b", "1Parameters=", "0CmdLine=a", "0Parameters="))
    assert gpscr_read(out_of_order) == {"Startup": [("a", ""), ("b", "")]}
    with pytest.raises(AssertionError):
        gpscr_read(b"[Startup]\r\n0CmdLine=a\r\n")


# --- (a) exact bytes --------------------------------------------------------------------------


def test_formats_md_example_byte_for_byte():
    data = gpscripts.dumps(ScriptsIni(startup=((ONBOARD, ""),)))
    # formats.md §5: mark, empty line, [Startup], both keys, CR LF after every line.
    assert data == u16("\r\n[Startup]\r\n0CmdLine=Onboard-NonPersistentMachine.ps1\r\n0Parameters=\r\n")
    assert data[:8] == bytes.fromhex("fffe0d000a005b00")      # formats.md §5; Samba needs FF FE 0D
    assert data.endswith(b"\r\x00\n\x00")


def test_exact_bytes_written_out_by_hand():
    # Independent of Python's UTF-16 codec: every byte of a small file spelled out.
    data = gpscripts.dumps(ScriptsIni(startup=(("a.ps1", ""),)))
    assert data == bytes.fromhex(
        "fffe" "0d000a00"
        "5b0053007400610072007400750070005d00" "0d000a00"                          # [Startup]
        "300043006d0064004c0069006e0065003d00" "61002e00700073003100" "0d000a00"   # 0CmdLine=a.ps1
        "30005000610072006100" "6d00650074006500720073003d00" "0d000a00")          # 0Parameters=


def test_an_empty_document_is_the_mark_and_the_empty_line():
    assert gpscripts.dumps(ScriptsIni()) == b"\xff\xfe\r\x00\n\x00"
    assert gpscripts.loads(b"\xff\xfe\r\x00\n\x00") == ScriptsIni()


def test_parameters_are_always_written_and_entries_numbered_from_zero():
    doc = ScriptsIni(startup=(("a.cmd", ""), ("b.cmd", "/q x")), shutdown=(("c.cmd", ""),))
    assert gpscripts.dumps(doc) == u16(crlf(
        "", "[Startup]", "0CmdLine=a.cmd", "0Parameters=", "1CmdLine=b.cmd", "1Parameters=/q x",
        "[Shutdown]", "0CmdLine=c.cmd", "0Parameters="))


def test_empty_sections_are_omitted():
    assert gpscripts.dumps(ScriptsIni(shutdown=(("c.cmd", ""),))) == u16(crlf(
        "", "[Shutdown]", "0CmdLine=c.cmd", "0Parameters="))
    assert "[ScriptsConfig]" not in gpscripts.dumps(ScriptsIni(startup=(("a", ""),))).decode("utf-16")


def test_golden_psscripts_ini(file_regression):
    doc = ScriptsIni(
        startup=((ONBOARD, ""), ("C:\\Tools\\Tag Device.ps1", "-Tag \"VDI golden\"")),
        shutdown=(("\\\\fs01\\scripts\\flush.ps1", ""),),
        scripts_config=(("StartExecutePSFirst", "true"), ("EndExecutePSFirst", "false")),
        other_sections=(("Logon", (("0CmdLine", "user.ps1"), ("0Parameters", ""))),),
    )
    data = gpscripts.dumps(doc)
    assert data.decode("utf-16").split("\r\n")[:4] == ["", "[ScriptsConfig]", "StartExecutePSFirst=true",
                                                       "EndExecutePSFirst=false"]
    file_regression.check(data, binary=True, basename="psscripts", extension=".ini")


def test_golden_merged_ansi_scripts_ini(file_regression):
    foreign = (b"[Startup]\r\n0CmdLine=C:\\Scripts\\d\xe9marrage.cmd\r\n0Parameters=/q\r\n"
               b"[Shutdown]\r\n0CmdLine=stop.cmd\r\n0Parameters=\r\n")
    data, changed = merge(foreign, "WindowsDefenderATPOnboardingScript.cmd")
    assert changed
    file_regression.check(data, binary=True, basename="scripts-merged", extension=".ini")


def test_golden_gpt_ini(file_regression):
    existing = crlf("[General]", "gPCFunctionalityVersion=2",
                    f"gPCMachineExtensionNames=[{REGISTRY_CSE}{GPEDIT_REGISTRY_TOOL}]",
                    "Version=65537", f"gPCUserExtensionNames=[{REGISTRY_CSE}{{0F6B957E-509E-11D1-A7CC-0000F87571E3}}]"
                    ).encode("ascii")
    data, changed = add_scripts(existing, changed=True)
    assert changed
    file_regression.check(data, binary=True, basename="gpt-merged", extension=".ini")


# --- (b) round trips ------------------------------------------------------------------------

_BLANK = " \t"
_value = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
                 max_size=16).map(lambda s: s.strip(_BLANK))
_name = (st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="[]=\r\n\x00"),
                 min_size=1, max_size=10)
         .map(lambda s: s.strip(_BLANK)).filter(lambda s: s and not s.startswith(";")))
_pairs = st.lists(st.tuples(_name, _value), unique_by=lambda p: p[0].casefold(), max_size=4).map(tuple)
_entries = st.lists(st.tuples(_value, _value), max_size=4).map(tuple)
_others = st.lists(
    st.tuples(_name.filter(lambda s: s.casefold() not in {"startup", "shutdown", "scriptsconfig"}), _pairs),
    unique_by=lambda s: s[0].casefold(), max_size=3).map(tuple)
documents = st.builds(ScriptsIni, startup=_entries, shutdown=_entries, scripts_config=_pairs,
                      other_sections=_others)


@given(documents)
def test_round_trip(doc):
    data = gpscripts.dumps(doc)
    assert gpscripts.loads(data) == doc
    assert gpscripts.dumps(gpscripts.loads(data)) == data
    assert data.startswith(b"\xff\xfe\r\x00\n\x00") and data.endswith(b"\r\x00\n\x00")
    text = data[2:].decode("utf-16-le")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")


@given(documents)
def test_what_is_written_reads_back_the_ms_gpscr_way(doc):
    doc = dataclasses.replace(doc, other_sections=())      # the oracle knows section names of letters only
    read = gpscr_read(gpscripts.dumps(doc))
    assert read.get("Startup", []) == list(doc.startup)
    assert read.get("Shutdown", []) == list(doc.shutdown)


_ansi_char = st.sampled_from(sorted(
    {chr(b) for b in range(0x20, 0x7F)} - set("[]=;")
    | set("\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019"
          "\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178\u0081\u008d\u008f"
          "\u0090\u009d\u00a0\u00e9\u00ff")))
_gpt_value = st.text(_ansi_char, max_size=12).map(lambda s: s.strip(_BLANK))
_gpt_name = st.text(_ansi_char, min_size=1, max_size=8).map(lambda s: s.strip(_BLANK)).filter(bool)
gpt_documents = st.builds(GptIni, st.lists(
    st.tuples(_gpt_name, st.lists(st.tuples(_gpt_name, _gpt_value), unique_by=lambda p: p[0].casefold(),
                                  max_size=4).map(tuple)),
    unique_by=lambda s: s[0].casefold(), max_size=3).map(tuple))


@given(gpt_documents)
def test_gpt_round_trip(doc):
    data = gpscripts.dumps_gpt(doc)
    assert gpscripts.loads_gpt(data) == doc
    assert gpscripts.dumps_gpt(gpscripts.loads_gpt(data)) == data


@given(st.binary(max_size=40))
def test_every_ansi_byte_survives_a_gpt_rewrite(blob):
    # Bytes other than CR, LF, NUL and the INI syntax characters, as a value: byte for byte back.
    value = bytes(b for b in blob if b not in b"\r\n\x00 \t") or b"x"
    data = b"[General]\r\ndisplayName=" + value + b"\r\n"
    assert gpscripts.dumps_gpt(gpscripts.loads_gpt(data)) == data


# --- (c) the reader on what Windows accepts -----------------------------------------------------


def test_ansi_cp1252_without_mark():
    doc = gpscripts.loads(b"[Startup]\r\n0CmdLine=C:\\Scripts\\d\xe9marrage.cmd\r\n0Parameters=\x80 5\r\n")
    assert doc.startup == (("C:\\Scripts\\d\u00e9marrage.cmd", "\u20ac 5"),)


def test_utf8_with_mark():
    doc = gpscripts.loads("\ufeff[Startup]\n0CmdLine=d\u00e9marrage.ps1\n0Parameters=\n".encode("utf-8"))
    assert doc.startup == (("d\u00e9marrage.ps1", ""),)


def test_utf16_without_the_leading_empty_line_and_with_lf():
    assert gpscripts.loads(u16("[Startup]\n0CmdLine=a.ps1\n0Parameters=-x")).startup == (("a.ps1", "-x"),)


def test_gaps_out_of_order_mixed_case_spacing_and_a_cmdline_alone():
    data = crlf("", "; written by hand", "  [ startup ]  ", "5cmdline = late.cmd ", "0CMDLINE=first.cmd",
                "0PARAMETERS=/a", "", "[SHUTDOWN]", "2CmdLine=bye.cmd").encode("ascii")
    doc = gpscripts.loads(data)
    assert doc.startup == (("first.cmd", "/a"), ("late.cmd", ""))
    assert doc.shutdown == (("bye.cmd", ""),)


def test_scripts_config_and_foreign_sections_are_kept_verbatim():
    doc = gpscripts.loads(u16(crlf("", "[scriptsconfig]", "StartExecutePSFirst=true",
                                   "[Logon]", "0CmdLine=x", "Odd Key=a=b")))
    assert doc.scripts_config == (("StartExecutePSFirst", "true"),)
    assert doc.other_sections == (("Logon", (("0CmdLine", "x"), ("Odd Key", "a=b"))),)


def test_quotes_are_plain_text():
    doc = gpscripts.loads(u16(crlf("[Startup]", '0CmdLine="C:\\a b\\x.cmd"', '0Parameters="q"')))
    assert doc.startup == (('"C:\\a b\\x.cmd"', '"q"'),)
    assert gpscripts.loads(gpscripts.dumps(doc)) == doc


# --- (d) refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("data, line, words", [
    (b"0CmdLine=a\r\n[Startup]\r\n", 1, "before any [section]"),
    (b"[Startup]\r\n0CmdLine=a\r\njust text\r\n", 3, "expected 'key=value'"),
    (b"[Startup]\r\n0CmdLine=a\r\n0cmdline=b\r\n", 3, "repeats a key from line 2"),
    (b"[Startup]\r\n0CmdLine=a\r\n00CmdLine=b\r\n", 3, "repeats '0CmdLine' from line 2"),
    (b"[Logon]\r\nx=1\r\nX=2\r\n", 3, "repeats a key from line 2"),
    (b"[Startup]\r\n0x1CmdLine=a\r\n", 2, "'0x1' is not a decimal integer"),
    (b"[Startup]\r\n-1CmdLine=a\r\n", 2, "'-1' is not a decimal integer"),
    (b"[Startup]\r\nOneCmdLine=a\r\n", 2, "is not a decimal integer"),
    (b"[Startup]\r\n2147483648CmdLine=a\r\n", 2, "not below 2**31"),
    (b"[Startup]\r\n0Script=a\r\n", 2, "is not <n>CmdLine or <n>Parameters"),
    (b"[Startup]\r\n0CmdLine=a\r\n1Parameters=b\r\n", 3, "has no 1CmdLine"),
    (b"[Startup]\r\n[startup]\r\n", 2, "repeats [Startup] from line 1"),
    (b"[Startup\r\n", 1, "must end with ']'"),
    (b"[]\r\n", 1, "not a valid section header"),
    (b"[Startup]\r\n=a\r\n", 2, "a key is missing"),
    (b"[Startup]\r\n0CmdLine=a\rb\r\n", 2, "carriage return without a line feed"),
    (u16("\r\n[Startup]\r\n0CmdLine=a\r\nbad\r\n"), 4, "expected 'key=value'"),
    ("[Startup]\r\n0CmdLine=a\r\n".encode("utf-16-le"), 1, "NUL character (a UTF-16 file without"),
    (b"\xef\xbb\xbf[Startup]\r\n0CmdLine=\xff\r\n", 2, "not valid UTF-8"),
    (b"\xff\xfe[\x00S", 1, "middle of a UTF-16 character"),
    (b"\xfe\xff\x00[", 1, "UTF-16BE"),
])
def test_reader_refusals_name_the_line(data, line, words):
    with pytest.raises(GpScriptsError) as info:
        gpscripts.loads(data)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}: ")
    assert words in str(info.value)
    assert isinstance(info.value, MdegenError)


def test_reader_takes_bytes_only():
    with pytest.raises(TypeError):
        gpscripts.loads("[Startup]")


@pytest.mark.parametrize("doc, words", [
    (ScriptsIni(startup=(("a\r\nb", ""),)), "[Startup] entry 0 CmdLine contains a carriage return"),
    (ScriptsIni(startup=(("a", "x\ny"),)), "[Startup] entry 0 Parameters contains a line feed"),
    (ScriptsIni(shutdown=(("a\x00", ""),)), "[Shutdown] entry 0 CmdLine contains a NUL"),
    (ScriptsIni(startup=((" a", ""),)), "starts with a space"),
    (ScriptsIni(startup=(("a", "b\t"),)), "ends with a tab"),
    (ScriptsIni(startup=(("a\ud800", ""),)), "unpaired surrogate"),
    (ScriptsIni(startup=(("a",),)), "expected a pair"),
    (ScriptsIni(startup=((1, ""),)), "must be a str"),
    (ScriptsIni(scripts_config=(("Start]", "true"),)), "contains ']'"),
    (ScriptsIni(scripts_config=(("a=b", "true"),)), "contains '='"),
    (ScriptsIni(scripts_config=(("a\nb", "true"),)), "contains a line feed"),
    (ScriptsIni(scripts_config=(("x", "1"), ("X", "2"))), "there twice"),
    (ScriptsIni(scripts_config=((";x", "1"),)), "starts with ';'"),
    (ScriptsIni(scripts_config=(("", "1"),)), "is empty"),
    (ScriptsIni(other_sections=(("Lo]gon", ()),)), "section name 'Lo]gon' contains ']'"),
    (ScriptsIni(other_sections=(("A=B", ()),)), "contains '='"),
    (ScriptsIni(other_sections=(("a\r\n", ()),)), "contains a carriage return"),
    (ScriptsIni(other_sections=(("Logon", ()), ("LOGON", ()))), "there twice"),
    (ScriptsIni(other_sections=(("startup", ()),)), "held by its own field"),
    (ScriptsIni(other_sections=((" Logon", ()),)), "leading or trailing"),
])
def test_writer_refusals(doc, words):
    with pytest.raises(GpScriptsError, match=re.escape(words)):
        gpscripts.dumps(doc)


def test_writer_takes_a_document_only():
    with pytest.raises(GpScriptsError, match="expected a ScriptsIni"):
        gpscripts.dumps({"Startup": []})


# --- (e) the startup-script merge -------------------------------------------------------------


def test_merge_into_nothing_gives_one_entry_at_zero():
    data, changed = merge(None)
    assert changed
    assert data == u16(crlf("", "[Startup]", f"0CmdLine={ONBOARD}", "0Parameters="))


def test_merge_into_an_empty_file():
    assert merge(b"") == (u16(crlf("", "[Startup]", f"0CmdLine={ONBOARD}", "0Parameters=")), True)


def test_merge_after_entries_zero_and_one():
    existing = u16(crlf("", "[Startup]", "0CmdLine=a.ps1", "0Parameters=", "1CmdLine=b.ps1", "1Parameters=-q"))
    data, changed = merge(existing, parameters="-Tag VDI")
    assert changed
    assert data == existing + u16(crlf("2CmdLine=" + ONBOARD, "2Parameters=-Tag VDI"))[2:]
    assert gpscr_read(data)["Startup"] == [("a.ps1", ""), ("b.ps1", "-q"), (ONBOARD, "-Tag VDI")]


def test_merge_after_a_gap_goes_last_and_the_file_is_renumbered():
    existing = u16(crlf("", "[Startup]", "0CmdLine=a.ps1", "0Parameters=", "5CmdLine=f.ps1", "5Parameters=-f"))
    data, changed = merge(existing)
    assert changed
    # Ours is highest + 1 in the file as read (after 5); written in GPMC's form, numbered 0, 1, 2.
    assert data.decode("utf-16").split("\r\n") == [
        "", "[Startup]", "0CmdLine=a.ps1", "0Parameters=", "1CmdLine=f.ps1", "1Parameters=-f",
        f"2CmdLine={ONBOARD}", "2Parameters=", ""]
    assert gpscr_read(data)["Startup"][-1] == (ONBOARD, "")


def test_merge_is_idempotent():
    once, changed = merge(u16(crlf("", "[Startup]", "0CmdLine=a.ps1", "0Parameters=")))
    assert changed
    twice, changed_again = merge(once)
    assert changed_again is False
    assert twice is once


def test_merge_compares_cmdlines_as_windows_paths():
    existing = u16(crlf("", "[Startup]", "0CmdLine=C:\\WINDOWS\\System32\\GroupPolicy\\Machine\\Scripts\\"
                                          "Startup\\ONBOARD-NONPERSISTENTMACHINE.PS1  ", "0Parameters="))
    ours = "c:\\windows\\system32\\grouppolicy\\machine\\scripts\\startup\\Onboard-NonPersistentMachine.ps1"
    assert merge(existing, ours) == (existing, False)
    assert gpscripts.same_command("a.PS1 \t", "A.ps1")
    assert not gpscripts.same_command("a.ps1", "a.ps2")
    assert not gpscripts.same_command("stra\u00dfe.ps1", "STRASSE.PS1")       # ordinal, not linguistic


def test_same_script_with_other_parameters_is_added():
    existing = u16(crlf("", "[Startup]", f"0CmdLine={ONBOARD}", "0Parameters=-Old"))
    data, changed = merge(existing, parameters="-old")                       # parameters: case counts
    assert changed
    assert gpscripts.loads(data).startup == ((ONBOARD, "-Old"), (ONBOARD, "-old"))


def test_merge_keeps_shutdown_scripts_config_and_foreign_sections():
    existing = u16(crlf("", "[ScriptsConfig]", "StartExecutePSFirst=false", "[Shutdown]",
                        "0CmdLine=stop.ps1", "0Parameters=-Now", "[Logon]", "0CmdLine=u.ps1"))
    data, changed = merge(existing)
    assert changed
    assert data.decode("utf-16").split("\r\n") == [
        "", "[ScriptsConfig]", "StartExecutePSFirst=false", "[Startup]", f"0CmdLine={ONBOARD}",
        "0Parameters=", "[Shutdown]", "0CmdLine=stop.ps1", "0Parameters=-Now", "[Logon]", "0CmdLine=u.ps1", ""]
    assert configparser_read(data)["ScriptsConfig"] == {"StartExecutePSFirst": "false"}


def test_merge_into_ansi_reencodes_but_an_ansi_file_already_right_stays():
    ansi = b"[Startup]\r\n0CmdLine=d\xe9marrage.cmd\r\n0Parameters=\r\n"
    data, changed = merge(ansi)
    assert changed and data.startswith(b"\xff\xfe\r\x00\n\x00")
    assert gpscripts.loads(data).startup == (("d\u00e9marrage.cmd", ""), (ONBOARD, ""))
    assert merge(ansi, "D\u00c9MARRAGE.CMD") == (ansi, False)


@pytest.mark.parametrize("cmdline, parameters, words", [
    ("", "", "CmdLine is empty"),
    ("a\r\n.ps1", "", "CmdLine contains a carriage return"),
    (" a.ps1", "", "CmdLine starts with a space"),
    ("a.ps1", "x\n", "Parameters contains a line feed"),
    ("a.ps1", None, "Parameters must be a str"),
])
def test_merge_refuses_arguments_it_cannot_write(cmdline, parameters, words):
    with pytest.raises(GpScriptsError, match=re.escape(words)):
        gpscripts.add_startup_script(None, cmdline, parameters)


def test_merge_refuses_a_file_it_cannot_read_naming_the_line():
    with pytest.raises(GpScriptsError, match=r"^line 3: "):
        merge(u16("\r\n[Startup]\r\n0CmdLine\r\n"))


@given(documents, _value.filter(bool), _value)
def test_merge_property(doc, cmdline, parameters):
    before = gpscripts.dumps(doc)
    data, changed = gpscripts.add_startup_script(before, cmdline, parameters)
    present = any(gpscripts.same_command(c, cmdline) and p == parameters for c, p in doc.startup)
    assert changed is not present
    after = gpscripts.loads(data)
    assert after.startup == (doc.startup if present else doc.startup + ((cmdline, parameters),))
    assert (after.shutdown, after.scripts_config, after.other_sections) == (
        doc.shutdown, doc.scripts_config, doc.other_sections)
    assert gpscripts.add_startup_script(data, cmdline, parameters) == (data, False)


# --- (f) gpt.ini ------------------------------------------------------------------------------


def test_fresh_gpt_ini():
    data, changed = add_scripts(None)
    assert changed
    assert data == (b"[General]\r\ngPCFunctionalityVersion=2\r\n"
                    b"gPCMachineExtensionNames=[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}"
                    b"{40B6664F-4972-11D1-A7CA-0000F87571E3}]\r\nVersion=1\r\n")
    assert gpscripts.loads_gpt(data).get("general", "VERSION") == "1"


def test_gpt_merge_puts_scripts_after_registry_and_bumps_the_machine_word():
    existing = crlf("[General]", "gPCFunctionalityVersion=2",
                    f"gPCMachineExtensionNames=[{REGISTRY_CSE}{GPEDIT_REGISTRY_TOOL}]",
                    "Version=65539", "gPCUserExtensionNames=[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
                    "{0F6B957E-509E-11D1-A7CC-0000F87571E3}]").encode("ascii")
    data, changed = add_scripts(existing, changed=True)
    assert changed
    assert data == existing.replace(b"Version=65539", b"Version=65540").replace(
        GPEDIT_REGISTRY_TOOL.encode() + b"]", GPEDIT_REGISTRY_TOOL.encode() + b"]" + SCRIPTS_GROUP.encode(), 1)


def test_gpt_merge_keeps_ascending_cse_order_and_foreign_pairs():
    existing = crlf("[General]", f"gPCMachineExtensionNames=[{REGISTRY_CSE}{GPEDIT_REGISTRY_TOOL}]"
                                 f"[{SECURITY_CSE}{SECURITY_TOOL}]", "Version=2").encode("ascii")
    data, changed = add_scripts(existing)
    assert changed
    assert gpscripts.loads_gpt(data).get("General", "gPCMachineExtensionNames") == (
        f"[{REGISTRY_CSE}{GPEDIT_REGISTRY_TOOL}]{SCRIPTS_GROUP}[{SECURITY_CSE}{SECURITY_TOOL}]")
    assert gpscripts.loads_gpt(data).get("General", "Version") == "3"


def test_gpt_merge_joins_a_group_with_the_same_cse():
    existing = crlf("[General]", f"gPCMachineExtensionNames=[{SCRIPTS_CSE}{SCRIPTS_TOOL_USER}]",
                    "Version=1").encode("ascii")
    data, _ = add_scripts(existing)
    assert gpscripts.loads_gpt(data).get("General", "gPCMachineExtensionNames") == (
        f"[{SCRIPTS_CSE}{SCRIPTS_TOOL_MACHINE}{SCRIPTS_TOOL_USER}]")


def test_gpt_merge_with_nothing_to_do_returns_the_input():
    existing = crlf("[General]", f"gPCMachineExtensionNames={SCRIPTS_GROUP.lower()}", "Version=7").encode("ascii")
    assert add_scripts(existing) == (existing, False)
    assert add_scripts(existing)[0] is existing


def test_gpt_merge_bumps_when_only_the_scripts_changed():
    existing = crlf("[General]", f"gPCMachineExtensionNames={SCRIPTS_GROUP}", "Version=7").encode("ascii")
    assert add_scripts(existing, changed=True) == (existing.replace(b"=7", b"=8"), True)


@pytest.mark.parametrize("before, after", [
    (0, 1),
    (65537, 65538),
    ((2 << 16) | 0xFFFF, (2 << 16) | 1),           # formats.md §6 (tebbi/gpogen)
    (0xFFFFFFFF, 0xFFFF0001),
    ((5 << 16) | 3, (5 << 16) | 4),
    (5 << 16, (5 << 16) | 1),
])
def test_version_bump_touches_the_low_word_only(before, after):
    assert gpscripts.bump_machine_version(before) == after
    existing = crlf("[General]", f"gPCMachineExtensionNames={SCRIPTS_GROUP}", f"Version={before}").encode()
    assert gpscripts.loads_gpt(add_scripts(existing, changed=True)[0]).get("General", "Version") == str(after)


@pytest.mark.parametrize("bad", [-1, 2**32, True, "1"])
def test_version_bump_refuses_what_is_no_version(bad):
    with pytest.raises(GpScriptsError):
        gpscripts.bump_machine_version(bad)


def test_gpt_merge_keeps_foreign_keys_and_sections_in_order_and_adds_what_is_missing():
    existing = crlf("[Extra]", "a=1", "[general]", "displayName=Local", "gPCFunctionalityVersion=2",
                    "[Tail]", "z=9").encode("ascii")
    data, changed = add_scripts(existing)
    assert changed
    assert data == crlf("[Extra]", "a=1", "[general]", "displayName=Local", "gPCFunctionalityVersion=2",
                        f"gPCMachineExtensionNames={SCRIPTS_GROUP}", "Version=1",
                        "[Tail]", "z=9").encode("ascii")


def test_gpt_merge_without_general_puts_it_first():
    data, _ = add_scripts(b"[Other]\r\nk=v\r\n")
    assert data == crlf("[General]", f"gPCMachineExtensionNames={SCRIPTS_GROUP}", "Version=1",
                        "[Other]", "k=v").encode("ascii")


def test_gpt_merge_normalises_a_utf8_or_lf_file_to_ansi_crlf():
    data, _ = add_scripts("\ufeff[General]\nVersion=65536\n".encode("utf-8"))
    assert data == crlf("[General]", "Version=65537", f"gPCMachineExtensionNames={SCRIPTS_GROUP}").encode()


@pytest.mark.parametrize("text, line, words", [
    ("[General]\r\nVersion=x1\r\n", 2, "Version 'x1' is not a decimal integer"),
    ("[General]\r\nVersion=-1\r\n", 2, "not a decimal integer"),
    ("[General]\r\nVersion=4294967296\r\n", 2, "not a decimal integer"),
    ("[General]\r\n\r\ngPCMachineExtensionNames=[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}]\r\n", 3,
     "names a CSE and no tool GUID"),
    ("[General]\r\ngPCMachineExtensionNames=[{35378EAC}{D02B1F72}]\r\n", 2, "expected '[{CSE GUID}"),
    ("[General]\r\ngPCMachineExtensionNames=x[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
     "{D02B1F72-3407-48AE-BA88-E8213C6761F1}]\r\n", 2, "at character 1"),
    ("Version=1\r\n", 1, "before any [section]"),
    ("[General]\r\nVersion=1\r\nversion=2\r\n", 3, "repeats a key from line 2"),
])
def test_gpt_refusals_name_the_line(text, line, words):
    with pytest.raises(GpScriptsError) as info:
        add_scripts(text.encode("ascii"), changed=True)
    assert info.value.line == line and str(info.value).startswith(f"line {line}: ")
    assert words in str(info.value)


def test_gpt_merge_refuses_bad_guids_and_a_non_bool_changed():
    with pytest.raises(GpScriptsError, match="is not a GUID"):
        gpscripts.add_machine_extension(None, "not-a-guid", SCRIPTS_TOOL_MACHINE, changed=False)
    with pytest.raises(TypeError):
        gpscripts.add_machine_extension(None, SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE, changed=1)


def test_gpt_merge_takes_guids_in_any_spelling():
    data, _ = gpscripts.add_machine_extension(None, SCRIPTS_CSE.strip("{}").lower(),
                                              SCRIPTS_TOOL_MACHINE.lower(), changed=False)
    assert SCRIPTS_GROUP.encode() in data


@pytest.mark.parametrize("doc, words", [
    (GptIni((("General", (("displayName", "\u4e2d"),)),)), "no ANSI (Windows-1252) byte"),
    (GptIni((("General", (("displayName", "a\r\nVersion=9"),)),)), "contains a carriage return"),
    (GptIni((("General", ()), ("GENERAL", ()))), "there twice"),
    (GptIni((("General", (("Version", "1"), ("version", "2"))),)), "there twice"),
])
def test_gpt_writer_refusals(doc, words):
    with pytest.raises(GpScriptsError, match=re.escape(words)):
        gpscripts.dumps_gpt(doc)


def test_parse_extension_names_inverts_extension_guids():
    from generator.formats.gpo_backup import extension_guids
    pairs = ((REGISTRY_CSE, GPEDIT_REGISTRY_TOOL), (SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE),
             (SCRIPTS_CSE, SCRIPTS_TOOL_USER))
    assert gpscripts.parse_extension_names(extension_guids(pairs)) == pairs
    assert gpscripts.parse_extension_names("") == ()


def test_constants():
    assert gpscripts.SCRIPTS_PAIR == (SCRIPTS_CSE, SCRIPTS_TOOL_MACHINE)
    assert SCRIPTS_CSE == "{42B5FAAE-6536-11D2-AE5A-0000F87571E3}"
    assert SCRIPTS_TOOL_MACHINE == "{40B6664F-4972-11D1-A7CA-0000F87571E3}"


# --- (g) the written files, read by others ------------------------------------------------------


def test_merged_files_read_back_the_ms_gpscr_way_and_with_configparser():
    data, _ = merge(None)
    data, _ = merge(data, "second.ps1", "-x 1")
    assert gpscr_read(data) == {"Startup": [(ONBOARD, ""), ("second.ps1", "-x 1")]}
    assert configparser_read(data) == {"Startup": {"0CmdLine": ONBOARD, "0Parameters": "",
                                                   "1CmdLine": "second.ps1", "1Parameters": "-x 1"}}


def test_gpt_ini_reads_back_with_configparser():
    data, _ = add_scripts(None)
    cp = configparser.ConfigParser(strict=True, interpolation=None)
    cp.optionxform = str
    cp.read_string(data.decode("ascii"))
    assert dict(cp["General"]) == {"gPCFunctionalityVersion": "2",
                                   "gPCMachineExtensionNames": SCRIPTS_GROUP, "Version": "1"}
