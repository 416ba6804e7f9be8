"""Bad input gives one `error` event with its own code and exit status, and no model directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mevlab.train.synthetic import write_arrow

from .helpers import ROOT, cli_env, model_dirs, run_cli


def _expect_error(tmp_path: Path, data: Path, code: str, status: int, *extra: str) -> dict:
    out = tmp_path / "models"
    run = run_cli("--input", str(data), "--out", str(out), *extra)
    assert run.code == status, run.stderr
    error = run.last()
    assert error["event"] == "error" and error["code"] == code, error
    assert error["message"]
    assert run.of("error") == [error] and not run.of("done")
    assert model_dirs(out) == []
    return error


def _table_file(tmp_path: Path, table: pa.Table, columns: dict) -> Path:
    for name, values in columns.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, values)
    return write_arrow(table, tmp_path / "input.arrow")


def test_unknown_model(tmp_path: Path, arrow_file: Path) -> None:
    error = _expect_error(tmp_path, arrow_file, "unknown_model", 2, "--model", "catboost", "--module", "arbitrage")
    assert "xgb, lgbm, torch" in error["message"]


def test_missing_input(tmp_path: Path) -> None:
    _expect_error(tmp_path, tmp_path / "nope.arrow", "input_not_found", 2, "--model", "xgb")


def test_empty_input(tmp_path: Path, table: pa.Table) -> None:
    empty = write_arrow(table.slice(0, 0), tmp_path / "empty.arrow")
    _expect_error(tmp_path, empty, "empty_input", 2, "--model", "xgb", "--module", "arbitrage")


def test_empty_split(tmp_path: Path, table: pa.Table) -> None:
    same_time = pa.array(np.full(table.num_rows, 1_767_225_600_000), pa.uint64())
    data = _table_file(tmp_path, table, {"ts_ms": same_time})
    error = _expect_error(tmp_path, data, "empty_split", 2, "--model", "lgbm", "--module", "arbitrage")
    assert error["split"] == "train"  # rows of one timestamp go to the later split


def test_missing_target(tmp_path: Path, arrow_file: Path) -> None:
    error = _expect_error(
        tmp_path, arrow_file, "missing_target", 2, "--model", "xgb", "--module", "arbitrage", "--target", "won"
    )
    assert error["column"] == "won"


def test_missing_feature(tmp_path: Path, arrow_file: Path) -> None:
    _expect_error(
        tmp_path,
        arrow_file,
        "missing_feature",
        2,
        "--model",
        "xgb",
        "--features",
        "f_hotpath_us,f_nope",
        "--target",
        "cf_would_land",
    )


def test_nan_only_feature(tmp_path: Path, table: pa.Table) -> None:
    data = _table_file(tmp_path, table, {"f_hotpath_us": pa.array(np.full(table.num_rows, np.nan))})
    error = _expect_error(tmp_path, data, "nan_feature", 2, "--model", "xgb", "--module", "arbitrage")
    assert error["column"] == "f_hotpath_us"


def test_null_only_feature(tmp_path: Path, table: pa.Table) -> None:
    data = _table_file(tmp_path, table, {"f_hotpath_us": pa.nulls(table.num_rows, pa.float64())})
    _expect_error(tmp_path, data, "nan_feature", 2, "--model", "lgbm", "--module", "arbitrage")


def test_text_feature(tmp_path: Path, arrow_file: Path) -> None:
    error = _expect_error(
        tmp_path,
        arrow_file,
        "text_feature",
        2,
        "--model",
        "torch",
        "--features",
        "f_hotpath_us,id",
        "--target",
        "cf_would_land",
    )
    assert error["column"] == "id"


def test_target_that_is_not_binary(tmp_path: Path, arrow_file: Path) -> None:
    _expect_error(
        tmp_path,
        arrow_file,
        "bad_target",
        2,
        "--model",
        "xgb",
        "--features",
        "f_hotpath_us",
        "--target",
        "f_route_hops",
    )


def test_unknown_parameter(tmp_path: Path, arrow_file: Path) -> None:
    error = _expect_error(
        tmp_path, arrow_file, "bad_params", 2, "--model", "xgb", "--module", "arbitrage", "--params", '{"max_dpth": 3}'
    )
    assert error["param"] == "max_dpth"


def test_bad_arguments(tmp_path: Path, arrow_file: Path) -> None:
    _expect_error(tmp_path, arrow_file, "bad_args", 2, "--model", "xgb", "--gpu", "maybe")


@pytest.mark.parametrize(
    ("model", "code"), [("torch", "gpu_unavailable"), ("xgb", "gpu_unavailable"), ("lgbm", "gpu_unsupported")]
)
def test_gpu_true_without_a_gpu(tmp_path: Path, arrow_file: Path, model: str, code: str) -> None:
    # cli_env() hides every GPU (CUDA_VISIBLE_DEVICES=""); PyPI's LightGBM has no CUDA at all
    error = _expect_error(tmp_path, arrow_file, code, 3, "--model", model, "--module", "arbitrage", "--gpu", "true")
    assert "--gpu true" in error["message"]


def test_gpu_auto_without_a_gpu_trains_on_the_cpu(tmp_path: Path, arrow_file: Path) -> None:
    run = run_cli(
        "--input",
        str(arrow_file),
        "--out",
        str(tmp_path),
        "--model",
        "lgbm",
        "--module",
        "arbitrage",
        "--gpu",
        "auto",
        "--n-estimators",
        "5",
    )
    assert run.code == 0, run.stderr
    (result,) = run.last()["models"]
    assert result["device"] == "cpu" and "CUDA" in result["device_note"]


@pytest.mark.parametrize(
    ("model", "sig", "status"),
    [("xgb", signal.SIGTERM, 143), ("lgbm", signal.SIGINT, 130), ("torch", signal.SIGTERM, 143)],
)
def test_cancelled_midway(tmp_path: Path, table: pa.Table, model: str, sig: signal.Signals, status: int) -> None:
    data = write_arrow(table, tmp_path / "opps.arrow")
    out = tmp_path / "models"
    args = ["--input", str(data), "--out", str(out), "--model", model, "--module", "arbitrage"]
    args += ["--params", json.dumps({"n_estimators": 100000, "early_stopping_rounds": 0, "threads": 1})]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mevlab.train", *args],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "iteration" and events[-1]["iteration"] == 3:
            os.kill(proc.pid, sig)
            break
    events += [json.loads(line) for line in proc.stdout]
    assert proc.wait(timeout=60) == status
    assert events[-1]["event"] == "error" and events[-1]["code"] == "cancelled"
    assert max(e["iteration"] for e in events if e["event"] == "iteration") < 100000
    assert model_dirs(out) == []
