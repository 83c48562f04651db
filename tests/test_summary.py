"""The end-of-run summary and the error block a person reads."""

import os
import time

import pandas as pd
import pytest

from carbonbudget.core.errors import InputChecksFailed, InputDataError
from carbonbudget.pipeline.paths import ConfigSections, config_sections
from carbonbudget.pipeline.publish import MANIFEST
from carbonbudget.pipeline.summary import run_summary


def _results(tmp_path):
    res = tmp_path / "results"
    (res / "tables").mkdir(parents=True)
    pd.DataFrame(
        {
            "year": [2002, 2001],
            "ecs_tgco2": [10.0, 11.0],
            "ce_tgco2": [12.5, 12.0],
            "cnc_tgco2": [-2.5, -1.0],
            "status": ["deficit", "deficit"],
        }
    ).to_csv(res / "tables/budget_study_area.csv", index=False)
    pd.DataFrame(
        {
            "code": ["01", "02", "03", "04", "01"],
            "year": [2002, 2002, 2002, 2002, 2001],
            "status": ["deficit", "surplus", None, "deficit", "surplus"],
        }
    ).to_csv(res / "tables/budget_county.csv", index=False)
    (res / MANIFEST).write_text('{"files": []}')
    return res


def test_summary_names_the_outputs_and_the_last_year(tmp_path):
    res = _results(tmp_path)
    lines = run_summary(str(res), ["county", "province"])
    text = "\n".join(lines)
    assert lines[0] == f"carbonbudget: finished; results in {res}/"
    assert f"{res}/tables/budget_study_area.csv" in text
    assert "gpkg" not in text  # only files that exist are listed
    assert (
        "study area 2002: ECS 10.00 Tg CO2 yr-1, CE 12.50 Tg CO2 yr-1, CNC -2.50 Tg CO2 yr-1 "
        "(deficit)" in text
    )
    assert "county 2002: 4 regions (2 deficit, 1 no status, 1 surplus)" in text
    assert "known on" not in text  # no valid_fraction column: nothing claimed


def test_summary_says_on_how_much_of_the_area_the_headline_rests(tmp_path):
    res = _results(tmp_path)
    path = res / "tables/budget_study_area.csv"
    pd.read_csv(path).assign(valid_fraction=[0.52, 0.52]).to_csv(path, index=False)
    text = "\n".join(run_summary(str(res), ["county"]))
    assert "CNC -2.50 Tg CO2 yr-1 (deficit; the sink is known on 52 % of the study area" in text
    pd.read_csv(path).assign(valid_fraction=[1.0, 1.0]).to_csv(path, index=False)
    assert "known on" not in "\n".join(run_summary(str(res), ["county"]))


def test_summary_warns_when_ce_stands_for_part_of_the_area(tmp_path):
    """National CE without Tibet's counties: the headline says on how much of the area CE is
    known."""
    res = _results(tmp_path)
    path = res / "tables/budget_study_area.csv"
    pd.read_csv(path).assign(ce_known_area_fraction=[0.87, 1.0]).to_csv(path, index=False)
    text = "\n".join(run_summary(str(res), ["county"]))
    assert "(deficit; CE is known on 87 % of the study area: members without emissions" in text
    pd.read_csv(path).assign(ce_known_area_fraction=[1.0, 0.5]).to_csv(path, index=False)
    assert "CE is known" not in "\n".join(run_summary(str(res), ["county"]))


def test_a_run_without_ecs_prints_its_numbers(tmp_path):
    """An RCS-only run (no NPP, no climate) printed no numbers at all."""
    res = _results(tmp_path)
    pd.DataFrame(
        {"year": [2016, 2017], "rcs_tgco2": [55.0, 55.0], "ce_tgco2": [9000.0, 9100.5]}
    ).to_csv(res / "tables/budget_study_area.csv", index=False)
    text = "\n".join(run_summary(str(res), ["county"]))
    assert "study area 2017: RCS 55.00 Tg CO2 yr-1, CE 9,100.50 Tg CO2 yr-1" in text
    assert "CNC" not in text and "regions (" not in text
    path = res / "tables/budget_study_area.csv"
    pd.read_csv(path).assign(valid_fraction=0.94).to_csv(path, index=False)
    text = "\n".join(run_summary(str(res), ["county"]))
    # no status_note in a table without a status: the share's own column is named
    assert "(the sink is known on 94 % of the study area: valid_fraction in tables/" in text


