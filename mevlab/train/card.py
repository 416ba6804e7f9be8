"""The model card: everything needed to say what a model is, what it was trained on and how well it did."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

CARD_VERSION = 1
_PACKAGES = ("numpy", "pyarrow", "onnx", "onnxruntime", "onnxmltools", "onnxscript")


def versions(library: dict[str, str]) -> dict[str, str | None]:
    from .. import __version__

    out: dict[str, str | None] = {"python": platform.python_version(), "mevlab": _version("mevlab") or __version__}
    for name in _PACKAGES:
        out[name] = _version(name)
    out.update(library)
    return out


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit() -> dict[str, object] | None:
    """The checkout the trainer runs from (None when installed from a wheel or git is absent)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "trainer_modified": bool(dirty.stdout.strip())}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
