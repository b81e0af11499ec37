"""Log records never carry a credential: every message (and traceback) is masked with
:func:`core.urls.mask_text` when the record is made, whichever library logs it (redis, SQLAlchemy,
uvicorn, aio-pika, ours). Installed once per process by the entry points."""

from __future__ import annotations

import logging
from typing import Any

from core.urls import mask_text

__all__ = ["install_log_masking"]

_installed = False


def install_log_masking() -> None:
    """Wrap the log record factory so ``user:password@`` never reaches a handler (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string stays the handler's problem, as before
            return record
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
