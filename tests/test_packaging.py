"""Packaging checks: environment.yml mirrors pyproject.toml (dependencies and the docs extra),
.ci/run runs the README's test and docs commands, jupytext pairing is configured, every notebook
.py has its .ipynb.

Tolerances: none (exact string comparisons of names and version bounds).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _split(requirement: str) -> tuple[str, str]:
    """``"numpy>=1.26,<3"`` -> ``("numpy", ">=1.26,<3")`` with the name normalised."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(3).replace(" ", "")


def _conda_to_pip(spec: str) -> str:
    """Conda's ``=2.7`` means pip's ``==2.7.*``."""
    return f"=={spec[1:]}.*" if re.fullmatch(r"=\d+(\.\d+)*", spec) else spec


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for pip_item in item["pip"]:
                if not pip_item.startswith("-e"):
                    name, spec = _split(pip_item)
                    listed[name] = spec
        else:
            name, spec = _split(item)
            listed[name] = _conda_to_pip(spec)
    return listed


def test_environment_yml_lists_every_pyproject_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = _environment()
    problems = []
    for requirement in project["dependencies"]:
        name, spec = _split(requirement)
        names = ["dask", "distributed"] if requirement.startswith("dask[distributed]") else [name]
        for n in names:
            if n not in listed:
                problems.append(f"{n} ({requirement}) missing from environment.yml")
            elif listed[n] != spec:
                problems.append(f"{n}: pyproject {spec!r} vs environment.yml {listed[n]!r}")
    assert problems == []
    py = project["requires-python"]
    assert py == ">=3.11" and listed.get("python") == "==3.11.*"


def test_environment_yml_lists_the_docs_extra_with_the_same_bounds():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]
    listed = _environment()
    problems = []
    for requirement in extras["docs"]:
        name, spec = _split(requirement)
        if listed.get(name) != spec:
            problems.append(f"{name}: pyproject {spec!r} vs environment.yml {listed.get(name)!r}")
    assert extras["docs"] and problems == []


def test_environment_yml_installs_the_package_with_the_readme_extras():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert "- -e .[maps,validation]" in text
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"maps", "validation", "test"} <= set(extras)


def _readme_command(tag: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- command:{tag} -->\s*```bash\n(.+?)\n```", readme, re.S)
    assert match, f"README.md has no '<!-- command:{tag} -->' code block"
    return match.group(1).strip()


def _ci_command(tag: str) -> str | None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    block = re.search(rf"# --- README {tag} command ---\n(.+?)\n# --- end ---", ci, re.S)
    return block.group(1).strip() if block else None


def test_ci_runs_exactly_the_readme_test_command():
    command = _readme_command("test")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _ci_command("test") == command
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    assert "apt-get install -y" in ci and "chromium" in ci


def test_readme_main_command_builds_the_2025_pack_from_the_demo_data():
    command = _readme_command("main")
    assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e")
    assert command.endswith("evalkit evidence --year 2025 --data data_raw/demo --out reports/2025")
    extras = re.search(r'"\.\[([a-z,]+)\]"', command).group(1).split(",")
    assert {"maps", "validation"} <= set(extras)
    assert set(extras) <= set(re.search(r'"\.\[([a-z,]+)\]"', _readme_command("test")).group(1).split(","))


def test_ci_builds_the_docs_with_exactly_the_readme_docs_command_after_the_tests():
    command = _readme_command("docs")
    assert _ci_command("docs") == command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("# --- README docs command ---") > ci.index("# --- README test command ---")


def test_readme_docs_command_builds_the_site_offline_with_warnings_as_errors():
    command = _readme_command("docs")
    assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e")
    extras = re.search(r'"\.\[([a-z,]+)\]"', command).group(1).split(",")
    # the tutorials read mpdta, castle and Prop 99 from the validation extra's wheels
    assert {"docs", "validation"} <= set(extras)
    build = command.rsplit("&&", 1)[1].split()
    assert build[0] == ".venv/bin/sphinx-build" and {"-W", "--keep-going"} <= set(build)
    assert build[-2:] == ["docs", "docs/_build/html"]
    assert (ROOT / "docs" / "conf.py").is_file()


def test_console_script_and_jupytext_pairing():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["evalkit"] == "evalkit.cli:main"
    config = tomllib.loads((ROOT / "jupytext.toml").read_text())
    assert config["formats"] == "ipynb,py:percent"
    assert config["cell_metadata_filter"] == "-papermill,-execution"


@pytest.mark.parametrize("script", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")),
                         ids=lambda p: p.name)
def test_every_notebook_script_has_an_output_free_ipynb(script):
    import nbformat

    ipynb = script.with_suffix(".ipynb")
    assert ipynb.exists(), f"run: jupytext --to ipynb {script.relative_to(ROOT)}"
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{ipynb.name} has outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{ipynb.name} needs exactly one cell tagged parameters"
    assert nb.metadata.get("kernelspec", {}).get("name", "python3") == "python3"


def test_every_data_file_of_the_package_is_package_data():
    """A file evalkit reads at run time (masters, templates, page texts) must be in the wheel:
    an editable install finds it anyway, a regular install would not."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["evalkit"]
    package = ROOT / "evalkit"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    data = {p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts}
    assert not data - shipped, f"add to [tool.setuptools.package-data]: {sorted(str(p.relative_to(package)) for p in data - shipped)}"
