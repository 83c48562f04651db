"""Published tables: region codes survive as text, one name for the region key."""

import pandas as pd

from carbonbudget.io import write_table


def test_codes_are_quoted_text_and_numbers_are_not(tmp_path):
    path = tmp_path / "t.csv"
    write_table(pd.DataFrame({"code": ["010101", "110000"], "ce_tgco2": [1.5, 2.0]}), path)
    lines = path.read_text().splitlines()
    assert lines == ['"code","ce_tgco2"', '"010101",1.5', '"110000",2.0']
    back = pd.read_csv(path, dtype={"code": str})  # as docs/data.md tells
    assert back["code"].tolist() == ["010101", "110000"]
