"""Shared fixtures: throwaway evidence notebooks and a headless-Chromium locator.

The pipeline tests build small notebooks in temporary folders instead of running the project's
real notebooks, so they test the runner (parameters, failures, skips, atomic replacement, HTML,
manifest) quickly and independently of the estimators.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import pytest

STANDARD_PARAMETERS_CELL = (
    "year: int = 2025  # last year of the evaluation\n"
    'data_dir: str = "../data_raw/demo"  # input folder\n'
    'language: str = "zh"  # zh or en\n'
    'output_dir: str = ""  # pack folder, empty = do not save\n'
)


def write_notebook(
    path: Path,
    cells: Sequence[str],
    *,
    title: str = "Test notebook 测试",
    extra_parameters: str = "",
    parameters_cell: str | None = None,
) -> Path:
    """Write an output-free notebook: a markdown title, a parameters cell, then code cells.

    Parameters
    ----------
    path : Path
        Target ``.ipynb``.
    cells : sequence of str
        Source of the code cells after the parameters cell.
    title : str
        Markdown heading of the first cell.
    extra_parameters : str
        Lines appended to the standard parameters cell.
    parameters_cell : str, optional
        Replace the whole parameters cell (``""`` = no parameters cell at all).
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}"))
    source = STANDARD_PARAMETERS_CELL + extra_parameters if parameters_cell is None else parameters_cell
    if source:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    for src in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


#: A notebook cell that draws a PNG and saves one headline record.
PLOT_AND_HEADLINE = """
import matplotlib.pyplot as plt
from evalkit.report import save_headlines
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([2021, 2022, 2023], [1.0, 2.0, 1.5])
plt.show()
_ = save_headlines(output_dir, NAME, [{"evaluation": "pilot zone", "estimator": "test",
               "estimate": 0.1234, "conf_low": 0.05, "conf_high": 0.2, "p_value": 0.012}],
               title="标题 " + NAME)
"""


@pytest.fixture
def notebook_factory(tmp_path: Path) -> Callable[..., Path]:
    """Return ``make(name, cells, **kw)`` writing ``<tmp>/notebooks/<name>.ipynb``."""
    folder = tmp_path / "notebooks"

    def make(name: str, cells: Sequence[str] = ("print(year)",), **kwargs) -> Path:
        return write_notebook(folder / f"{name}.ipynb", cells, **kwargs)

    return make


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A tiny input folder (two files) for runs with ``check_data=False``."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "county_panel.csv").write_text("unit_code,year\n370702,2025\n", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "spec.yaml").write_text("total: 1\n", encoding="utf-8")
    return folder


def find_chromium() -> str | None:
    """Path of a Chromium binary (``EVALKIT_CHROMIUM`` overrides), or ``None``."""
    override = os.environ.get("EVALKIT_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


SUMMARY_CELL = """
from evalkit.report import load_headlines
seen = sorted(load_headlines(output_dir)) if output_dir else []
assert "00_plot" in seen, f"the summary ran before 00_plot saved its headlines: {seen}"
print("summary saw", seen)
"""
SKIP_CELL = """
from evalkit.pipeline import skip_notebook
skip_notebook("needs the 'validation' extra (test)")
"""


def build_test_notebooks(folder: Path) -> Path:
    """Write four notebooks: a plot with headlines, a plain one, a summary (90) and a skip (99)."""
    write_notebook(folder / "00_plot.ipynb", ['NAME = "00_plot"', PLOT_AND_HEADLINE],
                   title="Plot 图表")
    write_notebook(folder / "10_plain.ipynb", ["print('rows', year, language)"])
    write_notebook(folder / "90_summary.ipynb", [SUMMARY_CELL], title="Summary 汇总")
    write_notebook(folder / "99_skip.ipynb", [SKIP_CELL, "raise RuntimeError('must not run')"])
    return folder


@pytest.fixture(scope="session")
def make_test_notebooks() -> Callable[[Path], Path]:
    """:func:`build_test_notebooks` as a fixture: ``from conftest import`` is ambiguous under
    xdist, where ``tests/allocation/conftest.py`` may hold the module name ``conftest``."""
    return build_test_notebooks


@pytest.fixture(scope="session")
def good_pack(tmp_path_factory: pytest.TempPathFactory):
    """A finished evidence pack of the four test notebooks (built once per test session)."""
    from evalkit.pipeline import run_evidence

    root = tmp_path_factory.mktemp("good_pack")
    data = root / "data"
    data.mkdir()
    (data / "county_panel.csv").write_text("unit_code,year\n370702,2025\n", encoding="utf-8")
    notebooks = build_test_notebooks(root / "notebooks")
    pack = run_evidence(
        2025,
        data,
        root / "reports" / "2025",
        notebooks_dir=notebooks,
        check_data=False,
        synthetic=True,
        progress=False,
    )
    return pack


@pytest.fixture
def nb_writer() -> Callable[..., Path]:
    """The :func:`write_notebook` helper, as a fixture (tests/ is not a package)."""
    return write_notebook


# --------------------------------------------------------------------------------------------
# Headless Chromium through the DevTools protocol (websocket-client; no playwright download)
# --------------------------------------------------------------------------------------------
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # needed as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
    "--window-size=1280,1600",
)

