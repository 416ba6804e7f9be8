"""Each model type trains on the CPU, exports one ONNX file that meets the contract, and passes parity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import pytest

from mevlab.train import TrainConfig, train
from mevlab.train.onnx_io import session
from mevlab.train.synthetic import write_arrow

from .helpers import fast_params, model_dirs

MODELS = ["xgb", "lgbm", "torch"]


@pytest.mark.parametrize("model", MODELS)
def test_trains_exports_and_passes_parity(model: str, arrow_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "models"
    events: list[dict] = []
    cfg = TrainConfig(
        input=str(arrow_file), models=[model], out=str(out), module="arbitrage", params=fast_params(model)
    )
    done = train(cfg, emit=events.append)
    result = done["models"][0]
    assert result["parity_max_abs_diff"] <= 1e-5
    assert result["metrics"]["test"]["auc"] > 0.7  # the synthetic label is learnable
    assert model_dirs(out) == [result["id"]]
    assert sorted(p.name for p in (out / result["id"]).iterdir()) == ["card.json", "model.onnx"]
    iterations = [e for e in events if e["event"] == "iteration"]
    assert [e["iteration"] for e in iterations] == list(range(1, result["iterations"] + 1))
    assert {"logloss", "auc"} <= set(iterations[0]["valid"]) and "logloss" in iterations[0]["train"]
    _check_onnx(Path(result["onnx"]), cfg, result)
    _check_card(Path(result["card"]), result, model)


def _check_onnx(path: Path, cfg: TrainConfig, result: dict) -> None:
    import hashlib

    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == result["id"]
    proto = onnx.load_from_string(data)
    (inp,) = proto.graph.input
    (out,) = proto.graph.output
    assert inp.name == "features" and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["N", 6]
    assert out.name == "probability" and [d.dim_param for d in out.type.tensor_type.shape.dim] == ["N"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["mevlab.feature_names"])[0] == "f_tip_ratio_p75"
    assert meta["mevlab.target"] == "cf_would_land"
    sess = session(data)
    for rows in (1, 7):  # the batch dimension is dynamic
        x = np.random.default_rng(rows).random((rows, 6), dtype=np.float32)
        (p,) = sess.run(["probability"], {"features": x})
        assert p.shape == (rows,) and np.all((p >= 0) & (p <= 1))


def _check_card(path: Path, result: dict, model: str) -> None:
    card = json.loads(path.read_text())
    assert card["id"] == result["id"] and card["model"] == model
    assert card["features"] == [
        "f_tip_ratio_p75",
        "f_hotpath_us",
        "f_competing_bundles",
        "f_pool_liquidity_lamports",
        "f_route_hops",
        "f_leader_slot_index",
    ]
    assert card["target"] == "cf_would_land" and card["seed"] == 0 and card["device"] == "cpu"
    assert card["dataset"]["id"].startswith("sha256:") and card["dataset"]["rows"] == 3000
    for split in ("train", "valid", "test"):
        assert set(card["metrics"][split]) == {"rows", "auc", "logloss", "brier"}
    assert card["split"]["train"]["rows"] + card["split"]["valid"]["rows"] + card["split"]["test"]["rows"] == 3000
    assert card["parity"]["max_abs_diff"] == result["parity_max_abs_diff"]
    assert (
        card["versions"]["onnxruntime"] and card["versions"][{"xgb": "xgboost", "lgbm": "lightgbm"}.get(model, model)]
    )
    assert card["training_seconds"] > 0 and "git" in card


def test_same_data_and_seed_give_the_same_model(arrow_file: Path, tmp_path: Path) -> None:
    runs = []
    for i in range(2):
        cfg = TrainConfig(
            input=str(arrow_file),
            models=MODELS,
            out=str(tmp_path / f"m{i}"),
            module="arbitrage",
            params={"n_estimators": 12, "early_stopping_rounds": 4, "threads": 1, "batch_size": 128},
        )
        runs.append(train(cfg)["models"])
    for a, b in zip(*runs, strict=True):
        assert a["metrics"] == b["metrics"], a["model"]
        assert a["id"] == b["id"], a["model"]  # the ONNX bytes too


def test_another_seed_gives_another_mlp(arrow_file: Path, tmp_path: Path) -> None:
    ids = set()
    for seed in (1, 2):
        cfg = TrainConfig(
            input=str(arrow_file),
            models=["torch"],
            out=str(tmp_path),
            module="arbitrage",
            params={**fast_params("torch"), "seed": seed},
        )
        ids.add(train(cfg)["models"][0]["id"])
    assert len(ids) == 2


def test_regression_lgbm_threshold_between_two_float32_values(tmp_path: Path) -> None:
    """LightGBM splits halfway between two adjacent float32 values; ONNX rounded that onto the upper one."""
    a = np.float32(1e11)
    if a.view(np.int32) % 2 == 0:  # an odd mantissa: the halfway point rounds (to even) up onto b
        a = np.nextafter(a, np.float32(np.inf))
    b = np.nextafter(a, np.float32(np.inf))
    rng = np.random.default_rng(0)
    n = 4000
    upper = rng.random(n) < 0.5
    x = np.where(upper, b, a).astype(np.float32)
    y = rng.random(n) < np.where(upper, 0.8, 0.2)
    table = pa.table({"ts": np.arange(n), "x": x, "noise": rng.random(n), "y": y})
    path = tmp_path / "ties.arrow"
    write_arrow(table, path)
    cfg = TrainConfig(input=str(path), models=["lgbm", "xgb"], out=str(tmp_path / "m"), features="x,noise", target="y")
    for result in train(cfg)["models"]:  # XGBoost keeps float32 thresholds itself
        assert result["parity_max_abs_diff"] <= 1e-5, result["model"]


def test_missing_values_keep_parity(table: pa.Table, tmp_path: Path) -> None:
    """Rows stored before a feature column existed read as null: the trees route them, the MLP reads the mean."""
    rng = np.random.default_rng(1)
    hotpath = table.column("f_hotpath_us").to_numpy().copy()
    hotpath[rng.random(len(hotpath)) < 0.2] = np.nan
    liquidity = pa.array(table.column("f_pool_liquidity_lamports").to_numpy(), mask=rng.random(len(hotpath)) < 0.2)
    table = table.set_column(table.column_names.index("f_hotpath_us"), "f_hotpath_us", pa.array(hotpath))
    i = table.column_names.index("f_pool_liquidity_lamports")
    table = table.set_column(i, "f_pool_liquidity_lamports", liquidity)
    path = write_arrow(table, tmp_path / "gaps.arrow")
    params = {"n_estimators": 20, "early_stopping_rounds": 0, "threads": 1, "batch_size": 128}
    cfg = TrainConfig(input=str(path), models=MODELS, out=str(tmp_path / "m"), module="arbitrage", params=params)
    for result in train(cfg)["models"]:
        assert result["parity_max_abs_diff"] <= 1e-5, result["model"]
