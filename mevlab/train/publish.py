"""
A model appears whole or not at all: model.onnx and card.json are written into a temporary directory
beside the final one, fsynced, and the directory is renamed to `<out>/<sha256 of model.onnx>`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import TrainError

MODEL_FILE = "model.onnx"
CARD_FILE = "card.json"
PARTIAL_PREFIX = ".partial-"


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    out: str, model_id: str, onnx_bytes: bytes, card: dict, before_rename: Callable[[], None]
) -> tuple[Path, bool]:
    """
    Returns the model's directory, and True when it was there already (the same ONNX bytes: the
    existing files are kept). `before_rename` is the last chance to cancel.
    """
    root = Path(out)
    try:
        root.mkdir(parents=True, exist_ok=True)
        final = root / model_id
        if final.exists():
            return final, True
        staging = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=root))
    except OSError as err:
        raise TrainError("export_failed", f"cannot write into {root}: {err}", path=str(root)) from err
    try:
        _write(staging / MODEL_FILE, onnx_bytes)
        _write(staging / CARD_FILE, (json.dumps(card, indent=2, allow_nan=False) + "\n").encode())
        before_rename()
        os.chmod(staging, 0o755)
        try:
            os.rename(staging, final)
        except OSError as err:
            if final.exists():  # another run published the same model meanwhile
                return final, True
            raise TrainError("export_failed", f"cannot rename {staging} to {final}: {err}", path=str(final)) from err
        _fsync_dir(root)
        return final, False
    except OSError as err:
        raise TrainError("export_failed", f"writing the model into {staging} failed: {err}", path=str(staging)) from err
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
