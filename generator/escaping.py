"""Quoting for the languages mdegen writes values into: one small pure function per language.

Each function either returns text that the target language reads back as exactly the input, or
raises ``ValueError``. Callers turn that into a config error for the field the value came from, so
every message is written to read well after "field X: " (it never names the field itself).

``plain`` is not quoting: it checks that a fixed fact (a registry path, a value name) needs none.

MOF strings are quoted by the MOF writer (formats/wmi_mof.py), not here.
"""

from __future__ import annotations

import unicodedata

# PowerShell's tokenizer treats all four of these as a single quote (CharExtensions.IsSingleQuote):
# ' U+0027, ‘ U+2018, ’ U+2019, ‚ U+201A, ‛ U+201B. Inside a single-quoted string a quote character
# followed by another quote character stands for the second one; a lone one ends the string.
PS_SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")

# Explicit bidirectional formatting characters. They are invisible and reorder what a reviewer sees
# on screen ("Trojan Source"), so a generated script that an admin is meant to read never carries them.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029")

_NAMES = {
    "\x00": "a NUL character",
    "\t": "a tab",
    "\n": "a line feed",
    "\r": "a carriage return",
    "\x85": "a next-line character",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}


def _describe(ch: str) -> str:
    """'a line feed (U+000A)', 'a control character (U+0007)', ..."""
    name = _NAMES.get(ch)
    if name is None:
        if ch in _BIDI_CONTROLS:
            name = "an invisible bidirectional-text control"
        elif unicodedata.category(ch) == "Cs":
            name = "an unpaired surrogate"
        else:
            name = "a control character"
    return f"{name} (U+{ord(ch):04X})"


def _position(s: str, i: int) -> str:
    return f"at character {i + 1}" if len(s) > 1 else ""


def refuse_control(s: str, field: str, *, allow_tab: bool = True) -> str:
    """Return ``s`` unchanged, or raise ValueError if it holds a character no generated file may carry.

    Refused: C0/C1 control characters (CR, LF, NUL, ESC, U+0085 ...; TAB only when ``allow_tab`` is
    False), the Unicode line and paragraph separators U+2028/U+2029, the invisible bidirectional
    controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) and unpaired surrogates (no UTF-8
    form). ``field`` says where the value is going ("a PowerShell string", "an INI value"); the message
    reads "contains a line feed (U+000A) at character 7, which a PowerShell string cannot hold".
    """
    for i, ch in enumerate(s):
        cat = unicodedata.category(ch)
        bad = (
            (cat == "Cc" and not (allow_tab and ch == "\t"))
            or cat == "Cs"
            or ch in _LINE_SEPARATORS
            or ch in _BIDI_CONTROLS
        )
        if bad:
            where = _position(s, i)
            raise ValueError(f"contains {_describe(ch)}{' ' + where if where else ''}, which {field} cannot hold")
    return s


def ps_single_quoted(s: str) -> str:
    """A PowerShell verbatim (single-quoted) string literal whose value is exactly ``s``.

    Rule: inside '...' PowerShell expands nothing ($, `, ", %, & and < are plain text); the only
    special characters are the single quotes, and PowerShell counts the typographic ones
    (U+2018, U+2019, U+201A, U+201B) as single quotes too. Each of the five is doubled, which the
    tokenizer reads back as one of that same character. Line breaks and other control characters are
    refused (see ``refuse_control``): the .ps1 writer normalises line ends to CRLF, which would alter
    a literal that spans lines, and an invisible character has no place in a script an admin reviews.
    """
    refuse_control(s, "a PowerShell string")
    return "'" + "".join(ch + ch if ch in PS_SINGLE_QUOTES else ch for ch in s) + "'"


