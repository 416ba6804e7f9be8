"""Inputs: Arrow IPC files and streams, the project's dataset directories, and tables of the user's own."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from mevlab.train import TrainConfig, TrainError, train
from mevlab.train import run as run_module
from mevlab.train.data import load
from mevlab.train.errors import Cancelled
from mevlab.train.publish import publish

from .helpers import model_dirs

QUICK = {"n_estimators": 5, "threads": 1}


def _export(table: pa.Table, root: Path) -> Path:
    """A dataset directory as kernel-helpers' exportDataset writes it: one Parquet file per table, then the manifest."""
    root.mkdir()
    pq.write_table(table, root / "arb_opportunities.parquet", compression="zstd")
    data = (root / "arb_opportunities.parquet").read_bytes()
    entry = {"path": "arb_opportunities.parquet", "table": "arb_opportunities", "rows": table.num_rows}
    entry |= {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "manifest_version": 1,
        "kind": "mevlab.dataset",
        "format": "parquet",
        "files": [entry],
        "rows": table.num_rows,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def test_a_dataset_directory_and_its_manifest_id(table: pa.Table, tmp_path: Path) -> None:
    root = _export(table, tmp_path / "ds")
    done = train(
        TrainConfig(input=str(root), models=["xgb"], out=str(tmp_path / "m"), module="arbitrage", params=QUICK)
    )
    card = json.loads(Path(done["models"][0]["card"]).read_text())
    assert card["dataset"]["id"] == "sha256:" + hashlib.sha256((root / "manifest.json").read_bytes()).hexdigest()
    assert card["dataset"]["source"] == "manifest" and card["dataset"]["table"] == "arb_opportunities"


def test_a_file_that_does_not_match_its_manifest(table: pa.Table, tmp_path: Path) -> None:
    root = _export(table, tmp_path / "ds")
    pq.write_table(table.slice(0, 100), root / "arb_opportunities.parquet")
    with pytest.raises(TrainError) as err:
        load(str(root))
    assert err.value.code == "dataset_corrupt"


def test_an_arrow_file_is_memory_mapped(arrow_file: Path) -> None:
    before = pa.total_allocated_bytes()
    loaded = load(str(arrow_file))
    # a mapped file's columns are views into the mapping, not copies in Arrow's memory pool
    assert pa.total_allocated_bytes() - before < loaded.table.nbytes // 10
    assert loaded.dataset_id == "sha256:" + hashlib.sha256(arrow_file.read_bytes()).hexdigest()


def test_an_arrow_stream(table: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "opps.arrows"
    with pa.OSFile(str(path), "wb") as sink, ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    assert load(str(path)).table.num_rows == table.num_rows


def test_bring_your_own_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 2000
    a, b = rng.normal(size=n), rng.normal(size=n)
    own = pa.table(
        {
            "ts": pa.array(np.arange(n) * 1_000_000_000, pa.timestamp("ns", tz="UTC")),
            "a": a,
            "b": pa.array(rng.integers(0, 5, n), pa.int8()),
            "noise": b,
            "ok": (a + 0.2 * b + rng.normal(0, 0.5, n)) > 0,
        }
    )
    path = tmp_path / "own.arrow"
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, own.schema) as writer:
        writer.write_table(own)
    events: list[dict] = []
    cfg = TrainConfig(
        input=str(path), models=["lgbm"], out=str(tmp_path / "m"), features="a,b,noise", target="ok", params=QUICK
    )
    result = train(cfg, emit=events.append)["models"][0]
    split = next(e for e in events if e["event"] == "split")
    assert split["time_column"] == "ts" and split["test"]["to"] == "1970-01-01T00:33:19Z"
    card = json.loads(Path(result["card"]).read_text())
    assert card["features"] == ["a", "b", "noise"] and card["feature_set"] == "custom" and card["target"] == "ok"


def test_parity_failure_writes_nothing(arrow_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "parity", lambda *_: {"max_abs_diff": 3e-4, "rows": 1, "limit": 1e-5, "ok": False})
    with pytest.raises(TrainError) as err:
        train(
            TrainConfig(
                input=str(arrow_file), models=["xgb"], out=str(tmp_path / "m"), module="arbitrage", params=QUICK
            )
        )
    assert err.value.code == "parity_failed"
    assert model_dirs(tmp_path / "m") == []


def test_a_model_cancelled_while_it_is_published_leaves_nothing(tmp_path: Path) -> None:
    def cancel() -> None:
        raise Cancelled(15)

    with pytest.raises(Cancelled):
        publish(str(tmp_path), "ab" * 32, b"onnx", {"id": "x"}, cancel)
    assert model_dirs(tmp_path) == []
