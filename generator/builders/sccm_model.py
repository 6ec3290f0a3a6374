"""Moved to generator.records (kept until every importer is updated)."""
from generator.records import CmCollection, CmCompliance, CmPackage, CmProgram  # noqa: F401
