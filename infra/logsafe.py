"""Log lines about failures that leave out the data behind them.

An exception's message, like the traceback Python prints with it, can carry
what the request or the event held: a name, an e-mail, a support need
(`KeyError: 'Sanne Jansen'`, a driver's "DETAIL: Key (email)=(...)"). Logs
leave the database's access control (shipped to log stores, read by
operators, kept in backups beyond an erasure), so a failure is logged by its
exception type and where it was raised: file, line and function of each
frame, which is code, not data. Never the message, never locals.

    describe(exc) -> "KeyError at web/api/routes.py:84 get_employer > service/ledger.py:131 get"

An exception raised while handling another (`raise ... from e`, or during
`except`) adds the first one's type and innermost frame: "...; from
psycopg.errors.UndefinedTable at infra/eventstore.py:210 read".
"""
from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from typing import Any

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
FRAMES = 8  # the innermost ones: where it went wrong


def error_type(exc: BaseException) -> str:
    t = type(exc)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _frame(f: traceback.FrameSummary) -> str:
    path = f.filename
    if path.startswith(_ROOT):
        path = path[len(_ROOT):]
    if "site-packages" + os.sep in path:
        path = path.split("site-packages" + os.sep, 1)[1]
    return f"{path}:{f.lineno} {f.name}"


def frames(exc: BaseException, limit: int = FRAMES) -> str:
    """The last `limit` frames the exception passed through, outermost first."""
    found = traceback.extract_tb(exc.__traceback__)[-limit:]
    return " > ".join(_frame(f) for f in found) or "(no traceback)"


def location(exc: BaseException) -> str:
    """Where the exception was raised in this project's code: the innermost
    frame under the project's root outside site-packages (else the innermost
    of all), as `file:line function`. Code, not data: kept with a projection's
    failure (rm.failures) to find its cause."""
    found = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in found if f.filename.startswith(_ROOT) and "site-packages" + os.sep not in f.filename]
    innermost = (ours or found)[-1:]
    return _frame(innermost[0]) if innermost else "unknown"


def describe(exc: BaseException) -> str:
    """The exception's type and frames, and the types and innermost frames of
    the exceptions it was raised from (at most three): never a message."""
    text = f"{error_type(exc)} at {frames(exc)}"
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen and len(seen) <= 3:
        seen.add(id(cause))
        text += f"; from {error_type(cause)} at {frames(cause, limit=1)}"
        cause = cause.__cause__ or cause.__context__
    return text


def _without_messages(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # (client, method, path with query, HTTP version, status): a query
            # can hold a searched name (/candidates?q=...); the path holds ids only.
            client, method, path, version, status = record.args
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            try:
                text = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string is logging's to report
                text = str(record.msg)
            record.msg, record.args = f"{text} [{describe(exc)}]", ()
            record.exc_info, record.exc_text = None, None
        return record
    make.sroi_without_messages = True  # type: ignore[attr-defined]
    return make


def install() -> None:
    """Every log record of this process that carries an exception (ours, or
    dramatiq's "Failed to process message", uvicorn's "Exception in ASGI
    application", any library's log.exception) gets describe(exc) instead of
    the traceback and message, and uvicorn's access log loses query strings.
    Called once by the CLI's entry point, so `sroi serve`, `worker` and `run`."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "sroi_without_messages", False):
        logging.setLogRecordFactory(_without_messages(factory))
