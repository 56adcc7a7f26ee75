"""Figure style: a CJK font shipped by a PyPI wheel, seaborn theme, and the synthetic-data mark.

Call :func:`use` once at the top of a notebook. It registers Noto Sans CJK SC from the
``mplfonts`` wheel (SIL Open Font License; nothing is downloaded), so Chinese labels render, and
remembers the report language and whether the data are synthetic, so every figure drawn by
:mod:`evalkit.report` carries a visible "synthetic data" mark when they are.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager

from .._shared.exceptions import EvalkitError
from .._shared.validation import check_option
from .context import LANGUAGES, SYNTHETIC_MARK_GID, ReportContext, current
from .context import plot_language as plot_language  # re-exported: every result's plot() uses it
from .figcheck import install
from .labels import t

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"
_FONT_READY = False


def cjk_font_path() -> Path:
    """Path of the CJK font file inside the installed ``mplfonts`` wheel.

    Raises
    ------
    EvalkitError
        If the wheel is not installed (it is a core dependency of evalkit).
    """
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise EvalkitError(
            "The CJK font package 'mplfonts' is not installed; Chinese labels cannot render. "
            "Reinstall evalkit (pip install -e .) to get it."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise EvalkitError(f"CJK font file not found at {path}; reinstall the 'mplfonts' package.")
    return path


def register_cjk_font() -> str:
    """Register the CJK font with matplotlib and put it first among sans-serif fonts (idempotent).

    Examples
    --------
    >>> import matplotlib
    >>> from evalkit.report import register_cjk_font
    >>> family = register_cjk_font()
    >>> matplotlib.rcParams["font.sans-serif"][0] == family
    True
    """
    global _FONT_READY
    if not _FONT_READY:
        font_manager.fontManager.addfont(str(cjk_font_path()))
        _FONT_READY = True
    fallback = list(mpl.rcParams["font.sans-serif"])
    if CJK_FONT_NAME not in fallback:
        mpl.rcParams["font.sans-serif"] = [CJK_FONT_NAME, *fallback]
    return CJK_FONT_NAME


def use(language: str = "zh", synthetic: bool | None = False) -> ReportContext:
    """Set the report language, the synthetic-data mark and the figure style.

    Parameters
    ----------
    language : {"zh", "en"}
        Language of headings, labels and table headers.
    synthetic : bool
        Whether the data are the synthetic demo panel; figures then carry a visible mark.

    Returns
    -------
    ReportContext
        The active settings.

    Examples
    --------
    >>> from evalkit.report import current, use
    >>> ctx = use("en", synthetic=True)
    >>> ctx.language, ctx.synthetic
    ('en', True)
    >>> use("zh", synthetic=False).language  # back to the default
    'zh'
    """
    check_option("language", language, LANGUAGES)
    family = register_cjk_font()
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["figure.dpi"] = 100
    mpl.rcParams["savefig.dpi"] = 120
    mpl.rcParams["figure.autolayout"] = False
    context = current()
    context.language = language
    context.synthetic = bool(synthetic)
    context.language_chosen = True
    install()  # every figure drawn from now on is checked for raw names, NaN and the other language
    return context


def mark_synthetic(fig, synthetic: bool | None = None, language: str | None = None) -> None:
    """Add the synthetic-data mark to ``fig`` when the data are synthetic.

    Parameters
    ----------
    fig : matplotlib Figure
        The figure to mark.
    synthetic : bool, optional
        Overrides the active context.
    language : str, optional
        Overrides the active context.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from evalkit.report import mark_synthetic
    >>> fig, ax = plt.subplots()
    >>> mark_synthetic(fig, synthetic=True, language="en")
    >>> any("synthetic" in t.get_text().lower() for t in fig.texts)
    True
    >>> plt.close(fig)
    """
    flag = current().synthetic if synthetic is None else synthetic
    if not flag or any(t.get_gid() == SYNTHETIC_MARK_GID for t in fig.texts):
        return
    register_cjk_font()
    fig.text(
        0.995,
        0.005,
        t("synthetic_mark", language),
        ha="right",
        va="bottom",
        fontsize=8,
        color="#b22222",
        family=[CJK_FONT_NAME, "DejaVu Sans"],
        alpha=0.9,
        gid=SYNTHETIC_MARK_GID,  # moved below every other artist when the figure is shown or saved
    )
