"""Cancellation: SIGTERM / SIGINT set a flag that the training loops check at each iteration."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from .errors import Cancelled


class CancelToken:
    """Set once; `check()` raises `Cancelled` from then on."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None

    def cancel(self, signum: int | None = None) -> None:
        if not self._event.is_set():
            self.signum = signum
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.signum)


def cancel_on_signals(token: CancelToken) -> None:
    """Routes SIGTERM and SIGINT to the token (main thread only, as Python requires)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        token.cancel(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
