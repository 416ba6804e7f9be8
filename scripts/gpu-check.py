#!/usr/bin/env python3
"""
The trainer's GPU path, checked on a machine with a CUDA GPU (docs/training.md, "GPU check").

Trains the PyTorch MLP through mevlab.train on synthetic data with --gpu true (or auto), exports ONNX
and checks parity as every run does, then trains the same MLP on the same data on the CPU for a
timing to compare; tries XGBoost and LightGBM with CUDA and says plainly when they are not installed.
Prints one JSON object on stdout; progress and logs go to stderr. Run from a checkout:

    PYTHONPATH=. python3 scripts/gpu-check.py [--gpu true|auto] [--rows 500000] [--epochs 5]

Exit status: 0 when the MLP trained on the device asked for and passed parity, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mevlab.train import TrainConfig, TrainError, train
from mevlab.train.synthetic import opportunities, write_arrow


def log(message: str) -> None:
    print(f"[gpu-check] {message}", file=sys.stderr, flush=True)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpu", default="true", choices=["true", "auto"], help="the MLP's --gpu (default true)")
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=4096)
    p.add_argument("--hidden", default="256,128")
    p.add_argument("--trees", type=int, default=200, help="XGBoost / LightGBM rounds, when they are installed")
    p.add_argument("--out", help="model directory (default: a temporary one)")
    return p.parse_args()


def environment() -> dict[str, Any]:
    import torch

    names = (
        [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    )
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "gpus": names,
        "cpu_threads": torch.get_num_threads(),
    }


def warm_up_cuda() -> None:
    """CUDA's context and cuBLAS handles take seconds to create: not the training's time."""
    import torch

    if torch.cuda.is_available():
        a = torch.ones(256, 256, device="cuda")
        (a @ a).sum().item()
        torch.cuda.synchronize()


def one_run(model: str, gpu: str, data: Path, out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """One trainer run; a TrainError becomes {"ok": false, "code", "message"}."""
    events: list[dict[str, Any]] = []
    cfg = TrainConfig(input=str(data), models=[model], out=str(out), module="arbitrage", gpu=gpu, params=params)
    started = time.perf_counter()
    try:
        result = train(cfg, emit=events.append)["models"][0]
    except TrainError as err:
        return {"ok": False, "gpu": gpu, "code": err.code, "message": err.message}
    epochs = sum(1 for e in events if e["event"] == "iteration")
    return {
        "ok": True,
        "gpu": gpu,
        "device": result["device"],
        "device_name": result["device_name"],
        "device_note": result["device_note"],
        "training_seconds": round(result["training_seconds"], 3),
        "seconds_per_iteration": round(result["training_seconds"] / max(epochs, 1), 4),
        "iterations": epochs,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "parity_max_abs_diff": result["parity_max_abs_diff"],
        "test_auc": result["metrics"]["test"]["auc"],
        "model_id": result["id"],
    }


def mlp(args: argparse.Namespace, data: Path, out: Path) -> dict[str, Any]:
    params = {"epochs": args.epochs, "early_stopping_rounds": 0, "batch_size": args.batch_size, "hidden": args.hidden}
    log(f"torch MLP, --gpu {args.gpu}")
    asked = one_run("torch", args.gpu, data, out, params)
    report: dict[str, Any] = {"params": params, "asked": asked}
    if asked.get("ok") and asked["device"] == "cuda":
        log("torch MLP, the same on the CPU")
        cpu = one_run("torch", "false", data, out, params)
        report["cpu"] = cpu
        if cpu.get("ok"):
            report["gpu_speedup"] = round(cpu["training_seconds"] / asked["training_seconds"], 2)
    return report


def trees(args: argparse.Namespace, data: Path, out: Path) -> dict[str, Any]:
    """XGBoost and LightGBM with CUDA, where they are installed: their absence is an answer, not a failure."""
    params = {"n_estimators": args.trees, "early_stopping_rounds": 0, "max_depth": 8}
    report: dict[str, Any] = {}
    for model in ("xgb", "lgbm"):
        log(f"{model} with --gpu true")
        run = one_run(model, "true", data, out, params)
        if run.get("code") == "dependency_missing":
            run["message"] = f"{run['message'].split(',')[0]}: not installed on this machine, so not checked"
        entry: dict[str, Any] = {"asked": run}
        if run.get("ok") and run["device"] == "cuda":
            log(f"{model}, the same on the CPU")
            cpu = one_run(model, "false", data, out, params)
            entry["cpu"] = cpu
            if cpu.get("ok"):
                entry["gpu_speedup"] = round(cpu["training_seconds"] / run["training_seconds"], 2)
        report[model] = entry
    return report


def main() -> int:
    args = parse()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, set before CUDA starts
    env = environment()
    log(f"torch {env['torch']} (CUDA {env['torch_cuda']}), GPUs: {env['gpus'] or 'none'}")
    warm_up_cuda()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "models"
        t0 = time.perf_counter()
        data = write_arrow(opportunities(args.rows, seed=3), Path(tmp) / "opportunities.arrow")
        log(f"{args.rows} synthetic rows in {time.perf_counter() - t0:.1f} s")
        report: dict[str, Any] = {"check": "mevlab.train gpu", "rows": args.rows, "environment": env}
        report["torch_mlp"] = mlp(args, data, out)
        report["trees"] = trees(args, data, out)
    asked = report["torch_mlp"]["asked"]
    ok = (
        bool(asked.get("ok"))
        and asked["parity_max_abs_diff"] <= 1e-5
        and (args.gpu == "auto" or asked["device"] == "cuda")
    )
    report["ok"] = ok
    print(json.dumps(report, allow_nan=False), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