def ps_unquote_single(literal: str) -> str:
    """The value of a PowerShell single-quoted literal (the inverse of ``ps_single_quoted``).

    Implements the tokenizer's rule: a quote character followed by a quote character yields the
    second one. For tests and for reading back generated scripts; raises ValueError on text that is
    not one complete literal.
    """
    if len(literal) < 2 or literal[0] not in PS_SINGLE_QUOTES or literal[-1] not in PS_SINGLE_QUOTES:
        raise ValueError("is not a single-quoted PowerShell string")
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch in PS_SINGLE_QUOTES:
            if i + 1 >= len(body) or body[i + 1] not in PS_SINGLE_QUOTES:
                raise ValueError(f"has an unpaired quote at character {i + 2}")
            out.append(body[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# Characters cmd.exe still acts on inside "...", or that break the quoting around a path:
#   "  ends the quoted part (cmd has no escape for it inside quotes)
#   %  variable expansion happens inside quotes too (%VAR%, and %~ in batch files)
#   !  delayed expansion (setlocal EnableDelayedExpansion) also works inside quotes
#   ^  literal inside quotes, but CALL doubles every caret in its arguments
#   & | < >  literal inside quotes, but `cmd /c "..."` strips the outer quotes when the quoted text
#            holds any of &<>()@^| and then the rest is parsed unquoted; < > | are not allowed in
#            Windows file names anyway
_CMD_REFUSED = {
    '"': ("a double quote", "which would end the quoted path"),
    "%": ("a percent sign", "which cmd.exe expands even inside quotes (%NAME%)"),
    "!": ("an exclamation mark", "which cmd.exe expands when delayed expansion is on"),
    "^": ("a caret", "which CALL doubles inside quoted arguments"),
    "&": ("an ampersand", "which starts a second command once cmd /c strips the quotes"),
    "|": ("a pipe sign", "which Windows paths cannot contain"),
    "<": ("a less-than sign", "which Windows paths cannot contain"),
    ">": ("a greater-than sign", "which Windows paths cannot contain"),
}


def cmd_quoted_path(s: str) -> str:
    """A path for a cmd.exe command line, wrapped in double quotes: ``"\\\\srv\\share\\x.cmd"``.

    Refuses rather than escapes: cmd.exe has no escape that is safe in every context a path ends up
    in (plain command, CALL, ``cmd /c``, FOR /F), so every character listed in ``_CMD_REFUSED``, line
    breaks and other control characters raise ValueError naming the problem. Parentheses, spaces,
    '@', ',' and ';' are kept (common in real paths, e.g. "Program Files (x86)", and inert inside
    quotes). A trailing backslash is refused too: most programs parse '\\"' as an escaped quote
    (CommandLineToArgvW), so the closing quote would be lost. Callers that hand the result to
    ``cmd /c`` should wrap the whole command in one more pair of quotes, as cmd /c's quote
    stripping otherwise applies.
    """
    if not s:
        raise ValueError("is empty; a path is required")
    refuse_control(s, "a cmd.exe path", allow_tab=False)
    for i, ch in enumerate(s):
        if ch in _CMD_REFUSED:
            name, reason = _CMD_REFUSED[ch]
            raise ValueError(f"contains {name} at character {i + 1}, {reason}")
    if s.endswith("\\"):
        raise ValueError("ends with a backslash, which programs read as escaping the closing quote; drop it")
    return f'"{s}"'


def ini_value(s: str) -> str:
    """A value for ``key=value`` in an INI file (gpt.ini, scripts.ini, psscripts.ini), unchanged.

    INI has no escapes: a line break ends the value and starts a new line that the reader parses as
    a key or section, and the Windows profile API stops at NUL. CR, LF and NUL therefore raise
    ValueError (as do the other control characters, U+2028/U+2029 and unpaired surrogates; tab is
    allowed). Not refused, but worth knowing: GetPrivateProfileString drops one pair of quotes that
    encloses the whole value, and ignores whitespace around it.
    """
    refuse_control(s, "an INI value")
    return s


# Letters, digits and a few punctuation marks that no language mdegen writes acts on: not in a
# PowerShell comment, a '...' literal or a "..." string, not in a cmd.exe line (quoted, or unquoted
# when there is no space). Backslash is among them: cmd.exe and PowerShell read it literally, and
# registry paths are made of it. (Markdown is not covered: it has its own escaping, markdown_cell.)
_PLAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\\_.-")


def plain(s: str, *, allow_space: bool = True) -> str:
    """Return ``s`` unchanged if it reads the same in every context a template puts it, else raise.

    For the fixed facts (registry paths and value names from generator/policy.py) that templates
    write without quoting: in comments, inside a literal, as a cmd.exe argument. Only ASCII
    letters, digits, ``\\ _ . -`` and (with ``allow_space``, the default) single spaces inside the
    text are allowed; it must not be empty. Not for config values: those are quoted per language.
    """
    if not s:
        raise ValueError("is empty")
    allowed = _PLAIN_CHARS | ({" "} if allow_space else set())
    for i, ch in enumerate(s):
        if ch not in allowed:
            raise ValueError(f"contains {ch!r} at character {i + 1}, which is not plain text")
    if allow_space and (s != s.strip() or "  " in s):
        raise ValueError("has leading, trailing or double spaces")
    return s
