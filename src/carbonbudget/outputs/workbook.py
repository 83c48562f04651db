"""The budget tables as one Excel workbook beside the CSVs: a spreadsheet user double-clicks it
and sees 东城区, not mojibake (Excel reads a CSV without a byte-order mark in the system's
code page), one sheet per level with a units row under the headers, and a README sheet that
says what every column is.

Written with XlsxWriter, whose files are byte-identical on a rerun once the creation date is
fixed (it stamps its zip members with a constant date).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from carbonbudget.core.io import atomic_output
from carbonbudget.outputs.language import level_phrase
from carbonbudget.outputs.tables import COLUMN_UNITS, column_title
from carbonbudget.science.balance import GDP_PREFIX, INTENSITY_PREFIX

# the workbook's creation date: fixed, so a rerun writes the same bytes
CREATED = dt.datetime(2000, 1, 1)
KEY_COLUMNS = {
    "level": "the level of the row",
    "code": "the region's code (text)",
    "name": "the region's name",
    "year": "the year",
}


# The Chinese header of every budget column (outputs.maps.language zh or both); the percentiles,
# valid fractions, codes of parents and intensities follow the patterns of column_zh
COLUMNS_ZH = {
    "level": "级别",
    "code": "代码",
    "name": "名称",
    "year": "年份",
    "area_km2": "面积",
    "valid_fraction": "有效面积比例",
    "outside_grid_share": "网格外面积比例",
    "rh_tgc": "异养呼吸（RH）",
    "nep_tgc": "净生态系统生产力（NEP）",
    "rcs_tgc": "岩石风化碳汇（RCS）",
    "ecs_tgc": "生态系统碳汇（ECS）",
    "rcs_tgco2": "岩石风化碳汇（RCS，CO2）",
    "ecs_tgco2": "生态系统碳汇（ECS，CO2）",
    "ce_tgco2": "碳排放（CE）",
    "cnc_tgco2": "碳中和能力（CNC）",
    "cnc_flux_tco2_km2": "单位面积碳中和能力",
    "ce_flux_tco2_km2": "单位面积碳排放",
    "ecs_flux_tco2_km2": "单位面积生态系统碳汇",
    "rcs_flux_tco2_km2": "单位面积岩石风化碳汇",
    "in_region_layer": "位于区域图层内",
    "ce_known_area_fraction": "排放已知面积比例",
    "ce_missing_members": "缺少排放的下级区域",
    "ce_known_fraction": "已知排放比例",
    "status": "碳收支状态",
    "status_note": "状态说明",
    "source_sink_ratio": "源汇比（CE / ECS）",
    "ecosystem_source": "生态系统为碳源",
    "cv": "脆弱性系数（Cv）",
    "cer": "碳排放风险（CER）",
    "imbalance_risk_index": "碳失衡风险指数",
    "ce_per_capita_tco2": "人均碳排放",
    "ecs_per_capita_tco2": "人均生态系统碳汇",
    "p_surplus": "碳盈余概率",
    "population_persons": "人口",
    "status_robust": "状态稳健",
    "note": "说明",
}
_PERCENTILE_ZH = {"p05": "第 5 百分位", "p50": "中位数", "p95": "第 95 百分位"}


def column_zh(column: str) -> str | None:
    """The Chinese header of a budget column; None where it has none (it keeps its name)."""
    if column in COLUMNS_ZH:
        return COLUMNS_ZH[column]
    m = re.fullmatch(r"(.+)_(p05|p50|p95)", column)
    if m and column_zh(m.group(1)):
        return f"{column_zh(m.group(1))}，{_PERCENTILE_ZH[m.group(2)]}"
    m = re.fullmatch(r"(rh|nep|rcs|ecs)_valid_fraction", column)
    if m:
        return f"{m.group(1).upper()} 有效面积比例"
    if column.endswith("_code"):
        return f"所属{level_phrase(column[: -len('_code')]).render('zh')}代码"
    if column.startswith(INTENSITY_PREFIX):
        return "碳排放强度"
    if column.startswith(GDP_PREFIX):
        return "地区生产总值（GDP）"
    return None


def column_header(column: str, language: str = "en") -> str:
    """A column's header in the workbook: its name (en), its Chinese (zh; the name where it
    has none) or both."""
    zh = column_zh(column) if language != "en" else None
    if zh is None:
        return column
    return zh if language == "zh" else f"{column} / {zh}"


def column_unit(column: str) -> str:
    """The unit of a budget column ("" for codes and text)."""
    if column in COLUMN_UNITS:
        return COLUMN_UNITS[column][0]
    m = re.fullmatch(r"(.+)_(p05|p50|p95)", column)
    if m and m.group(1) in COLUMN_UNITS:
        return COLUMN_UNITS[m.group(1)][0]
    if re.fullmatch(r"(rh|nep|rcs|ecs)_valid_fraction", column):
        return "1"
    if column.startswith(INTENSITY_PREFIX):
        return f"kg CO2 per {column[len(INTENSITY_PREFIX) :]}"
    if column.startswith(GDP_PREFIX):
        return column[len(GDP_PREFIX) :].upper()
    return ""


def column_meaning(column: str) -> str:
    """What a budget column holds, in words."""
    if column in KEY_COLUMNS:
        return KEY_COLUMNS[column]
    if column.endswith("_code"):
        return f"the code of the {column[: -len('_code')].replace('_', ' ')} the region lies in"
    m = re.fullmatch(r"(rh|nep|rcs|ecs)_valid_fraction", column)
    if m:
        return f"share of the region's whole area where {m.group(1).upper()} is known"
    title = column_title(column)
    return title[1] if title else ""


def _column_cells(column: pd.Series) -> np.ndarray:
    """A column as cells: numbers, text, None for unknown, "+inf" for +inf, yes/no for flags
    (column by column: a loop over cells costs seconds on a country's county table)."""
    if column.dtype.kind == "b":
        return np.where(column.to_numpy(), "yes", "no").astype(object)
    if column.dtype.kind in "iu":
        return column.to_numpy().astype(object)
    if column.dtype.kind == "f":
        values = column.to_numpy(dtype="float64")
        cells = values.astype(object)
        cells[np.isnan(values)] = None
        cells[np.isposinf(values)] = "+inf"
        cells[np.isneginf(values)] = "−inf"
        return cells
    cells = column.astype(object).to_numpy().copy()
    flags = np.array([isinstance(v, (bool, np.bool_)) for v in cells], dtype=bool)
    cells[flags] = ["yes" if v else "no" for v in cells[flags]]
    cells[pd.isna(column).to_numpy()] = None
    return cells


def _cells(frame: pd.DataFrame) -> list[list]:
    """Rows of a table as cells (:func:`_column_cells`)."""
    columns = [_column_cells(frame[c]) for c in frame.columns]
    return [list(row) for row in zip(*columns)]


README_EN = (
    "One sheet per level, one row per region and year; the second row gives each column's "
    "unit. An empty cell is unknown, never 0. The same tables are in "
    "tables/budget_<level>.csv and .parquet."
)
README_ZH = (
    "每个级别一张工作表，每个区域每年一行；第二行为各列的单位。空单元格表示未知，而非 0。"
    "相同的表格另见 tables/budget_<level>.csv 与 .parquet。"
)


def write_workbook(
    tables: dict[str, pd.DataFrame], path: str, title: str, language: str = "en"
) -> None:
    """``tables`` (level -> budget table) as the workbook at ``path``: a README sheet, then
    one sheet per level (headers in ``language``, a units row, the rows; panes frozen under
    the units)."""
    # lazy: only the budget stage writes the workbook
    import xlsxwriter

    with atomic_output(path) as tmp:
        book = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_urls": False})
        book.set_properties({"title": title, "created": CREATED})
        bold = book.add_format({"bold": True})
        unit = book.add_format({"italic": True, "font_color": "#555555"})
        readme = book.add_worksheet("README")
        readme.write(0, 0, title, bold)
        chinese = language != "en"
        readme.write(1, 0, README_EN if language != "zh" else README_ZH)
        if language == "both":
            readme.write(2, 0, README_ZH)
        heads = ["column", "unit", "meaning"] + (["中文"] if chinese else [])
        readme.write_row(3, 0, heads, bold)
        columns = list(dict.fromkeys(c for t in tables.values() for c in t.columns))
        for i, col in enumerate(columns, start=4):
            row = [col, column_unit(col), column_meaning(col)]
            readme.write_row(i, 0, row + ([column_zh(col) or ""] if chinese else []))
        readme.set_column(0, 0, 30)
        readme.set_column(2, 2, 100)
        readme.set_column(3, 3, 30)
        for level, table in tables.items():
            sheet = book.add_worksheet(level[:31])
            sheet.write_row(0, 0, [column_header(c, language) for c in table.columns], bold)
            sheet.write_row(1, 0, [column_unit(c) for c in table.columns], unit)
            for r, cells in enumerate(_cells(table), start=2):
                sheet.write_row(r, 0, cells)
            sheet.freeze_panes(2, 0)
        book.close()
