"""Figures, maps, tables and bilingual labels for the evidence pack.

``report`` draws tidy frames; it imports no estimator. Typical notebook use::

    from evalkit import report
    report.use(language=language, synthetic=df.attrs.get("synthetic"))
    result.plot()                       # -> report.plot_effects(result.to_frame())
    report.unit_map(frame, "amount_wan")
    report.table(frame, title="...")   # labelled headers, formatted numbers, no index
    report.save_headlines(output_dir, "30_first_unit_insurance", records)
"""

from . import notebook
from .conclusion import target_shortfalls
from .context import current
from .figcheck import allow_names
from .formats import (
    MISSING,
    format_money,
    format_number,
    format_percent,
    format_pvalue,
    format_share,
)
from .headlines import HEADLINE_FIELDS, headline, load_headlines, save_headlines
from .labels import (
    LABELS,
    UNITS,
    join_list,
    label_or_name,
    t,
    translate_columns,
    unit_names,
    unit_of_measure,
    value_label,
)
from .maps import boundaries_available, unit_map, unit_polygons
from .notebook import format_p, synthetic_banner
from .page_text import PageText, PageTextError, page_text
from .plots import overlay_effects, plot_effects, timing_heatmap, trend_plot
from .style import mark_synthetic, register_cjk_font, use
from .summary import conclusion_box, key_facts_box
from .tables import Table, display_table, table
from .verdict import shock_assumption

__all__ = [
    "allow_names",
    "HEADLINE_FIELDS",
    "LABELS",
    "MISSING",
    "UNITS",
    "Table",
    "boundaries_available",
    "conclusion_box",
    "current",
    "display_table",
    "format_money",
    "format_number",
    "format_p",
    "format_percent",
    "format_pvalue",
    "format_share",
    "headline",
    "join_list",
    "key_facts_box",
    "page_text",
    "PageText",
    "PageTextError",
    "label_or_name",
    "load_headlines",
    "mark_synthetic",
    "notebook",
    "overlay_effects",
    "plot_effects",
    "register_cjk_font",
    "save_headlines",
    "shock_assumption",
    "synthetic_banner",
    "t",
    "target_shortfalls",
    "table",
    "timing_heatmap",
    "translate_columns",
    "trend_plot",
    "unit_map",
    "unit_names",
    "unit_of_measure",
    "unit_polygons",
    "use",
    "value_label",
]
