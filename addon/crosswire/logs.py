"""Redaction of every log record, whoever logs it (pure stdlib).

mitmproxy logs through Python's ``logging``; at high verbosity (``proxy_debug``, ``termlog_verbosity
=debug``) its own lines can carry request headers. Rather than trusting every logger, crosswire
installs a log-record factory that formats each record once, as it is created, and replaces the
routes' keys in the message and any traceback, so no handler (the terminal, mitmweb's event log, a
file) can ever receive one.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from .policy import Redactor


class _RedactingFactory:
    def __init__(self, previous: Callable[..., logging.LogRecord], redactor: Redactor) -> None:
        self.previous = previous
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when it is emitted, as usual
            return record
        if record.exc_info and record.exc_info[0] is not None:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg, record.args = self.redactor.log_text(message), ()
        return record


def install(redactor: Redactor) -> None:
    """Redact ``redactor``'s secrets from every record created from now on (replaces an earlier install)."""
    uninstall()
    if redactor:
        logging.setLogRecordFactory(_RedactingFactory(logging.getLogRecordFactory(), redactor))


def uninstall() -> None:
    """Remove crosswire's factory, wherever another factory was stacked on top of it."""
    factory = logging.getLogRecordFactory()
    if isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(factory.previous)
        return
    # Someone wrapped ours: unhook it from inside their chain, where we can see it.
    inner: Any = factory
    while inner is not None:
        nxt = getattr(inner, "previous", None)
        if isinstance(nxt, _RedactingFactory):
            inner.previous = nxt.previous
            return
        inner = nxt
