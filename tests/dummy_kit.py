"""A kit that exists only in tests/test_architecture.py: registered there, it must appear as a
command, in `validate` and in the scenario cases with no edit anywhere else."""

from __future__ import annotations

from generator.artifacts import OutputFile


def check(project) -> list[str]:
    return []


def build(project) -> list[OutputFile]:
    text = f"{project.organization}, release {project.release_version}: {len(project.targets)} target(s)\r\n"
    return [OutputFile("NOTES.txt", text.encode("utf-8"))]
