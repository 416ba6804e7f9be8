"""scripts/gpu-check.py runs here too: on the CPU with --gpu auto, and it says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .helpers import ROOT, cli_env


def test_gpu_check_on_the_cpu_says_cpu_and_names_a_missing_library(tmp_path: Path) -> None:
    # a machine without XGBoost, as the GPU machine is: an `import xgboost` that fails
    (tmp_path / "xgboost.py").write_text("raise ImportError('No module named xgboost')\n")
    env = cli_env()
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{tmp_path}"
    args = ["--gpu", "auto", "--rows", "3000", "--epochs", "2", "--trees", "5", "--out", str(tmp_path / "m")]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu-check.py"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    asked = report["torch_mlp"]["asked"]
    assert asked["ok"] and asked["device"] == "cpu" and asked["device_note"] == "no CUDA GPU is visible"
    assert asked["parity_max_abs_diff"] <= 1e-5
    assert "cpu" not in report["torch_mlp"]  # no second run without a GPU to compare with
    xgb = report["trees"]["xgb"]
    assert xgb["asked"]["code"] == "dependency_missing" and "not installed" in xgb["asked"]["message"]
    assert "cpu" not in xgb  # no CPU run to compare with when the GPU run did not happen
    assert report["ok"] is True
