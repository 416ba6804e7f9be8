"""LightGBM (binary). Trained on float32 features: float64-trained thresholds differ from float32 inference."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import metrics
from ..device import Device
from ..errors import require
from ..onnx_io import INPUT, positive_class
from ..split import Split
from .base import Fitted, Hooks

TARGET_OPSET = 15


def library() -> Any:
    return require("lightgbm", "lgbm")


def gpu_problem() -> str | None:
    """device_type="cuda" exists only in LightGBM built with -DUSE_CUDA=1 (PyPI's wheel is not)."""
    lgb = library()
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20) % 2
    try:
        lgb.train({"device_type": "cuda", "objective": "binary", "verbose": -1}, lgb.Dataset(x, y), 1)
    except lgb.basic.LightGBMError as err:
        if "not enabled in this build" in str(err):
            return (
                f"this LightGBM ({lgb.__version__}) was built without CUDA: device_type='cuda' needs LightGBM "
                "compiled with -DUSE_CUDA=1 (the PyPI wheel is a CPU build)"
            )
        return f"LightGBM cannot train on CUDA here: {str(err).strip()}"
    return None


def lgb_params(params: dict[str, Any], device: Device) -> dict[str, Any]:
    return {
        "objective": "binary",
        "metric": ["binary_logloss"],  # the validation AUC comes from _valid_auc
        "device_type": "cuda" if device.kind == "cuda" else "cpu",
        "max_depth": params["max_depth"],
        "learning_rate": params["learning_rate"],
        "num_leaves": params["num_leaves"],
        "bagging_fraction": params["subsample"],
        "bagging_freq": 1 if params["subsample"] < 1 else 0,
        "feature_fraction": params["colsample_bytree"],
        "min_child_samples": params["min_child_samples"],
        "lambda_l2": params["reg_lambda"],
        "lambda_l1": params["reg_alpha"],
        "max_bin": params["max_bin"],
        "scale_pos_weight": params["scale_pos_weight"],
        "seed": params["seed"],
        "num_threads": params["threads"],
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


def fit(split: Split, params: dict[str, Any], device: Device, hooks: Hooks) -> Fitted:
    lgb = library()
    p = lgb_params(params, device)
    train = lgb.Dataset(
        split.train.x.astype(np.float32), split.train.y, params={"max_bin": p["max_bin"]}, free_raw_data=False
    )
    valid = lgb.Dataset(split.valid.x.astype(np.float32), split.valid.y, reference=train)
    total = int(params["n_estimators"])
    callbacks: list[Any] = [_progress(hooks, total)]
    if params["early_stopping_rounds"]:
        callbacks.append(lgb.early_stopping(params["early_stopping_rounds"], first_metric_only=True, verbose=False))
    booster = lgb.train(
        p,
        train,
        total,
        valid_sets=[train, valid],
        valid_names=["train", "valid"],
        feval=_valid_auc(valid, split.valid.y),
        callbacks=callbacks,
    )
    # lgb.train hands back the best rounds only (it reloads the model at best_iteration)
    run = hooks.last
    best = booster.current_iteration()
    booster = lgb.Booster(model_str=float32_thresholds(booster.model_to_string()))
    return Fitted(
        native=booster,
        device=device,
        iterations=run,
        best_iteration=best,
        predict=lambda x: booster.predict(np.ascontiguousarray(x, dtype=np.float32)),
        to_onnx=lambda names: _to_onnx(booster, len(names)),
        library={"lightgbm": lgb.__version__},
        native_predict="lightgbm Booster.predict",
    )


def float32_thresholds(model: str) -> str:
    """
    Each split threshold t (a double, often halfway between two float32 values) becomes the largest
    float32 <= t. For float32 inputs x, `x <= t` and `x <= that` agree, so LightGBM predicts the same;
    and ONNX, which stores thresholds as float32, no longer rounds t up onto a value that then goes
    the other way (measured: 2.1e-3 on one of 150,000 rows). tree_sizes (byte offsets) is dropped:
    LightGBM reads the trees in order without it.
    """
    out = []
    for line in model.split("\n"):
        if line.startswith("threshold="):
            t = np.array(line[len("threshold=") :].split(" "), dtype=np.float64)
            f = t.astype(np.float32)
            f = np.where(f.astype(np.float64) > t, np.nextafter(f, np.float32(-np.inf)), f)
            line = "threshold=" + " ".join(repr(float(v)) for v in f)
        elif line.startswith("tree_sizes="):
            continue
        out.append(line)
    return "\n".join(out)


def _valid_auc(valid: Any, y: np.ndarray) -> Any:
    """LightGBM's own AUC would be computed on the training split too, every round."""

    def metric(preds: np.ndarray, data: Any) -> tuple[str, float, bool]:
        value = metrics.auc(y, preds) if data is valid else None
        return "auc", float("nan") if value is None else value, True

    return metric


def _progress(hooks: Hooks, total: int) -> Any:
    def callback(env: Any) -> None:
        got = {(name, metric): value for name, metric, value, *_ in env.evaluation_result_list}
        hooks.iteration(
            env.iteration + 1,
            total,
            {"logloss": got.get(("train", "binary_logloss"))},
            {"logloss": got.get(("valid", "binary_logloss")), "auc": got.get(("valid", "auc"))},
        )

    callback.order = 5  # type: ignore[attr-defined]  # before early stopping (order 30)
    return callback


def _to_onnx(booster: Any, n_features: int) -> Any:
    require("onnxmltools", "lgbm")
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    # zipmap=False: a ZipMap output is a "non tensor type" to onnxruntime-node
    model = convert_lightgbm(
        booster, initial_types=[(INPUT, FloatTensorType([None, n_features]))], zipmap=False, target_opset=TARGET_OPSET
    )
    return positive_class(model, "probabilities")
