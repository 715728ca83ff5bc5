"""Logging filters: nothing personal in logs.

Request paths of the donor pages carry unguessable tokens and verification
codes, which are as good as a password to a donation's receipt; they are
redacted before any handler sees them.
"""

from __future__ import annotations

import logging
import re

_SECRET_PATH = re.compile(r"(/donations/(?:d|verify|receipts/verify))/[^\s\"'?]+")


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_PATH.sub(r"\1/…", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
