"""mdegen: Microsoft Defender for Endpoint onboarding artifacts for Windows Server fleets."""

from importlib.metadata import PackageNotFoundError, version as _dist_version

try:
    __version__ = _dist_version("mdegen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
