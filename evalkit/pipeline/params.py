"""Which notebooks an evidence run executes and with which parameters.

Parameter *names* are pasted into a notebook as code by papermill, so they are whitelisted
against the notebook's ``parameters`` cell with :mod:`ast`; their types are checked against the
declared annotations. ``year``, ``data_dir``, ``language`` and ``output_dir`` come from the
command itself and never from ``-p``.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._shared.exceptions import EvalkitError
from .manifest import project_root

#: Parameters every evidence notebook declares (DEVNOTES "Notebooks"), with their types.
STANDARD_PARAMETERS = {"year": "int", "data_dir": "str", "language": "str", "output_dir": "str"}
#: The command-line option each standard parameter comes from (never from ``-p``).
STANDARD_OPTIONS = {"year": "--year", "data_dir": "--data", "language": "--language",
                    "output_dir": "--out"}
NOTEBOOK_RE = re.compile(r"^(\d{2})_[A-Za-z0-9][A-Za-z0-9_\-]*\.ipynb$")
#: Notebooks numbered 90-98 read the other notebooks' saved headlines and run after them.
SUMMARY_NUMBERS = range(90, 99)
LANGUAGES = ("zh", "en")


# --------------------------------------------------------------------------------------------
# Discovery and parameters
# --------------------------------------------------------------------------------------------
def default_notebooks_dir() -> Path:
    """Return ``./notebooks`` if it exists, else the ``notebooks/`` folder beside the package."""
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here.resolve()
    return project_root() / "notebooks"


def discover_notebooks(
    notebooks_dir: str | os.PathLike, select: Sequence[str] | None = None
) -> list[Path]:
    """List the evidence notebooks ``NN_name.ipynb`` of a folder, in number order.

    Parameters
    ----------
    notebooks_dir : path-like
        Folder holding the output-free ``.ipynb`` files.
    select : sequence of str, optional
        Notebook names (``"00_data_audit"``, with or without ``.ipynb``) or two-digit numbers
        (``"00"``); ``None`` selects every notebook.

    Returns
    -------
    list of Path
        The selected notebooks.

    Raises
    ------
    EvalkitError
        When the folder does not exist, holds no notebook, or a selected name matches none.
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise EvalkitError(
            f"Notebook folder {str(folder)!r} does not exist. Pass --notebooks-dir, or run from "
            "the evalkit repository root (which has notebooks/)."
        )
    found = sorted(p for p in folder.iterdir() if NOTEBOOK_RE.match(p.name))
    if not found:
        raise EvalkitError(
            f"No notebooks named NN_name.ipynb in {str(folder)!r}. Generate them from the "
            "jupytext .py files: jupytext --to ipynb notebooks/NN_name.py"
        )
    if select is None:
        return found
    chosen: list[Path] = []
    unknown = []
    for item in select:
        key = str(item).removesuffix(".ipynb")
        hits = [p for p in found if p.stem == key or (len(key) == 2 and p.name[:2] == key)]
        if not hits:
            unknown.append(str(item))
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        names = ", ".join(p.stem for p in found)
        raise EvalkitError(
            f"Unknown notebook(s): {', '.join(unknown)}. Available in {str(folder)!r}: {names}."
        )
    return sorted(chosen)


