"""Progress as NDJSON: one JSON object per line, each with an `event` field (docs/training.md)."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import TextIO

Event = dict[str, object]
Sink = Callable[[Event], None]


def clean(value: object) -> object:
    """JSON has no NaN or infinity: they become null, so every line parses everywhere."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return clean(value.item())  # numpy scalars
    return value


class NdjsonWriter:
    """Writes events to a stream, one flushed line each."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: Event) -> None:
        self.stream.write(json.dumps(clean(event), separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()


def claim_stdout() -> TextIO:
    """
    Keeps file descriptor 1 for the events and points it at stderr for everything else: native
    libraries (LightGBM's warnings, the ONNX exporter's progress) print to fd 1 and would corrupt
    the NDJSON stream.
    """
    sys.stdout.flush()
    events_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")