_JS_BROKEN_IMAGES = (
    "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
    ".map(i => (i.getAttribute('src') || '').slice(0, 80))"
)
_JS_LINKS = "Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
_JS_MISSING_ANCHORS = (
    "Array.from(document.querySelectorAll('a[href^=\"#\"]')).map(a => a.getAttribute('href'))"
    ".filter(h => h.length > 1 && !document.getElementById(h.slice(1))"
    " && !document.getElementById(decodeURIComponent(h.slice(1))))"
)


def _fontconfig_file(folder: Path) -> Path:
    """A fontconfig file adding the mplfonts wheel's Noto CJK fonts (so Chinese renders)."""
    import mplfonts

    fonts = Path(mplfonts.__file__).parent / "fonts"
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"<dir>{fonts}</dir>\n<cachedir>{folder / 'fc-cache'}</cachedir>\n"
        "<selectfont><rejectfont><glob>*SimHei*</glob></rejectfont></selectfont>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, url: str):
        import websocket  # websocket-client, installed with jupyter_server

        self.ws = websocket.create_connection(url, timeout=120, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        """Send a command and return its result (events that arrive meanwhile are kept)."""
        import json

        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str) -> dict:
        """Block until an event named ``method`` arrives (or the socket times out)."""
        import json

        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == method:
                return message
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self) -> None:
        self.ws.close()


def _page_errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            args = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            errors.append(f"load failed: {params.get('errorText')}")
    return errors


def browse_pack(chromium: str, index: Path, workdir: Path) -> dict:
    """Open ``index`` in headless Chromium, follow every link, collect every problem.

    Returns
    -------
    dict
        ``problems`` (list of str: console errors, exceptions, failed loads, missing images,
        broken links or anchors, remote URLs), ``pages`` (visited HTML files) and
        ``screenshots`` (PNG paths: the index and the first report page).
    """
    import base64
    import json
    import os
    import subprocess
    import time
    import urllib.request
    from urllib.parse import unquote, urlparse

    workdir.mkdir(parents=True, exist_ok=True)
    profile = workdir / "profile"
    env = dict(os.environ, FONTCONFIG_FILE=str(_fontconfig_file(workdir)))
    proc = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    problems: list[str] = []
    visited: list[Path] = []
    shots: list[Path] = []
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"chromium did not start (exit code {proc.poll()})")
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        tab = DevTools(pages[0]["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            tab.call(f"{domain}.enable")
        queue = [index.resolve()]
        while queue:
            page = queue.pop(0)
            if page in visited:
                continue
            visited.append(page)
            tab.events.clear()
            nav = tab.call("Page.navigate", url=page.as_uri())
            if nav.get("errorText"):
                problems.append(f"{page.name}: cannot open ({nav['errorText']})")
                continue
            tab.wait_for("Page.loadEventFired")
            time.sleep(0.3)  # let late console messages arrive
            tab.evaluate("1")
            problems += [f"{page.name}: {e}" for e in _page_errors(tab.events)]
            problems += [f"{page.name}: missing image {s}" for s in tab.evaluate(_JS_BROKEN_IMAGES)]
            problems += [f"{page.name}: anchor {h} has no target"
                         for h in tab.evaluate(_JS_MISSING_ANCHORS)]
            if len(shots) < 2:
                shot = workdir / f"{page.stem}.png"
                data = tab.call("Page.captureScreenshot", format="png")["data"]
                shot.write_bytes(base64.b64decode(data))
                shots.append(shot)
            for href in tab.evaluate(_JS_LINKS):
                if href.startswith("#"):
                    continue
                parsed = urlparse(href)
                if parsed.scheme in {"http", "https"}:
                    if page == index.resolve():
                        problems.append(f"{page.name}: links outside the pack: {href}")
                    continue
                target = (page.parent / unquote(parsed.path)).resolve()
                if not target.is_file():
                    problems.append(f"{page.name}: broken link {href}")
                elif target.suffix == ".html":
                    queue.append(target)
                elif target.suffix == ".ipynb":
                    try:
                        json.loads(target.read_text(encoding="utf-8"))
                    except ValueError:
                        problems.append(f"{page.name}: {href} is not a notebook")
        tab.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"problems": problems, "pages": visited, "screenshots": shots}


@pytest.fixture
def chromium() -> str:
    """Path of Chromium; skips the test (saying how to get it) when absent."""
    path = find_chromium()
    if path is None:
        pytest.skip("headless browser test needs Chromium: apt-get install chromium "
                    "(.ci/run installs it), or set EVALKIT_CHROMIUM=/path/to/chrome")
    return path


@pytest.fixture
def browse(chromium: str, tmp_path: Path) -> Callable[[Path], dict]:
    """``browse(index)``: run :func:`browse_pack` on a pack and copy screenshots to
    ``$EVALKIT_SCREENSHOT_DIR`` when that is set."""

    def run(index: Path) -> dict:
        result = browse_pack(chromium, index, tmp_path / "browser")
        target = os.environ.get("EVALKIT_SCREENSHOT_DIR")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            for shot in result["screenshots"]:
                shutil.copy2(shot, Path(target) / f"{index.parent.name}_{shot.name}")
        return result

    return run
