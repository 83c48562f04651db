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
from carbonbudget.outputs.tables import COLUMN_UNITS, column_title
from carbonbudget.science.balance import INTENSITY_PREFIX

# the workbook's creation date: fixed, so a rerun writes the same bytes
CREATED = dt.datetime(2000, 1, 1)
KEY_COLUMNS = {
    "level": "the level of the row",
    "code": "the region's code (text)",
    "name": "the region's name",
    "year": "the year",
}


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


def write_workbook(tables: dict[str, pd.DataFrame], path: str, title: str) -> None:
    """``tables`` (level -> budget table) as the workbook at ``path``: a README sheet, then
    one sheet per level (headers, a units row, the rows; panes frozen under the units)."""
    # lazy: only the budget stage writes the workbook
    import xlsxwriter

    with atomic_output(path) as tmp:
        book = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_urls": False})
        book.set_properties({"title": title, "created": CREATED})
        bold = book.add_format({"bold": True})
        unit = book.add_format({"italic": True, "font_color": "#555555"})
        readme = book.add_worksheet("README")
        readme.write(0, 0, title, bold)
        readme.write(
            1,
            0,
            "One sheet per level, one row per region and year; the second row gives each "
            "column's unit. An empty cell is unknown, never 0. The same tables are in "
            "tables/budget_<level>.csv and .parquet.",
        )
        readme.write_row(3, 0, ["column", "unit", "meaning"], bold)
        columns = list(dict.fromkeys(c for t in tables.values() for c in t.columns))
        for i, col in enumerate(columns, start=4):
            readme.write_row(i, 0, [col, column_unit(col), column_meaning(col)])
        readme.set_column(0, 0, 30)
        readme.set_column(2, 2, 100)
        for level, table in tables.items():
            sheet = book.add_worksheet(level[:31])
            sheet.write_row(0, 0, list(table.columns), bold)
            sheet.write_row(1, 0, [column_unit(c) for c in table.columns], unit)
            for r, cells in enumerate(_cells(table), start=2):
                sheet.write_row(r, 0, cells)
            sheet.freeze_panes(2, 0)
        book.close()
