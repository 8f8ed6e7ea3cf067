"""The examples in the docstrings of the plain-Python packages run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import geo
import optimization

MODULES = sorted(
    f"{pkg.__name__}.{info.name}"
    for pkg in (optimization, geo)
    for info in pkgutil.iter_modules(pkg.__path__)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_optimization_doc_examples():
    doc = Path(__file__).resolve().parents[3] / "docs" / "optimization.md"
    result = doctest.testfile(str(doc), module_relative=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) failed in {doc.name}"
