"""Fault injection for the test suite's crash tests; does nothing unless the variable is set.

``REDCROSS_FAULT_PAUSE_ONCE_<NAME>=/path/marker`` makes the named point write its
process id to the marker file and stall, the first time only, so a test can kill
the worker process exactly mid-task and watch the task being redelivered.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def pause_once(name: str) -> None:
    marker = os.environ.get(f"REDCROSS_FAULT_PAUSE_ONCE_{name.upper()}")
    if not marker:
        return
    path = Path(marker)
    try:
        with path.open("x") as handle:  # only the first arrival pauses
            handle.write(str(os.getpid()))
    except FileExistsError:
        return
    time.sleep(300)
