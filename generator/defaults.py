"""Names the command line shows before it loads anything heavy (no third-party import here)."""

DEFAULT_CONFIG_NAME = "mdegen.yaml"
DEFAULT_OUTPUT = "output"
