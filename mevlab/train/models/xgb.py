"""XGBoost (hist, binary:logistic). Early stopping on the validation split's log loss only."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import metrics
from ..device import Device
from ..errors import TrainError, require
from ..onnx_io import INPUT, positive_class
from ..split import Split
from .base import Fitted, Hooks

TARGET_OPSET = 15  # the highest onnxmltools' XGBoost converter accepts


def library() -> Any:
    return require("xgboost", "xgb")


def gpu_problem() -> str | None:
    xgb = library()
    if not xgb.build_info().get("USE_CUDA"):
        return f"this XGBoost ({xgb.__version__}) was built without CUDA"
    return None


def booster_params(params: dict[str, Any], device: Device) -> dict[str, Any]:
    return {
        "objective": "binary:logistic",
        "eval_metric": ["logloss"],  # the validation AUC: _progress, on ~25 iterations
        "tree_method": "hist",
        "device": "cuda" if device.kind == "cuda" else "cpu",
        "max_depth": params["max_depth"],
        "eta": params["learning_rate"],
        "subsample": params["subsample"],
        "colsample_bytree": params["colsample_bytree"],
        "min_child_weight": params["min_child_weight"],
        "lambda": params["reg_lambda"],
        "alpha": params["reg_alpha"],
        "gamma": params["gamma"],
        "max_bin": params["max_bin"],
        "scale_pos_weight": params["scale_pos_weight"],
        "seed": params["seed"],
        "nthread": params["threads"] or None,
        "validate_parameters": True,
    }


def fit(split: Split, params: dict[str, Any], device: Device, hooks: Hooks) -> Fitted:
    xgb = library()
    threads = params["threads"] or None
    dtrain = xgb.DMatrix(split.train.x, label=split.train.y, nthread=threads)
    dvalid = xgb.DMatrix(split.valid.x, label=split.valid.y, nthread=threads)
    total = int(params["n_estimators"])
    callbacks: list[Any] = [_progress(xgb, hooks, total, dvalid, split.valid.y)]
    if params["early_stopping_rounds"]:
        callbacks.append(
            xgb.callback.EarlyStopping(rounds=params["early_stopping_rounds"], metric_name="logloss", data_name="valid")
        )
    booster = xgb.train(
        booster_params(params, device),
        dtrain,
        total,
        evals=[(dtrain, "train"), (dvalid, "valid")],
        callbacks=callbacks,
        verbose_eval=False,
    )
    _check_device(booster, device)
    run = booster.num_boosted_rounds()
    best = booster.best_iteration + 1 if params["early_stopping_rounds"] else run
    if best < run:
        booster = booster[:best]
    booster.set_param({"device": "cpu"})  # native predictions (and parity) on the CPU, as onnxruntime runs
    return Fitted(
        native=booster,
        device=device,
        iterations=run,
        best_iteration=best,
        predict=lambda x: booster.inplace_predict(np.ascontiguousarray(x, dtype=np.float32)),
        to_onnx=lambda names: _to_onnx(booster, len(names)),
        library={"xgboost": xgb.__version__},
        native_predict="xgboost Booster.inplace_predict",
    )


def auc_every(total: int) -> int:
    """The validation AUC is computed on about 25 iterations of a run (the first, every k-th, the last)."""
    return max(1, -(-total // 25))


def _progress(xgb: Any, hooks: Hooks, total: int, dvalid: Any, y: np.ndarray) -> Any:
    every = auc_every(total)

    class Progress(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            train, valid = evals_log.get("train", {}), evals_log.get("valid", {})
            it = epoch + 1
            valid_metrics = {"logloss": valid["logloss"][-1]}
            if it == 1 or it % every == 0 or it == total:
                # The booster's cached predictions for an eval set: no new pass over the trees.
                valid_metrics["auc"] = metrics.auc(y, model.predict(dvalid))
            hooks.iteration(it, total, {"logloss": train["logloss"][-1]}, valid_metrics)
            return False

    return Progress()


def _check_device(booster: Any, device: Device) -> None:
    """XGBoost moves to the CPU with only a warning when CUDA is asked for and unusable."""
    if device.kind != "cuda":
        return
    used = json.loads(booster.save_config())["learner"]["generic_param"].get("device", "")
    if not str(used).startswith("cuda"):
        raise TrainError(
            "gpu_fallback",
            f"XGBoost was asked for CUDA but trained on '{used}' (it falls back with only a warning): "
            "check the driver and CUDA_VISIBLE_DEVICES",
            model="xgb",
        )


def _to_onnx(booster: Any, n_features: int) -> Any:
    require("onnxmltools", "xgb")
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    plain = booster.copy()
    plain.feature_names = None  # the converter wants f0, f1, …
    plain.feature_types = None
    model = convert_xgboost(
        plain, initial_types=[(INPUT, FloatTensorType([None, n_features]))], target_opset=TARGET_OPSET
    )
    return positive_class(model, "probabilities")
