"""The time-ordered split: no row of a later split is older than, or used to train on, an earlier one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mevlab.train import TrainConfig, TrainError, train
from mevlab.train.features import Matrix
from mevlab.train.split import parse_fractions, time_split
from mevlab.train.synthetic import write_arrow


def _matrix(t: np.ndarray) -> Matrix:
    n = len(t)
    x = np.arange(n, dtype=np.float32).reshape(n, 1)
    y = (np.arange(n) % 2).astype(np.float32)
    return Matrix(x, y, t, ["x"], "number")


def test_splits_are_in_time_order_and_ties_stay_together() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(0, 50, 1000)  # shuffled, with many rows per timestamp
    split = time_split(_matrix(t), (0.7, 0.15, 0.15))
    assert split.train.t.max() < split.valid.t.min()
    assert split.valid.t.max() < split.test.t.min()
    assert split.train.rows + split.valid.rows + split.test.rows == 1000
    # the rows follow their timestamps: x was the row's original position
    assert np.array_equal(
        np.sort(split.train.x[:, 0]), np.sort(np.flatnonzero(t <= split.train.t.max()).astype(np.float32))
    )


def test_a_split_left_empty_by_one_timestamp_is_an_error() -> None:
    with pytest.raises(TrainError) as err:
        time_split(_matrix(np.zeros(100, dtype=np.int64)), (0.7, 0.15, 0.15))
    assert err.value.code == "empty_split"


@pytest.mark.parametrize("text", ["0.7,0.3,0.1", "1,0,0", "a,b", "0.5"])
def test_bad_fractions(text: str) -> None:
    with pytest.raises(TrainError) as err:
        parse_fractions(text)
    assert err.value.code == "bad_args"


def _with_later_rows_scrambled(table: pa.Table, path: Path, from_split: str, split_event: dict) -> Path:
    """The same table with the labels of every row from `from_split` on flipped."""
    bounds = {"valid": split_event["valid"]["from"], "test": split_event["test"]["from"]}
    later = pc.greater_equal(table.column("ts_ms"), pa.scalar(bounds[from_split], pa.uint64()))
    flipped = pc.if_else(later, pc.invert(table.column("cf_would_land")), table.column("cf_would_land"))
    return write_arrow(table.set_column(table.column_names.index("cf_would_land"), "cf_would_land", flipped), path)


@pytest.mark.parametrize("model", ["xgb", "lgbm", "torch"])
def test_the_test_split_is_never_used_for_training(model: str, table: pa.Table, tmp_path: Path) -> None:
    events: list[dict] = []
    params = {"n_estimators": 25, "early_stopping_rounds": 3, "threads": 1, "batch_size": 128}

    def run(path: Path, out: str) -> dict:
        cfg = TrainConfig(input=str(path), models=[model], out=str(tmp_path / out), module="arbitrage", params=params)
        return train(cfg, emit=events.append)["models"][0]

    base = run(write_arrow(table, tmp_path / "a.arrow"), "a")
    split = next(e for e in events if e["event"] == "split")
    test_flipped = run(_with_later_rows_scrambled(table, tmp_path / "b.arrow", "test", split), "b")
    assert test_flipped["id"] == base["id"]  # the same model: test labels played no part
    assert test_flipped["metrics"]["test"]["auc"] < 0.5 < base["metrics"]["test"]["auc"]
    valid_flipped = run(_with_later_rows_scrambled(table, tmp_path / "c.arrow", "valid", split), "c")
    # early stopping (and the MLP's best epoch) read the validation split: flipping it changes the model
    assert valid_flipped["id"] != base["id"]
    assert (
        valid_flipped["metrics"]["train"] != base["metrics"]["train"]
        or valid_flipped["best_iteration"] != base["best_iteration"]
    )
