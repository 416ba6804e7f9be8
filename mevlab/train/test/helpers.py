"""Shared helpers: small synthetic tables, and the CLI run as a process (NDJSON on stdout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FAST = {"n_estimators": 40, "early_stopping_rounds": 10, "threads": 1}
FAST_TORCH = {"epochs": 6, "early_stopping_rounds": 3, "threads": 1, "batch_size": 128}


def fast_params(model: str) -> dict[str, object]:
    return dict(FAST_TORCH if model == "torch" else FAST)


class Run:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.code = proc.returncode
        self.stderr = proc.stderr
        self.events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    def last(self) -> dict:
        return self.events[-1]

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["CUDA_VISIBLE_DEVICES"] = ""  # the same answers on a machine with a GPU
    return env


def run_cli(*args: str, timeout: float = 300) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "mevlab.train", *args],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(proc)


def model_dirs(out: Path) -> list[str]:
    """Everything in an output directory, hidden staging directories included."""
    return sorted(p.name for p in out.iterdir()) if out.exists() else []
