"""Byte-exact codecs for the Windows file formats mdegen reads and writes."""
