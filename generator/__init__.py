"""mdegen: Microsoft Defender for Endpoint onboarding artifacts for Windows Server fleets."""

# The one place the version is written: pyproject.toml reads it from here (setuptools' attr:),
# so start-up need not ask importlib.metadata, which costs more than the rest of `--version`.
__version__ = "0.1.0"
