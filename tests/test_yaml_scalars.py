"""The loader's scalar fast path reads every scalar exactly as PyYAML's SafeLoader does.

`load._scalar` constructs the common tags itself (it halves load time); it
once read `010` as 10 where PyYAML's YAML 1.1 constructor reads octal 8, and
took `!!int 09` (an error in PyYAML) for 9.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dealrooms_plugin.load import _Loader, _scalar

# Characters that make numbers, booleans and nulls, in all the spellings
# YAML 1.1 knows, plus digits that are not ASCII (str.isdigit() is true for them).
NUMBERISH = "0123456789+-_.:xobXOeE" + "٣٠١²፩" + "aAfFyesnotrulN~"
TAGS = ["", "!!int ", "!!str ", "!!bool ", "!!null ", "!!float "]


def _outcome(construct: Any) -> tuple[str, Any]:
    try:
        value = construct()
    except (ValueError, OverflowError, KeyError, IndexError) as exc:
        return ("error", type(exc).__name__)
    if isinstance(value, float) and math.isnan(value):
        return ("nan", None)
    return (type(value).__name__, value)


def scalar_node(text: str) -> yaml.Node | None:
    """The node the deal loader composes for ``text`` (tags resolved as in a deal file)."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def both(node: yaml.Node) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """(our construction, PyYAML SafeLoader's) of the same composed scalar node."""
    ours = _outcome(lambda: _scalar(node, _Loader("")))
    theirs = _outcome(lambda: yaml.SafeLoader("").construct_object(node, deep=True))
    return ours, theirs


@pytest.mark.parametrize(
    ("text", "value"),
    [("010", 8), ("0o10", "0o10"), ("0x1F", 31), ("1_000", 1000), ("+5", 5), ("٣", "٣"), ("!!int ٣", 3),
     ("0", 0), ("-0", 0), ("00", 0), ("1:30", 90), ("0b11", 3), ("12", 12)],
)
def test_examples_agree_with_pyyaml(text: str, value: Any) -> None:
    ours, theirs = both(scalar_node(text))
    assert ours == theirs == (type(value).__name__, value)
    assert yaml.safe_load(text) == value


def test_a_non_octal_leading_zero_is_an_error_in_both() -> None:
    ours, theirs = both(scalar_node("!!int 09"))
    assert ours == theirs == ("error", "ValueError")


@settings(max_examples=1500, deadline=None)
@given(tag=st.sampled_from(TAGS), body=st.text(alphabet=NUMBERISH, min_size=1, max_size=8))
@example(tag="", body="010")
@example(tag="!!int ", body="09")
@example(tag="!!int ", body="0٣")
def test_every_scalar_is_constructed_as_pyyaml_does(tag: str, body: str) -> None:
    node = scalar_node(tag + body)
    assume(isinstance(node, yaml.ScalarNode))
    ours, theirs = both(node)
    assert ours == theirs
