"""PowerShell syntax checks for tests, on tree-sitter-pwsh (a grammar, not PowerShell itself).

``problems(src)`` lists ERROR/MISSING nodes and PowerShell-7-only syntax that Windows PowerShell 5.1
rejects; ``single_quoted_strings(src)`` lists the verbatim string tokens ('...') with their byte
spans. Tests import ``parser()`` through ``require_parser()``, which skips cleanly when the optional
test dependencies (tree-sitter, tree-sitter-pwsh) are not installed.

Known grammar limits (shared/oracles/README.md): ``try`` without ``catch`` is not reported;
``break <label>``, one-line multi-clause ``switch`` and ``param`` with its ``(`` on the line after
``[CmdletBinding()]`` give false errors. Generated scripts avoid all four.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest

PS7_ONLY_NODES = {
    "ternary_expression": "ternary ?:",
    "null_coalesce_expression": "?? operator",
    "pipeline_chain_tail": "&& / || pipeline chain",
}
VERBATIM_STRING_NODES = {"verbatim_string_characters"}
BOM = b"\xef\xbb\xbf"


@functools.cache
def _parser():
    try:
        import tree_sitter
        import tree_sitter_pwsh
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def require_parser():
    """The tree-sitter parser, or skip the calling test when the grammar is not installed."""
    p = _parser()
    if p is None:
        pytest.skip("tree-sitter / tree-sitter-pwsh not installed")
    return p


def _source(src: bytes | str) -> bytes:
    data = src.encode("utf-8") if isinstance(src, str) else src
    return data[len(BOM):] if data.startswith(BOM) else data


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def problems(src: bytes | str) -> list[str]:
    """'line:col: what' for every syntax problem the grammar finds; [] when the script parses."""
    data = _source(src)
    tree = require_parser().parse(data)
    out = []
    for n in _walk(tree.root_node):
        pos = f"{n.start_point[0] + 1}:{n.start_point[1] + 1}"
        if n.is_missing:
            out.append(f"{pos}: missing {n.type!r}")
        elif n.is_error:
            snippet = data[n.start_byte:n.end_byte][:40].decode("utf-8", "replace")
            out.append(f"{pos}: syntax error near {snippet!r}")
        elif n.type in PS7_ONLY_NODES:
            out.append(f"{pos}: PowerShell 7-only syntax ({PS7_ONLY_NODES[n.type]})")
        elif n.type == "assignment_operator" and data[n.start_byte:n.end_byte] == b"??=":
            out.append(f"{pos}: PowerShell 7-only syntax (??=)")
    if tree.root_node.has_error and not out:
        out.append("1:1: parser reported an error it did not locate")
    return out


@dataclass(frozen=True)
class Token:
    text: str          # the token as written, quotes included
    start: int         # byte offsets in the BOM-less source
    end: int


def single_quoted_strings(src: bytes | str) -> list[Token]:
    """Every single-quoted (verbatim) string token in the script, in source order."""
    data = _source(src)
    tree = require_parser().parse(data)
    return [
        Token(data[n.start_byte:n.end_byte].decode("utf-8"), n.start_byte, n.end_byte)
        for n in _walk(tree.root_node)
        if n.type in VERBATIM_STRING_NODES
    ]


def tree(src: bytes | str):
    """(root node, BOM-less source bytes) for walking the syntax tree in a test."""
    data = _source(src)
    return require_parser().parse(data).root_node, data


def walk(node):
    """Every node below ``node`` (itself included), depth first."""
    return _walk(node)


def node_types(src: bytes | str) -> list[str]:
    """Every node type in the tree (for assertions about what a snippet parsed as)."""
    return [n.type for n in _walk(require_parser().parse(_source(src)).root_node)]


def quoted_values(monkeypatch, render) -> list[str]:
    """The values PowerShell-quoted while ``render()`` runs: every generator.escaping.ps_single_quoted
    call, however it was imported, passes its value to escaping.refuse_control for "a PowerShell
    string", so a spy there sees each quoting once (the "quoted exactly once" tests)."""
    import generator.escaping as escaping

    seen: list[str] = []
    original = escaping.refuse_control

    def spy(s, field, **kw):
        if field == "a PowerShell string":
            seen.append(s)
        return original(s, field, **kw)

    monkeypatch.setattr(escaping, "refuse_control", spy)
    render()
    return seen
