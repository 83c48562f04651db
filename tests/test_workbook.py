"""The budget workbook: one sheet per level with a units row, a README sheet, names in any
script, unknown values empty, the same bytes on a rerun."""

import zipfile

import numpy as np
import pandas as pd

from carbonbudget.outputs.workbook import column_meaning, column_unit, write_workbook


def _tables():
    county = pd.DataFrame(
        {
            "level": ["county"] * 2,
            "code": ["010101", "110101"],
            "name": ["东城区", "西城区"],
            "year": [2001, 2001],
            "ce_tgco2": [1.5, np.nan],
            "cer": [np.inf, 0.5],
            "ecosystem_source": [True, False],
            "cnc_tgco2_p05": [-1.0, 2.0],
            "province_code": ["010000", "110000"],
        }
    )
    return {"county": county, "study_area": county.iloc[:1].assign(level="study_area")}


def _sheet(path, n):
    """The text and values of sheet ``n`` (1 = README) as the XML holds them."""
    with zipfile.ZipFile(path) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
        sheet = z.read(f"xl/worksheets/sheet{n}.xml").decode()
    return strings, sheet


def test_the_workbook_has_a_readme_a_units_row_and_every_level(tmp_path):
    path = tmp_path / "budget.xlsx"
    write_workbook(_tables(), str(path), "Carbon budget by region, 2001")
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
    for name in ("README", "county", "study_area"):
        assert f'name="{name}"' in book
    strings, sheet = _sheet(path, 2)
    # names in any script, codes as text with their leading zero, units under the headers
    for text in ("东城区", "010101", "Tg CO2 yr-1", "+inf", "yes", "no"):
        assert f">{text}<" in strings, text
    assert '<pane ySplit="2"' in sheet  # headers and units stay in view
    assert sheet.count("<row ") == 4  # headers, units, two regions
    readme, _ = _sheet(path, 1)
    assert ">carbon emissions (Mt CO2 = Tg CO2)<" in readme
    assert ">the code of the province the region lies in<" in readme


def test_unknown_values_are_empty_and_a_rerun_writes_the_same_bytes(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook(_tables(), str(a), "t")
    write_workbook(_tables(), str(b), "t")
    assert a.read_bytes() == b.read_bytes()
    _, sheet = _sheet(a, 2)
    row3 = sheet.split('<row r="4"', 1)[1].split("</row>", 1)[0]  # 西城区: CE unknown
    assert 'r="E4"' not in row3  # no cell, not a 0


def test_units_and_meanings_of_column_families():
    assert column_unit("cnc_tgco2_p95") == "Tg CO2 yr-1"
    assert column_unit("nep_valid_fraction") == "1"
    assert column_unit("ce_intensity_kgco2_per_cny") == "kg CO2 per cny"
    assert column_meaning("city_code") == "the code of the city the region lies in"
    assert column_meaning("rh_valid_fraction").endswith("where RH is known")


def test_the_workbook_job_writes_from_the_parquet_files_what_the_tables_give(tmp_path):
    """Rule budget_workbook reads the budget's Parquet files (the budget job no longer writes
    the workbook): the same bytes as the workbook written from the tables in memory, with the
    period in its title and the sheets in the order of the levels."""
    from helpers import job

    from carbonbudget.core.io import write_table
    from carbonbudget.pipeline.stages.balance import stage

    tables = _tables()
    paths = []
    for level, table in tables.items():
        paths.append(str(tmp_path / f"budget_{level}.parquet"))
        write_table(table, str(tmp_path / f"budget_{level}.csv"), paths[-1])
    direct = tmp_path / "direct.xlsx"
    write_workbook(tables, str(direct), "Carbon budget by region, 2001–2010", language="both")
    out = tmp_path / "budget.xlsx"
    stage.run(
        job(
            "budget_workbook",
            input={"parquet": paths},
            output={"workbook": str(out)},
            params={"years": list(range(2001, 2011)), "levels": list(tables), "language": "both"},
        )
    )
    assert out.read_bytes() == direct.read_bytes()
    with zipfile.ZipFile(out) as z:
        book = z.read("xl/workbook.xml").decode()
    assert book.index('name="county"') < book.index('name="study_area"')
