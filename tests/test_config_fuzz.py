"""Fuzzing the config loader: any YAML document gives a Config or a ConfigError in mdegen's words.

Three sources of documents: arbitrary text (mostly YAML syntax errors), arbitrary YAML data
(scalars, dates, nested lists and mappings, complex keys), and the example config with one value
anywhere in it replaced by arbitrary data (which reaches every validator). Nothing else may come
out: no TypeError from an unhashable list, no bare ValueError from an impossible date, no pydantic
sentence in the message.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import config
from generator.errors import ConfigError
from generator.starter import starter_config

EXAMPLE = yaml.safe_load(starter_config(example=True).decode("utf-8"))
EXAMPLE["targets"] = [{"name": "Member servers", "os": [2019, 2022]},
                      {"name": "DCs", "os": [2025], "domain_controllers": "only", "settings": {"passive_mode": False}}]

_PYDANTIC_WORDS = ("Input should", "validation error", "pydantic", "Value error,", "For further information")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False), st.text(max_size=30),
    st.dates(), st.sampled_from(["off", "on", "yes", "only", "2019", "sac", "2016", "\\\\fs.contoso.com\\x",
                                 "2026-02-30", "1", "true", "~", "*"]),
)
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(list(EXAMPLE) + ["os", "name", "settings"])),
                    inner, max_size=4)), max_leaves=12)


def _check(text: str) -> None:
    try:
        cfg = config.loads(text, source="fuzz.yaml")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.yaml"), message
        assert not any(w in message for w in _PYDANTIC_WORDS), message
        return
    assert isinstance(cfg, config.Config)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("abc: -[]{}?!&*#'\"\n\t 0129.,|>%@`\\")), max_size=80))
def test_arbitrary_text(text):
    _check(text)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data)
def test_arbitrary_yaml_data(value):
    _check(yaml.safe_dump(value, allow_unicode=True))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = list(_paths(EXAMPLE))[1:]


def _replaced(node, path, value):
    if not path:
        return value
    head, *rest = path
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = _replaced(node[head], rest, value)
    return copy


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), data)
def test_example_with_one_value_replaced(path, value):
    _check(yaml.safe_dump(_replaced(EXAMPLE, path, value), allow_unicode=True))


def test_complex_keys_and_impossible_dates_are_config_errors():
    for text in ("? [a, b]\n: 1\n", "version: 1\nrelease: {date: 2026-02-30}\n", "{[1]: 2}\n",
                 "version: 1\ntargets: [{name: A, os: [[2019]]}]\n", "version: 1\ntargets: [{name: A, os: [{a: 1}]}]\n"):
        with pytest.raises(ConfigError):
            config.loads(text, source="fuzz.yaml")
        _check(text)


def test_the_example_itself_loads():
    assert isinstance(config.loads(yaml.safe_dump(EXAMPLE), source="x"), config.Config)
    assert EXAMPLE["release"]["date"] == dt.date(2026, 1, 15)
