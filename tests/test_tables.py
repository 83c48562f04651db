"""Published tables: region codes survive as text, one name for the region key."""

import pandas as pd

from carbonbudget.core.io import write_table


def test_codes_are_quoted_text_and_numbers_are_not(tmp_path):
    path = tmp_path / "t.csv"
    write_table(pd.DataFrame({"code": ["010101", "110000"], "ce_tgco2": [1.5, 2.0]}), path)
    lines = path.read_text().splitlines()
    assert lines == ['"code","ce_tgco2"', '"010101",1.5', '"110000",2.0']
    back = pd.read_csv(path, dtype={"code": str})  # as docs/data.md tells
    assert back["code"].tolist() == ["010101", "110000"]


def test_floats_have_twelve_significant_digits_unquoted_and_nan_stays_empty(tmp_path):
    path, parquet = tmp_path / "t.csv", tmp_path / "t.parquet"
    frame = pd.DataFrame(
        {"code": ["a", "b", "c"], "x": [169 / 360, 1234567.891234567891, float("nan")]}
    )
    write_table(frame, path, parquet)
    assert path.read_text().splitlines()[1:] == [
        '"a",0.469444444444',
        '"b",1234567.89123',
        '"c",""',
    ]
    back = pd.read_csv(path)
    assert back["x"].iloc[:2].tolist() == [0.469444444444, 1234567.89123]
    assert back["x"].isna().iloc[2]
    assert pd.read_parquet(parquet)["x"].iloc[0] == 169 / 360  # every bit in the Parquet
    write_table(frame, tmp_path / "ten.csv", digits=10)
    assert (tmp_path / "ten.csv").read_text().splitlines()[1] == '"a",0.4694444444'
