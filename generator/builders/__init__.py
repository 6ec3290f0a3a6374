"""Builders: pure functions that turn the reviewed config and inputs into the files of a kit."""
