"""Batch (.cmd) syntax checks for tests, on tree-sitter-batch (a grammar, not cmd.exe itself).

``problems(src)`` lists ERROR/MISSING nodes and every ``goto``/``call :label`` whose label the
script does not define (``:eof`` is built in; targets built from ``%var%``/``!var!`` are not
checked). Tests get the parser through ``require_parser()``, which skips cleanly when the optional
test dependencies (tree-sitter, tree-sitter-batch) are not installed.

The grammar catches unbalanced blocks, malformed ``for``/``if`` and dangling jumps; it knows nothing
of cmd.exe's run-time quirks (percent expansion of whole blocks, delayed expansion, carets).
"""

from __future__ import annotations

import functools
import re

import pytest

_JUMP = re.compile(r"\s*(?:goto|call)\s+:?([^\s:&|<>()]+)", re.IGNORECASE)
_CALL_LABEL = re.compile(r"\s*call\s+:", re.IGNORECASE)


@functools.cache
def _parser():
    try:
        import tree_sitter
        import tree_sitter_batch
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_batch.language()))


def require_parser():
    """The tree-sitter parser, or skip the calling test when the grammar is not installed."""
    p = _parser()
    if p is None:
        pytest.skip("tree-sitter / tree-sitter-batch not installed")
    return p


def walk(node):
    """Every node below ``node`` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def problems(src: bytes | str) -> list[str]:
    """'line:col: what' for every syntax problem and undefined jump target; [] when all is well."""
    data = src.encode("ascii") if isinstance(src, str) else src
    root = require_parser().parse(data).root_node
    out: list[str] = []
    labels: set[str] = set()
    jumps: list[tuple[str, str, str]] = []
    for n in walk(root):
        pos = f"{n.start_point[0] + 1}:{n.start_point[1] + 1}"
        text = data[n.start_byte:n.end_byte].decode("ascii", "replace")
        if n.is_missing:
            out.append(f"{pos}: missing {n.type!r}")
        elif n.is_error:
            out.append(f"{pos}: syntax error near {text[:40]!r}")
        elif n.type == "label":
            labels.add(text.lstrip(":").strip().lower())
        elif n.type == "goto_stmt" or (n.type == "call_stmt" and _CALL_LABEL.match(text)):
            m = _JUMP.match(text)
            if m:
                jumps.append((pos, m.group(1).lower(), text.strip()))
    for pos, target, text in jumps:
        if target != "eof" and target not in labels and "%" not in target and "!" not in target:
            out.append(f"{pos}: jump to undefined label {text!r}")
    if root.has_error and not out:
        out.append("1:1: parser reported an error it did not locate")
    return out


def node_types(src: bytes | str) -> list[str]:
    """Every node type in the tree, in source order (for assertions about what a line parsed as)."""
    data = src.encode("ascii") if isinstance(src, str) else src
    return [n.type for n in walk(require_parser().parse(data).root_node)]
