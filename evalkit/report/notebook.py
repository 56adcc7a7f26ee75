"""The opening every evidence notebook shares: data up to the evaluation year, style, banner.

::

    nb = report.notebook.start(data_dir, year=year, language=language, page="10_pilot_zone")
    panel = nb.panel
    truth = nb.truth("pilot_zone")        # None unless the data are the synthetic demo
    nb.say("sample", n_units=panel["unit_code"].nunique())   # the page's words, see page_text

A page's own words come from its catalogue ``evalkit/report/texts/<page>.toml`` through
:meth:`NotebookStart.text` / :meth:`NotebookStart.say`; the notebook holds no text of its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .context import current
from .labels import join_list, t, unit_names
from .page_text import page_text
from .style import use

P_COLUMNS = ("p_value", "pretrend_p")


@dataclass
class NotebookStart:
    """What :func:`start` prepared for a notebook.

    Attributes
    ----------
    panel : DataFrame
        The validated panel, years up to the evaluation year (``attrs`` kept).
    synthetic : bool
        Whether the data are the synthetic demo panel.
    language : str
        Report language.
    data_dir : Path
        The data folder.
    page : str or None
        The notebook's name (``"10_pilot_zone"``): whose catalogue :meth:`text` reads.
    """

    panel: pd.DataFrame
    synthetic: bool
    language: str
    data_dir: Path
    page: str | None = None
    _truth: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def zh(self) -> bool:
        """Whether the report is in Chinese."""
        return self.language == "zh"

    def text(self, key: str, **fields) -> str:
        """The page's entry ``key`` in the report language, its fields filled in.

        Parameters
        ----------
        key : str
            Entry of ``evalkit/report/texts/<page>.toml``.
        **fields
            Values of the template's named fields (exactly those it uses).

        Returns
        -------
        str
            Markdown text.

        Examples
        --------
        >>> from evalkit.report.notebook import NotebookStart
        >>> nb = NotebookStart(pd.DataFrame(), False, "en", Path("."), page="10_pilot_zone")
        >>> nb.text("title")
        'The pilot zone as a whole'
        """
        if self.page is None:
            raise ValueError("this notebook was started without page=...; pass the notebook's "
                             "name to report.notebook.start to use its text catalogue")
        return page_text(self.page)(key, self.language, **fields)

    def say(self, key: str, **fields) -> None:
        """Show the page's entry ``key`` as Markdown (see :meth:`text`)."""
        from IPython.display import Markdown, display

        display(Markdown(self.text(key, **fields)))

    @property
    def title(self) -> str:
        """The page title (entry ``title`` of the catalogue)."""
        return self.text("title")

    def balanced(self, display_note: bool = True) -> pd.DataFrame:
        """The panel without the units that miss some year (for estimators that need every
        unit-year, such as synthetic control); the page says which units were left out.

        Parameters
        ----------
        display_note : bool, default True
            Show the sentence naming the left-out units (when any).

        Returns
        -------
        DataFrame
            ``panel`` itself when it is balanced; else a copy without the incomplete units
            (``attrs`` kept, ``attrs["left_out_units"]`` naming them).
        """
        rep = self.panel.attrs.get("validation")
        missing = getattr(rep, "missing", None)
        if missing is None or not len(missing):
            return self.panel
        gone = sorted(set(missing["unit_code"]))
        out = self.panel[~self.panel["unit_code"].isin(gone)].copy()
        out.attrs.update({**self.panel.attrs, "left_out_units": gone})
        if display_note:
            from IPython.display import Markdown, display

            names = join_list([f"{code} {name}" for code, name in zip(
                gone, unit_names(gone, self.language, names=self._names_in_data(gone)), strict=True)],
                self.language)
            display(Markdown(f"> **{t('left_out_units', self.language).format(names=names)}**"))
        return out

    def _names_in_data(self, codes) -> dict[str, str]:
        """Names the panel itself gives these units in the report language (user data may name
        units the master does not know)."""
        column = f"name_{self.language}"
        if column not in self.panel.columns:
            return {}
        rows = self.panel[self.panel["unit_code"].isin(codes)]
        return rows.drop_duplicates("unit_code").set_index("unit_code")[column].astype(str).to_dict()

    def truth(self, key: str) -> dict[str, Any] | None:
        """The planted truth of one evaluation (synthetic demo data only, else ``None``)."""
        if not self.synthetic:
            return None
        if self._truth is None:
            path = self.data_dir / "truth.json"
            if not path.exists():
                return None
            from ..data import load_truth

            self._truth = load_truth(path)
        return self._truth.get(key)


