"""One training run: check everything, load, split, then train, export, check parity and publish each model."""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import metrics
from .cancel import CancelToken
from .card import CARD_VERSION, git_commit, now, versions
from .config import Columns, TrainConfig, resolve_columns
from .data import Loaded, load
from .device import Device, choose
from .errors import TrainError
from .events import Sink, clean
from .features import to_matrix
from .models import model_module
from .models.base import Fitted, Hooks
from .onnx_io import BATCH, INPUT, OUTPUT, finish, parity
from .params import resolve
from .publish import CARD_FILE, MODEL_FILE, publish
from .split import Split, time_split

PROTOCOL = 1
log = logging.getLogger("mevlab.train")


def train(cfg: TrainConfig, emit: Sink | None = None, token: CancelToken | None = None) -> dict[str, Any]:
    """Trains every model of `cfg`; returns what the `done` event carries. Raises TrainError."""
    emit = emit or (lambda _event: None)
    token = token or CancelToken()
    started = time.perf_counter()
    cfg.check()
    emit(
        {
            "event": "start",
            "protocol": PROTOCOL,
            "models": cfg.models,
            "input": cfg.input,
            "gpu": cfg.gpu,
            "out": cfg.out,
        }
    )
    params = {m: resolve(m, cfg.params) for m in cfg.models}
    devices = {m: choose(m, cfg.gpu, model_module(m).gpu_problem() if cfg.gpu != "false" else None) for m in cfg.models}
    token.check()
    _preload_exporters(cfg.models)
    loaded = load(cfg.input, cfg.table_to_read())
    log.info("read %d rows from %s (%s)", loaded.table.num_rows, loaded.path, loaded.dataset_id)
    columns = resolve_columns(cfg, loaded.table.column_names, loaded.table_name)
    matrix = to_matrix(loaded.table, columns.features, columns.target, columns.time_column)
    split = time_split(matrix, cfg.split)
    emit(
        {
            "event": "split",
            "dataset": loaded.describe(),
            "rows": loaded.table.num_rows,
            "features": columns.features,
            "target": columns.target,
            "time_column": columns.time_column,
            "fractions": list(cfg.split),
            **split.describe(),
        }
    )
    run = Run(cfg, loaded, columns, split, emit, token)
    results = []
    for m in cfg.models:
        token.check()
        results.append(_one_model(run, m, *params[m], devices[m]))
    done = {"models": results, "seconds": time.perf_counter() - started}
    emit({"event": "done", **done})
    return clean(done)  # type: ignore[return-value]


_EXPORTERS = {
    "xgb": ("onnxmltools.convert.xgboost",),
    "lgbm": ("onnxmltools.convert.lightgbm",),
    "torch": ("torch.onnx",),
}


def _preload_exporters(models: list[str]) -> None:
    """
    Imports the ONNX converters and onnxruntime on a thread while the data is read and the models train:
    about 0.7 s that otherwise comes after training (bench:train). An import that fails is left for the
    export step, which reports it.
    """
    names = ["onnx", "onnxruntime", *(n for m in models for n in _EXPORTERS.get(m, ()))]

    def run() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - reported by the step that needs it
                pass

    threading.Thread(target=run, name="mevlab-preload-exporters", daemon=True).start()


@dataclass
class Run:
    """What every model of one run shares."""

    cfg: TrainConfig
    loaded: Loaded
    columns: Columns
    split: Split
    emit: Sink
    token: CancelToken


@dataclass
class Trained:
    """One model, exported and checked, before it is published."""

    model: str
    params: dict[str, Any]
    unused: list[str]
    fitted: Fitted
    seconds: float
    scores: dict[str, Any]
    onnx_bytes: bytes
    parity: dict[str, Any]

    @property
    def id(self) -> str:
        return hashlib.sha256(self.onnx_bytes).hexdigest()


