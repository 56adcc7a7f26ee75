"""The public names of evalkit.did stay functions, whatever was imported first."""

from __future__ import annotations

import importlib
import types


def test_public_names_are_functions_after_submodule_imports():
    did = importlib.import_module("evalkit.did")
    functions = [n for n in did.__all__ if not n[0].isupper()]  # the result classes are capitalised
    for name in functions:
        importlib.import_module(f"evalkit.did.{ {'two_by_two': 'twfe', 'bacon_decomposition': 'bacon'}.get(name, name)}")
    for name in did.__all__:
        obj = getattr(did, name)
        assert callable(obj) and not isinstance(obj, types.ModuleType), name
