"""The `train` extra and requirements-train.txt (what setup.sh installs for the tests) pin the same versions."""

from __future__ import annotations

import tomllib

from .helpers import ROOT


def test_the_extra_and_the_requirements_file_agree() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["train"]
    lines = (ROOT / "requirements-train.txt").read_text().splitlines()
    pinned = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    assert sorted(extra) == sorted(pinned)
    assert all("==" in p for p in pinned)


def test_the_trainer_imports_no_model_library_until_a_model_needs_it() -> None:
    import subprocess
    import sys

    libraries = ("xgboost", "lightgbm", "torch", "onnxmltools", "onnx")
    code = f"import sys, mevlab.train.cli; print(sorted(m for m in {libraries!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