def _one_model(run: Run, model: str, params: dict[str, Any], unused: list[str], device: Device) -> dict[str, Any]:
    emit, token, split = run.emit, run.token, run.split
    phase = {"event": "phase", "model": model, "phase": "train", **device.describe()}
    emit({**phase, "params": params, "unused_params": unused})
    log.info("%s: training on %s (%s)", model, device.kind, device.note or device.name)
    module = model_module(model)
    module.library()  # imported before the clock starts: torch takes seconds
    t0 = time.perf_counter()
    fitted = module.fit(split, params, device, Hooks(model, emit, token))
    seconds = time.perf_counter() - t0
    token.check()
    scores = {p.name: metrics.summary(p.y, fitted.predict(p.x)) for p in split.parts()}
    emit({"event": "phase", "model": model, "phase": "export"})
    onnx_bytes = _export(model, fitted, run.columns)
    token.check()
    emit({"event": "phase", "model": model, "phase": "parity"})
    trained = Trained(
        model, params, unused, fitted, seconds, scores, onnx_bytes, _parity(model, fitted, onnx_bytes, split)
    )
    card = clean(_card(trained, run))
    path, existing = publish(run.cfg.out, trained.id, onnx_bytes, card, token.check)  # type: ignore[arg-type]
    log.info(
        "%s: %s %s (parity %.2g)",
        model,
        "already there:" if existing else "wrote",
        path,
        trained.parity["max_abs_diff"],
    )
    result = {
        "model": model,
        "id": trained.id,
        "dir": str(path.resolve()),
        "onnx": str((path / MODEL_FILE).resolve()),
        "card": str((path / CARD_FILE).resolve()),
        "existing": existing,
        **device.describe(),
        "metrics": scores,
        "parity_max_abs_diff": trained.parity["max_abs_diff"],
        "iterations": fitted.iterations,
        "best_iteration": fitted.best_iteration,
        "training_seconds": seconds,
    }
    emit({"event": "model", **result})
    return result


def _export(model: str, fitted: Fitted, columns: Columns) -> bytes:
    try:
        return finish(fitted.to_onnx(columns.features), columns.features, columns.target, model)
    except TrainError:
        raise
    except Exception as err:  # the converters raise anything
        raise TrainError("export_failed", f"exporting the {model} model to ONNX failed: {err}", model=model) from err


def _parity(model: str, fitted: Fitted, onnx_bytes: bytes, split: Split) -> dict[str, Any]:
    check = parity(onnx_bytes, split.test.x, fitted.predict(split.test.x))
    if not check["ok"]:
        raise TrainError(
            "parity_failed",
            f"{model}: onnxruntime and {fitted.native_predict} differ by {check['max_abs_diff']:.3g} on the test split "
            f"(limit {check['limit']:g}); nothing was written",
            model=model,
            max_abs_diff=check["max_abs_diff"],
        )
    return check


def _card(t: Trained, run: Run) -> dict[str, Any]:
    cfg, columns, fitted = run.cfg, run.columns, t.fitted
    return {
        "kind": "mevlab.model",
        "card_version": CARD_VERSION,
        "id": t.id,
        "created_at": now(),
        "model": t.model,
        "params": t.params,
        "params_given": cfg.params,
        "unused_params": t.unused,
        "seed": t.params["seed"],
        **fitted.device.describe(),
        "gpu_requested": cfg.gpu,
        "iterations": fitted.iterations,
        "best_iteration": fitted.best_iteration,
        "training_seconds": t.seconds,
        "module": columns.module,
        "feature_set": columns.feature_set,
        "features": columns.features,
        "target": columns.target,
        "time_column": columns.time_column,
        "dataset": {**run.loaded.describe(), "rows": run.loaded.table.num_rows},
        "split": {"fractions": list(cfg.split), **run.split.describe()},
        "metrics": t.scores,
        "parity": {**t.parity, "native": fitted.native_predict, "split": "test"},
        "onnx": {
            "file": MODEL_FILE,
            "bytes": len(t.onnx_bytes),
            "sha256": t.id,
            "input": {"name": INPUT, "dtype": "float32", "shape": [BATCH, len(columns.features)]},
            "output": {"name": OUTPUT, "dtype": "float32", "shape": [BATCH], "meaning": f"P({columns.target} = 1)"},
        },
        "versions": versions(fitted.library),
        "git": git_commit(),
    }