def notebook_parameters(path: str | os.PathLike) -> dict[str, str | None]:
    """Read the declared parameters of a notebook's ``parameters`` cell with :mod:`ast`.

    Parameters
    ----------
    path : path-like
        An ``.ipynb`` file.

    Returns
    -------
    dict
        ``{name: annotation}`` where annotation is the source text of the type (``"int"``,
        ``"str"``...) or ``None`` for an un-annotated ``name = value`` line.

    Raises
    ------
    EvalkitError
        When the notebook has no cell tagged ``parameters`` (papermill would then inject the
        values at the top, where the notebook's own assignments silently override them), or the
        cell is not valid Python.
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise EvalkitError(
            f"Notebook {path.name} has no cell tagged 'parameters'. Mark its first code cell "
            '`# %% tags=["parameters"]` in the jupytext .py file and regenerate the .ipynb.'
        )
    declared: dict[str, str | None] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            raise EvalkitError(
                f"The parameters cell of {path.name} is not valid Python ({exc.msg}, line "
                f"{exc.lineno}). Keep it to lines `name: type = literal  # help`."
            ) from exc
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                declared[node.target.id] = ast.unparse(node.annotation)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        declared[target.id] = None
    return declared


_TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
}
_LITERAL_TYPES = (str, int, float, bool, type(None), list, dict)


def _check_literal(value: Any) -> bool:
    if isinstance(value, list):
        return all(_check_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _check_literal(v) for k, v in value.items())
    return isinstance(value, _LITERAL_TYPES)


def check_parameters(
    notebook: str | os.PathLike, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """Check parameter names and types against a notebook's ``parameters`` cell.

    Papermill pastes parameter *names* verbatim into the notebook as code, so a name such as
    ``'y = 0; import os; z'`` would run. Only names declared in the parameters cell pass.

    Parameters
    ----------
    notebook : path-like
        The ``.ipynb`` file.
    parameters : mapping
        Proposed ``{name: value}``.

    Returns
    -------
    dict
        The parameters, unchanged, once checked.

    Raises
    ------
    EvalkitError
        Naming every unknown parameter, and every value whose type contradicts the declared
        annotation (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``).
    """
    path = Path(notebook)
    declared = notebook_parameters(path)
    problems = []
    unknown = [name for name in parameters if name not in declared]
    if unknown:
        problems.append(
            f"unknown parameter(s) {unknown!r}; {path.name} declares: {sorted(declared)}"
        )
    for name, value in parameters.items():
        if name in unknown:
            continue
        if not _check_literal(value):
            problems.append(
                f"{name}={value!r} is a {type(value).__name__}; pass str, int, float, bool, "
                "None, or lists/dicts of those"
            )
            continue
        annotation = declared.get(name)
        check = _TYPE_CHECKS.get(annotation or "")
        if check is not None and not check(value):
            problems.append(
                f"{name}={value!r} is a {type(value).__name__}, but the parameters cell "
                f"declares `{name}: {annotation}`"
            )
    if problems:
        raise EvalkitError(
            f"Bad parameters for notebook {path.name}:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return dict(parameters)


def coerce_parameter(notebook: str | os.PathLike, name: str, text: str) -> Any:
    """Convert a command-line parameter value to the type the notebook declares for it.

    Unlike papermill's ``-p`` guessing, ``"01234"`` stays a string when the parameter is a
    ``str`` and ``"false"`` becomes ``False`` for a ``bool``.

    Parameters
    ----------
    notebook : path-like
        The ``.ipynb`` file.
    name : str
        Parameter name (must be declared in the parameters cell).
    text : str
        The value as typed.

    Returns
    -------
    object
        The typed value.

    Raises
    ------
    EvalkitError
        When the name is not declared or the text cannot be read as the declared type.
    """
    path = Path(notebook)
    declared = notebook_parameters(path)
    if name not in declared:
        raise EvalkitError(
            f"unknown parameter {name!r} for {path.name}; it declares: {sorted(declared)}"
        )
    annotation = declared[name] or ""
    try:
        if annotation == "str":
            return text
        if annotation == "int":
            return int(text)
        if annotation == "float":
            return float(text)
        if annotation == "bool":
            low = text.strip().lower()
            if low in {"true", "1", "yes"}:
                return True
            if low in {"false", "0", "no"}:
                return False
            raise ValueError(text)
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise EvalkitError(
            f"Cannot read {text!r} as the {annotation or 'Python literal'} that {path.name} "
            f"declares for parameter {name!r}."
        ) from exc


def check_reserved_parameter(notebook: str, name: str) -> None:
    """Refuse a ``-p`` value for a parameter that must come from the command itself.

    ``year``, ``data_dir``, ``language`` and ``output_dir`` say what the pack is; a notebook
    given another value would show a page that contradicts the pack (a 2024 page in a 2025
    pack) or write its results outside the pack.

    Parameters
    ----------
    notebook : str
        Notebook name (for the message).
    name : str
        Parameter name.

    Raises
    ------
    EvalkitError
        When ``name`` is one of :data:`STANDARD_PARAMETERS`.

    Examples
    --------
    >>> check_reserved_parameter("50_allocation_lab", "spec")  # fine: a notebook's own parameter
    """
    if name in STANDARD_PARAMETERS:
        option = STANDARD_OPTIONS[name]
        raise EvalkitError(
            f"-p {notebook}:{name}=...: the parameter {name!r} comes from the command ({option}), "
            "never from -p, so that no page can contradict its pack (another year, data or "
            f"language) or write outside it. Use {option} for the whole run.\n"
            f"-p {notebook}:{name}=...:参数 {name!r} 只能由命令本身的 {option} 给出,不能用 -p 修改,"
            f"以免某一页与证据包的年份、数据、语言或位置不一致。请对整个运行使用 {option}。"
        )


def stage_of(path: Path) -> int:
    return 1 if int(path.name[:2]) in SUMMARY_NUMBERS else 0




def make_tasks(
    selected: list[Path],
    extras: dict[str, Mapping[str, Any]],
    year: int,
    data_path: Path,
    language: str,
    pack: Path,
    work: Path,
    nb_dir: Path,
    out_path: Path,
    timeout: float,
) -> list[dict[str, Any]]:
    """One task per notebook: its checked parameters and where its outputs go."""
    tasks = []
    for path in selected:
        params = {
            "year": year,
            "data_dir": str(data_path),
            "language": language,
            "output_dir": str(pack),
        }
        declared = notebook_parameters(path)
        missing = [f"{k}: {v}" for k, v in STANDARD_PARAMETERS.items() if k not in declared]
        if missing:
            raise EvalkitError(
                f"Notebook {path.name} does not declare the standard parameter(s) "
                f"{missing} in its parameters cell; every evidence notebook declares "
                "year, data_dir, language and output_dir (DEVNOTES 'Notebooks')."
            )
        params.update(extras.get(path.stem, {}))
        check_parameters(path, params)
        tasks.append(
            {
                "name": path.stem,
                "stage": stage_of(path),
                "input": str(path),
                "output_ipynb": str(pack / "notebooks" / path.name),
                "html": str(pack / f"{path.stem}.html"),
                "status_file": str(work / "status" / f"{path.stem}.json"),
                "cwd": str(nb_dir),
                "final_out": str(out_path),
                "timeout": timeout,
                "parameters": params,
            }
        )
    return tasks




def parse_param_items(items: Sequence[str], notebooks_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Read ``-p NOTEBOOK:NAME=VALUE`` items into the ``parameters`` of :func:`run_evidence`.

    Parameters
    ----------
    items : sequence of str
        The ``-p`` values, e.g. ``["50_allocation_lab:spec=spec.yaml"]``.
    notebooks_dir : path-like
        Folder of the notebooks (each item's notebook is found there).

    Returns
    -------
    dict
        ``{notebook stem: {name: value}}``, each value coerced to the declared type.

    Raises
    ------
    EvalkitError
        For an item not written ``NOTEBOOK:NAME=VALUE``, a standard parameter, an unknown
        notebook or parameter, or a value of the wrong type.

    Examples
    --------
    >>> parse_param_items([], "notebooks")
    {}
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, sep, value = item.partition("=")
        nb, colon, name = head.partition(":")
        if not sep or not colon or not nb or not name:
            raise EvalkitError(
                f"-p {item!r}: write NOTEBOOK:NAME=VALUE, e.g. -p 50_allocation_lab:spec=spec.yaml"
            )
        check_reserved_parameter(nb, name)
        path = discover_notebooks(notebooks_dir, [nb])[0]
        out.setdefault(path.stem, {})[name] = coerce_parameter(path, name, value)
    return out
