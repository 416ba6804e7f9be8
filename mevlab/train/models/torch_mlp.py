"""
A PyTorch MLP (ReLU, optional dropout, BCE with logits, Adam). The exported graph standardises its
input with the training split's means and deviations and reads a missing value (NaN) as the mean, so
the evaluator feeds raw features, as it does to the trees.
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from typing import Any

import numpy as np

from .. import metrics
from ..device import Device
from ..errors import require
from ..onnx_io import INPUT, OUTPUT
from ..split import Split
from .base import Fitted, Hooks

EVAL_BATCH = 65_536


def library() -> Any:
    return require("torch", "torch")


def gpu_problem() -> str | None:
    torch = library()
    if torch.version.cuda is None:
        return f"this PyTorch ({torch.__version__}) was built without CUDA"
    return None


def build(torch: Any, n_features: int, hidden: list[int], dropout: float, mean: np.ndarray, std: np.ndarray) -> Any:
    nn = torch.nn
    module: Any = nn.Module

    class MLP(module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)))
            self.register_buffer("std", torch.from_numpy(std.astype(np.float32)))
            layers: list[Any] = []
            width = n_features
            for h in hidden:
                layers += [nn.Linear(width, h), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
                width = h
            layers.append(nn.Linear(width, 1))
            self.net = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            z = (x - self.mean) / self.std
            z = torch.where(torch.isnan(z), torch.zeros_like(z), z)
            return self.net(z)[:, 0]  # logits [N]

    return MLP()


def standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From the training split only; a constant or empty column is left as it is."""
    with np.errstate(all="ignore"):
        mean = np.nan_to_num(np.nanmean(x.astype(np.float64), axis=0), nan=0.0)
        std = np.nanstd(x.astype(np.float64), axis=0)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    return mean, std


def fit(split: Split, params: dict[str, Any], device: Device, hooks: Hooks) -> Fitted:
    torch = library()
    if device.kind == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (read when it starts)
    torch.manual_seed(params["seed"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    if params["threads"]:
        torch.set_num_threads(params["threads"])
    dev = torch.device(device.torch_device)
    mean, std = standardisation(split.train.x)
    model = build(torch, split.train.x.shape[1], params["hidden"], params["dropout"], mean, std).to(dev)
    state = _train_loop(torch, model, split, params, dev, hooks)
    model.load_state_dict(state["best"])
    model = model.to("cpu").eval()
    return Fitted(
        native=model,
        device=device,
        iterations=state["epochs"],
        best_iteration=state["best_epoch"],
        predict=lambda x: predict(torch, model, x),
        to_onnx=lambda names: _to_onnx(torch, model, len(names)),
        library={"torch": torch.__version__},
        native_predict="torch eval() forward on the CPU, sigmoid",
    )


def _train_loop(torch: Any, model: Any, split: Split, params: dict[str, Any], dev: Any, hooks: Hooks) -> dict[str, Any]:
    x = torch.from_numpy(np.ascontiguousarray(split.train.x, dtype=np.float32)).to(dev)
    y = torch.from_numpy(np.ascontiguousarray(split.train.y, dtype=np.float32)).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(params["seed"])
    total, patience, batch = (
        int(params["n_estimators"]),
        int(params["early_stopping_rounds"]),
        int(params["batch_size"]),
    )
    best: dict[str, Any] = {"loss": float("inf"), "state": None, "epoch": 0}
    epoch = 0
    for epoch in range(1, total + 1):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).to(dev).split(batch):
            hooks.token.check()
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        train_p, valid_p = (predict(torch, model, p.x, dev) for p in (split.train, split.valid))
        valid_loss = metrics.logloss(split.valid.y, valid_p)
        hooks.iteration(
            epoch,
            total,
            {"logloss": metrics.logloss(split.train.y, train_p)},
            {"logloss": valid_loss, "auc": metrics.auc(split.valid.y, valid_p)},
        )
        if valid_loss < best["loss"]:
            best = {"loss": valid_loss, "state": copy.deepcopy(model.state_dict()), "epoch": epoch}
        elif patience and epoch - best["epoch"] >= patience:
            break
    if not patience or best["state"] is None:  # no early stopping, or a NaN loss every epoch: the last weights
        best = {"state": copy.deepcopy(model.state_dict()), "epoch": epoch}
    return {"best": best["state"], "best_epoch": best["epoch"], "epochs": epoch}


def predict(torch: Any, model: Any, x: np.ndarray, dev: Any = None) -> np.ndarray:
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            chunk = torch.from_numpy(np.ascontiguousarray(x[start : start + EVAL_BATCH], dtype=np.float32))
            out.append(torch.sigmoid(model(chunk.to(dev or "cpu"))).cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def _to_onnx(torch: Any, model: Any, n_features: int) -> Any:
    require("onnxscript", "torch")  # the default (dynamo) exporter is written in it

    module: Any = torch.nn.Module

    class Probability(module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            return torch.sigmoid(self.inner(x))

    # the exporter's noise: "torchvision is not installed" and deprecations inside torch itself
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        program = torch.onnx.export(
            Probability(model).eval(),
            (torch.zeros(2, n_features),),
            None,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_shapes=({0: torch.export.Dim("N")},),
            dynamo=True,
            external_data=False,  # one file
            verbose=False,
        )
    return program.model_proto
