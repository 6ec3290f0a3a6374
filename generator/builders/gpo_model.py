"""Moved to generator.records (kept until every importer is updated)."""
from generator.records import GpoDefinition, ImmediateTask, WmiFilter, braced  # noqa: F401
