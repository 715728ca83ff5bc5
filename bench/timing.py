"""Timing helpers the benchmarks share."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.db import connection


def db_ms(function: Callable[[], object], repeat: int = 20, only: Callable[[str], bool] | None = None) -> float:
    """Database time of ``function``: the sum of its queries' time, median of ``repeat`` runs, in ms.

    ``only`` keeps the queries whose SQL it accepts (e.g. the lookups of a call that also writes)."""
    timings = []
    for _ in range(repeat):
        spent = [0.0]

        def wrapper(execute, sql, params, many, context, spent=spent):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if only is None or only(sql):
                    spent[0] += time.perf_counter() - began

        with connection.execute_wrapper(wrapper):
            function()
        timings.append(spent[0] * 1000)
    return statistics.median(timings)