def test_summary_points_at_the_map_in_the_format_chosen(tmp_path):
    from carbonbudget.pipeline.paths import Layout

    res = _results(tmp_path)
    svg = Layout(str(res), "county", "svg").budget_map("cnc", "county").replace("/.work", "")
    assert svg == f"{res}/figures/maps/cnc_county.svg"
    os.makedirs(os.path.dirname(svg))
    open(svg, "w").close()
    text = "\n".join(run_summary(str(res), ["county", "province"]))
    assert f"{svg}  — carbon neutral capacity per county (map)" in text


def test_summary_is_silent_about_results_older_than_the_run(tmp_path):
    res = _results(tmp_path)
    old = time.time() - 3600
    os.utime(res / MANIFEST, (old, old))
    assert run_summary(str(res), ["county"], since=time.time() - 60) == []
    assert run_summary(str(res), ["county"], since=old - 1)[0].startswith("carbonbudget")


def test_error_block_lists_file_variable_problem_and_fix():
    err = InputDataError("negative runoff", path="q_2003.tif", variable="runoff", fix="mask it")
    assert err.block() == [
        "  file:     q_2003.tif",
        "  variable: runoff",
        "  problem:  negative runoff",
        "  fix:      mask it",
    ]
    both = InputChecksFailed([err, InputDataError("gone", path="npp_2004.tif")])
    assert both.block()[0] == "  (1 of 2)" and "    file:     npp_2004.tif" in both.block()


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_config_sections_param_is_a_short_order_free_digest(order):
    cfg = {k: {"x": 1, "y": [1, 2]} if k == "a" else {"z": "w"} for k in order}
    rep = repr(config_sections(cfg, "a", "b"))
    assert rep == repr(ConfigSections({"b": {"z": "w"}, "a": {"y": [1, 2], "x": 1}}))
    assert rep.startswith("config sections a=") and len(rep) < 60
    changed = config_sections({"a": {"x": 2, "y": [1, 2]}, "b": {"z": "w"}}, "a", "b")
    assert repr(changed) != rep and repr(changed).split()[-1] == rep.split()[-1]  # b unchanged


def test_snakemake_log_is_kept_beside_the_job_logs_with_its_last_lines(tmp_path):
    from carbonbudget.core.logs import keep_run_log

    src = tmp_path / ".snakemake/log/2026-01-01T000000.snakemake.log"
    src.parent.mkdir(parents=True)
    src.write_text("Building DAG of jobs...\n")
    made = keep_run_log([str(src)], str(tmp_path / "results/logs"))
    assert made == [str(tmp_path / "results/logs/snakemake" / src.name)]
    with open(src, "a") as fh:  # Snakemake goes on writing after onstart
        fh.write("39 of 39 steps (100%) done\n")
    assert open(made[0]).read().endswith("39 of 39 steps (100%) done\n")
    assert keep_run_log([str(src)], str(tmp_path / "results/logs")) == []  # once per run


def test_a_jobs_log_ends_with_its_wall_time_cpu_time_and_peak_memory(tmp_path):
    """A job that waits (here: sleeps) shows a CPU time far below its wall time, one that
    computes a CPU time close to it: the line that tells a job waiting for the disk from one
    computing."""
    import re

    from carbonbudget.core.logs import log_to

    def done_line(name, work):
        path = tmp_path / f"{name}.log"
        with log_to(str(path), name):
            work()
        last = path.read_text().splitlines()[-1]
        found = re.search(r"done in ([\d.]+) s \(CPU ([\d.]+) s, peak memory (\d+) MiB\)", last)
        assert found, last
        return float(found[1]), float(found[2]), int(found[3])

    def spin():
        start = time.process_time()
        while time.process_time() - start < 0.5:
            pass

    wall, cpu, peak = done_line("waits", lambda: time.sleep(0.5))
    assert wall >= 0.5 and cpu <= 0.1 and peak > 0
    wall, cpu, _ = done_line("computes", spin)
    assert cpu >= 0.5 and cpu <= wall + 0.1
