"""One Jinja2 environment for every template mdegen renders.

Templates live in the project's top-level ``templates/`` folder, which the wheel ships as the
``generator.templates`` package. Rendering returns text with ``\\n`` line ends; the caller picks
the bytes (encoding, BOM, CRLF) because each output format has its own (``text_file``).

PowerShell templates (.ps1) render in ``powershell_environment()``, the same environment plus the
one quoting filter ``ps``; ``render_powershell`` turns a value that filter refuses into an error
naming the field it came from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import jinja2

from generator.escaping import ps_single_quoted


def templates_root() -> Path:
    """The folder that holds the templates, installed or in a source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"          # the wheel maps templates/ to generator/templates/
    if installed.is_dir():
        return installed
    return here.parent / "templates"        # a source tree: templates/ sits beside generator/


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root())),
        undefined=jinja2.StrictUndefined,   # a missing value is a bug, never an empty string
        autoescape=False,                   # escaping is per language, done by filters/callers
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: object) -> str:
    """Render template ``name`` (a path below templates/) with ``context``; '\\n' line ends."""
    return environment().get_template(name).render(**context)


def to_crlf(text: str) -> str:
    """Normalise any line ends to CRLF (the Windows formats: .cmd, .ps1, .ini, .sms)."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


_MARKDOWN_SPECIAL = "\\`*_[]<>|#"


def markdown_cell(text: str) -> str:
    """Plain text made literal in Markdown (a heading, a sentence or a table cell).

    CommonMark's backslash escapes keep a name such as ``Contoso <IT> *Ops*`` from turning into
    an HTML tag or emphasis; pipes cannot end a table cell; line breaks become spaces.
    """
    out = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)
    return out.replace("\r", " ").replace("\n", " ")


def text_file(text: str, *, encoding: str = "utf-8", bom: bool = False, eol: str = "\r\n") -> bytes:
    """Rendered text as a file's bytes: line ends normalised to ``eol``, then encoded, BOM first if asked.

    The one place a kit decides a text file's bytes (formats.md: .ps1 UTF-8 with BOM and CRLF,
    .cmd ASCII and CRLF, Markdown UTF-8 and CRLF ...). A character the encoding cannot carry raises
    UnicodeEncodeError, which callers treat as a bug: values are validated before they get here.
    """
    normalised = text.replace("\r\n", "\n")
    if eol != "\n":
        normalised = normalised.replace("\n", eol)
    data = normalised.encode(encoding)
    if bom:
        data = "\ufeff".encode(encoding) + data
    return data


# --- PowerShell --------------------------------------------------------------------------------


class PowerShellValueError(ValueError):
    """A value the ``ps`` filter cannot write as a PowerShell literal.

    Carries the offending ``value`` and the ``reason`` (worded to follow "field: ", as everything in
    generator/escaping.py), so the renderer can name the field: ``render_powershell`` finds the
    value in the context it passed.
    """

    def __init__(self, value: object, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


def _ps_filter(value: object) -> str:
    """The ``ps`` filter: ``value`` as a PowerShell single-quoted literal (escaping.ps_single_quoted)."""
    if not isinstance(value, str):
        raise PowerShellValueError(value, f"{value!r} is not text")
    try:
        return ps_single_quoted(value)
    except ValueError as exc:
        raise PowerShellValueError(value, str(exc)) from None


@functools.cache
def powershell_environment() -> jinja2.Environment:
    """The environment of every .ps1 template: the shared one plus the ``ps`` quoting filter.

    An overlay with its own filter table (an overlay shares the table with its parent otherwise),
    so the shared environment stays as it is and a template that uses ``| ps`` fails to compile
    anywhere else. Every value from the config goes through ``ps`` exactly once.
    """
    env = environment().overlay()
    env.filters = {**env.filters, "ps": _ps_filter}
    return env


def locate(value: object, context: Mapping[str, object]) -> str | None:
    """Where ``value`` sits in ``context``: a path such as ``gpos[0].display_name``, or None.

    Walks dicts (by key, in their order) and lists/tuples (by index), depth first, and returns the
    first place whose value equals ``value``.
    """
    def walk(node: object, path: str) -> str | None:
        if isinstance(node, str):
            return path if node == value else None
        if isinstance(node, Mapping):
            items: Iterable[tuple[str, object]] = ((f"{path}.{k}" if path else str(k), v) for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            items = ((f"{path}[{i}]", v) for i, v in enumerate(node))
        else:
            return path if node == value and path else None
        for sub_path, sub in items:
            found = walk(sub, sub_path)
            if found is not None:
                return found
        return None

    return walk(context, "")


def render_powershell(name: str, context: Mapping[str, object], *,
                      field_name: Callable[[str], str] | None = None) -> str:
    """Render the .ps1 template ``name`` with ``context`` in ``powershell_environment()``.

    A value the ``ps`` filter refuses becomes ``ValueError("<field>: <reason>")``, the field being
    its path in ``context`` (see ``locate``), passed through ``field_name`` when the caller names
    its records differently. '\\n' line ends, as ``render``.
    """
    try:
        return powershell_environment().get_template(name).render(context)
    except PowerShellValueError as exc:
        path = locate(exc.value, context)
        where = name if path is None else (field_name(path) if field_name else path)
        raise ValueError(f"{where}: {exc.reason}") from None
