"""Test helper: validate ADMX/ADML bytes against Microsoft's published ADMX XSDs with lxml.

The XSDs declare targetNamespace ``http://www.microsoft.com/GroupPolicy/PolicyDefinitions`` while
real ADMX/ADML files use ``http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions``.
The schema text is rewritten in memory (the entry file and every included file, through an lxml
resolver), so the documents are validated unmodified. The XSD files on disk are never changed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

XSD_NAMESPACE = b"http://www.microsoft.com/GroupPolicy/PolicyDefinitions"
FILE_NAMESPACE = b"http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
ENTRY = "PolicyDefinitionFiles.xsd"   # declares both policyDefinitions and policyDefinitionResources


def _patched(data: bytes) -> bytes:
    # "\$\(" is not a valid XSD regex escape for older libxml2; "[$]\(" means the same.
    return data.replace(XSD_NAMESPACE, FILE_NAMESPACE).replace(rb"\$\(", rb"[$]\(")


class _PatchedIncludes(etree.Resolver):
    def __init__(self, schema_dir: Path) -> None:
        super().__init__()
        self.schema_dir = schema_dir

    def resolve(self, url, pubid, context):  # noqa: ANN001 - lxml's resolver signature
        path = self.schema_dir / Path(url).name
        if path.is_file():
            return self.resolve_string(_patched(path.read_bytes()), context, base_url=str(path))
        return None


@lru_cache(maxsize=None)
def load_schema(schema_dir: Path) -> etree.XMLSchema:
    """The XMLSchema of ``schema_dir/PolicyDefinitionFiles.xsd``, retargeted to the 2006/07 namespace."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_PatchedIncludes(schema_dir))
    entry = schema_dir / ENTRY
    doc = etree.fromstring(_patched(entry.read_bytes()), parser, base_url=str(entry))
    return etree.XMLSchema(etree.ElementTree(doc))


def schema_errors(data: bytes, schema_dir: Path) -> list[str]:
    """XSD errors of an ADMX or ADML document (empty list = valid)."""
    doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    schema = load_schema(schema_dir)
    if schema.validate(doc):
        return []
    return [f"{e.line}:{e.column}: {e.message}" for e in schema.error_log]
