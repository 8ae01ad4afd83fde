"""Holding back Ctrl-C while a save runs, so an interrupt never cuts a save in the middle
(a file written but not yet recorded would later look like another kernel's copy)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def interrupt_deferred() -> Iterator[None]:
    """Run the block with a first Ctrl-C (SIGINT) held until it ends, then raised as
    ``KeyboardInterrupt``; a second Ctrl-C stops the block at once. Only the main thread
    receives signals: elsewhere (the widget's sends), or when Ctrl-C does not raise
    ``KeyboardInterrupt`` anyway (ignored, or handled otherwise), the block simply runs."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    previous = signal.default_int_handler
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        if held:
            raise KeyboardInterrupt
        held.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt
