"""One Jinja2 environment for every template mdegen renders.

Templates live in the project's top-level ``templates/`` folder, which the wheel ships as the
``generator.templates`` package. Rendering returns text with ``\\n`` line ends; the caller picks
the bytes (encoding, BOM, CRLF) because each output format has its own.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2


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