def start(data_dir: str | os.PathLike, *, year: int, language: str = "zh", display_banner: bool = True,
          page: str | None = None) -> NotebookStart:
    """Load and validate the panel, keep years up to ``year``, set the style, show the banner.

    Parameters
    ----------
    data_dir : path
        Folder holding ``county_panel.*`` (and, for the demo, ``truth.json``).
    year : int
        Evaluation year; later years are left out.
    language : {"zh", "en"}
        Report language.
    display_banner : bool
        Show the title and the synthetic-data banner (when the data are synthetic).
    page : str, optional
        The notebook's name (``"20_tech_upgrade_subsidies"``); its text catalogue is checked here,
        before any estimate runs, and read by :meth:`NotebookStart.text`. The page's title (entry
        ``title``) is shown first, above the banner.

    See Also
    --------
    open_page : the same opening for a page that reads no panel.
    """
    from ..data import load_panel

    title = page_text(page)("title", language) if page is not None else None  # a bad page fails first
    # missing unit-years were refused (or allowed with --allow-missing) before any notebook ran
    panel = load_panel(data_dir, year=year, allow_missing=True)
    attrs = dict(panel.attrs)
    panel = panel[panel["year"] <= year].copy()
    panel.attrs.update(attrs)
    synthetic = bool(attrs.get("synthetic"))
    _open(title, language, synthetic, display_banner, coverage_note(panel, language))
    return NotebookStart(panel=panel, synthetic=synthetic, language=language, data_dir=Path(data_dir),
                         page=page)


def open_page(data_dir: str | os.PathLike, *, page: str, language: str = "zh", synthetic: bool | None = None,
              display_banner: bool = True) -> NotebookStart:
    """The opening of a page that reads no county panel (allocation, scorecard, method validation).

    Shows the page title, sets the style and shows the synthetic-data banner like :func:`start`,
    without loading the panel (``panel`` is empty).

    Parameters
    ----------
    data_dir : path
        The data folder (its ``SYNTHETIC`` marker says whether the data are the demo).
    page : str
        The notebook's name; its catalogue gives the title and :meth:`NotebookStart.text`.
    language : {"zh", "en"}
    synthetic : bool, optional
        Overrides the marker (``False`` for pages on public data, which carry no banner).
    display_banner : bool
        Show the title and the banner.

    Examples
    --------
    >>> from evalkit.report.notebook import open_page
    >>> nb = open_page("data_raw/demo", page="60_targets_scorecard", language="en", display_banner=False)
    >>> nb.synthetic, nb.panel.empty
    (True, True)
    """
    from ..data import is_synthetic

    title = page_text(page)("title", language)
    flag = is_synthetic(data_dir) if synthetic is None else bool(synthetic)
    _open(title, language, flag, display_banner, None)
    return NotebookStart(panel=pd.DataFrame(), synthetic=flag, language=language, data_dir=Path(data_dir),
                         page=page)


def _open(title: str | None, language: str, synthetic: bool, display_banner: bool, note: str | None) -> None:
    """Title, style, banner and coverage note: the first things every page shows."""
    use(language=language, synthetic=synthetic)
    if not display_banner:
        return
    from IPython.display import Markdown, display

    if title is not None:
        display(Markdown(f"# {title}"))  # the title in the pack's language only
    if synthetic:
        display(synthetic_banner(language=language))
    if note:
        display(Markdown(f"> **{note}**"))


def coverage_note(panel: pd.DataFrame, language: str = "zh") -> str | None:
    """The sentence a page shows when its panel is unbalanced (missing unit-years allowed).

    Parameters
    ----------
    panel : DataFrame
        From :func:`evalkit.data.load_panel` (``attrs["validation"].missing``).
    language : {"zh", "en"}

    Returns
    -------
    str or None
        None for a balanced panel.

    Examples
    --------
    >>> coverage_note(pd.DataFrame()) is None
    True
    """
    rep = panel.attrs.get("validation")
    missing = getattr(rep, "missing", None)
    if missing is None or not len(missing):
        return None
    from ..data.checks import year_ranges

    return t("unbalanced_panel", language).format(
        n=len(missing), units=missing["unit_code"].nunique(), years=year_ranges(missing["year"]))


def format_p(frame: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Display copy of a table with p-value columns as text ("<0.001" when tiny).

    Columns default to ``p_value``, ``pretrend_p`` and any starting with ``p_``.

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.report import format_p
    >>> format_p(pd.DataFrame({"p_value": [0.0002, 0.0312]}))["p_value"].tolist()
    ['<0.001', '0.031']
    """
    out = frame.copy()
    cols = columns or [c for c in out.columns if c in P_COLUMNS or str(c).startswith("p_")]
    for col in cols:
        out[col] = ["" if pd.isna(v) else "<0.001" if v < 0.001 else f"{v:.3f}" for v in out[col]]
    return out


def synthetic_banner(synthetic: bool | None = None, language: str | None = None):
    """A Markdown banner saying the data are synthetic (``None`` when they are not).

    Examples
    --------
    >>> from evalkit.report import synthetic_banner
    >>> synthetic_banner(synthetic=False) is None
    True
    >>> "synthetic" in synthetic_banner(synthetic=True, language="en").data.lower()
    True
    """
    from IPython.display import Markdown

    flag = current().synthetic if synthetic is None else synthetic
    if not flag:
        return None
    return Markdown(f"> **⚠ {t('synthetic_banner', language)}**")
