"""Structured logging for mellea: the `mellea` logger, context fields, formatters, handlers.

The library logs through `logging.getLogger("mellea")` and configures **no handlers**:
nothing is printed unless the application asks. `configure_logging(logger)` attaches the
handlers the `MELLEA_LOGS_*` environment variables describe — call it once (the
`mellea` command does) or attach your own handlers:

| variable | effect (when `configure_logging` runs) |
|---|---|
| `MELLEA_LOGS_ENABLED` | `false`/`0`/`no`: attach nothing |
| `MELLEA_LOGS_LEVEL` | the logger's level (default `INFO`) |
| `MELLEA_LOGS_JSON` | truthy: one JSON object per record (`JsonFormatter`) |
| `MELLEA_LOGS_CONSOLE` | `false`/`0`/`no`: no console handler (stderr otherwise) |
| `MELLEA_LOGS_FILE` (+ `_MAX_BYTES`, `_BACKUP_COUNT`) | a rotating log file |
| `MELLEA_LOGS_WEBHOOK` | an https URL records are POSTed to (`RESTHandler`) |
| `MELLEA_LOGGER_INSECURE_HTTP_ALLOWED` | truthy: allow a plain http webhook |

`log_context(request_id=...)` adds fields to every record logged inside the block (from
any task or thread it started: it is a `contextvars` value); `ContextFilter` puts them on
the records, `JsonFormatter` writes them out.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any

from .._runtime.log_shipping import RESTHandler

LOGGER_NAME = "mellea"

_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
_log_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "mellea_log_context", default=_NO_FIELDS
)
# Attributes every LogRecord has: context fields must not overwrite them.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def set_log_context(**fields: Any) -> None:
    """Add `fields` to every record logged from now on in this context (task / thread)."""
    _check_field_names(fields)
    _log_context.set({**_log_context.get(), **fields})


def clear_log_context() -> None:
    """Remove every context field set in this context."""
    _log_context.set(_NO_FIELDS)


@contextlib.contextmanager
def log_context(**fields: Any) -> Generator[None, None, None]:
    """Add `fields` to every record logged inside the block; restored on exit (nests)."""
    _check_field_names(fields)
    token = _log_context.set({**_log_context.get(), **fields})
    try:
        yield
    finally:
        _log_context.reset(token)


def current_log_context() -> dict[str, Any]:
    """The context fields in effect here."""
    return dict(_log_context.get())


def _check_field_names(fields: Mapping[str, Any]) -> None:
    clash = sorted(set(fields) & _RECORD_ATTRS)
    if clash:
        raise ValueError(f"log context fields may not shadow LogRecord attributes: {clash}")


class ContextFilter(logging.Filter):
    """Copies the `log_context` fields onto each record (a record's own extras win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _log_context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


_span_of_here: Callable[[], tuple[str, str] | None] | None = None


def set_trace_correlation(resolver: Callable[[], tuple[str, str] | None] | None) -> None:
    """Install how `OtelTraceFilter` finds the span of the code logging (None: the current
    OpenTelemetry span). `mellea.telemetry` installs one while tracing is on: the span of
    the mellea operation running there, also on mellea's I/O thread."""
    global _span_of_here
    _span_of_here = resolver


class OtelTraceFilter(logging.Filter):
    """Adds `trace_id` / `span_id` of the span the record was logged in, when there is one.

    A no-op when OpenTelemetry is not installed or no span is recording.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        resolver = _span_of_here
        if resolver is not None:
            found = resolver()
            if found is not None:
                record.trace_id, record.span_id = found
            return True
        trace = sys.modules.get("opentelemetry.trace")  # loaded only if the app uses it
        if trace is None:
            return True
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, message, where, context fields.

    `include_fields` keeps only those core fields, `exclude_fields` drops some;
    `extra_fields` are added to every record. Context fields (`log_context`), a record's
    `extra=` values, trace ids and the formatted exception are always included.
    """

    CORE_FIELDS = (
        "timestamp", "level", "message", "logger", "module", "function", "line_number",
        "process_id", "thread_id",
    )  # fmt: skip

    def __init__(
        self,
        timestamp_format: str = "%Y-%m-%dT%H:%M:%S",
        include_fields: list[str] | None = None,
        exclude_fields: list[str] | None = None,
        extra_fields: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(datefmt=timestamp_format, **kwargs)
        self._include = set(include_fields) if include_fields is not None else None
        self._exclude = set(exclude_fields or ())
        self._extra = dict(extra_fields or {})

    def format_as_dict(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as the dict `format` serialises."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError) as exc:  # wrong %-arguments: still log something
            message = f"<unformattable log message {record.msg!r}: {exc}>"
        core: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": message,
            "logger": record.name,
            "module": record.module,
            "function": record.funcName,
            "line_number": record.lineno,
            "process_id": record.process,
            "thread_id": record.thread,
        }
        out = {
            k: v
            for k, v in core.items()
            if (self._include is None or k in self._include) and k not in self._exclude
        }
        out.update(self._extra)
        # Context fields from the contextvar (works without ContextFilter) and any extras
        # a ContextFilter or `logger.info(..., extra={...})` put on the record.
        out.update(_log_context.get())
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return out

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.format_as_dict(record), default=str)


class CustomFormatter(logging.Formatter):
    """Readable console records, coloured by level: `=== HH:MM:SS-LEVEL ======` then the message."""

    grey = "\x1b[38;20m"
    cyan = "\x1b[36;20m"
    yellow = "\x1b[33;20m"
    red = "\x1b[31;20m"
    bold_red = "\x1b[31;1m"
    reset = "\x1b[0m"

    _LAYOUT = "=== %(asctime)s-%(levelname)s ======\n%(message)s"

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = "%H:%M:%S",
        style: Any = "%",
        validate: bool = True,
        *,
        defaults: Mapping[str, Any] | None = None,
        use_color: bool = False,
    ) -> None:
        super().__init__(fmt or self._LAYOUT, datefmt, style, validate, defaults=defaults)
        self.use_color = use_color

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not self.use_color:
            return text
        colour = {
            logging.DEBUG: self.cyan,
            logging.INFO: self.grey,
            logging.WARNING: self.yellow,
            logging.ERROR: self.red,
            logging.CRITICAL: self.bold_red,
        }.get(record.levelno, self.grey)
        return f"{colour}{text}{self.reset}"


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        warnings.warn(f"{name}={raw!r} is not an integer; using {default}", stacklevel=3)
        return default


def _level_from_env() -> int:
    name = os.environ.get("MELLEA_LOGS_LEVEL", "").strip().upper()
    level = logging.getLevelName(name) if name else logging.INFO
    return level if isinstance(level, int) else logging.INFO


def _webhook_url() -> str | None:
    url = os.environ.get("MELLEA_LOGS_WEBHOOK", "").strip()
    if not url:
        return None
    from urllib.parse import urlparse

    parsed = urlparse(url)
    insecure_ok = _env_flag("MELLEA_LOGGER_INSECURE_HTTP_ALLOWED", False)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and insecure_ok):
        warnings.warn(
            "MELLEA_LOGS_WEBHOOK ignored: it must be an https:// URL "
            "(MELLEA_LOGGER_INSECURE_HTTP_ALLOWED=1 allows http:// for local development)",
            UserWarning,
            stacklevel=3,
        )
        return None
    if not parsed.hostname:
        warnings.warn("MELLEA_LOGS_WEBHOOK ignored: no host name", UserWarning, stacklevel=3)
        return None
    return url


def configure_logging(logger: logging.Logger) -> None:
    """Attach the handlers the `MELLEA_LOGS_*` variables describe to `logger` (idempotent).

    Handlers attached by an earlier call are replaced, never duplicated. A log file that
    cannot be opened is a `UserWarning`, not an error.
    """
    for handler in list(logger.handlers):
        if getattr(handler, "_mellea_configured", False):
            logger.removeHandler(handler)
            handler.close()
    if not _env_flag("MELLEA_LOGS_ENABLED", True):
        return
    logger.setLevel(_level_from_env())
    as_json = _env_flag("MELLEA_LOGS_JSON", False)
    handlers: list[logging.Handler] = []
    if _env_flag("MELLEA_LOGS_CONSOLE", True):
        console = logging.StreamHandler(sys.stderr)
        tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        console.setFormatter(JsonFormatter() if as_json else CustomFormatter(use_color=tty))
        handlers.append(console)
    path = os.environ.get("MELLEA_LOGS_FILE", "").strip()
    if path:
        from logging.handlers import RotatingFileHandler

        try:
            file_handler = RotatingFileHandler(
                path,
                maxBytes=_env_int("MELLEA_LOGS_FILE_MAX_BYTES", 10 * 1024 * 1024),
                backupCount=_env_int("MELLEA_LOGS_FILE_BACKUP_COUNT", 5),
                encoding="utf-8",
            )
        except OSError as exc:
            warnings.warn(
                f"MELLEA_LOGS_FILE={path!r} cannot be opened ({exc}); no file log",
                UserWarning,
                stacklevel=2,
            )
        else:
            file_handler.setFormatter(JsonFormatter() if as_json else CustomFormatter())
            handlers.append(file_handler)
    webhook = _webhook_url()
    if webhook:
        rest = RESTHandler(webhook)
        rest.setFormatter(JsonFormatter())
        handlers.append(rest)
    for handler in handlers:
        handler._mellea_configured = True  # type: ignore[attr-defined]  # marks ours (see above)
        handler.addFilter(ContextFilter())
        handler.addFilter(OtelTraceFilter())
        logger.addHandler(handler)


class MelleaLogger:
    """The `mellea` logger and its level names (`MelleaLogger.get_logger()`).

    The logger has no handlers unless `configure_logging` (or the application) adds some.
    """

    CRITICAL = logging.CRITICAL
    FATAL = logging.FATAL
    ERROR = logging.ERROR
    WARNING = logging.WARNING
    WARN = logging.WARNING
    INFO = logging.INFO
    DEBUG = logging.DEBUG
    NOTSET = logging.NOTSET

    @staticmethod
    def get_logger() -> logging.Logger:
        """`logging.getLogger("mellea")`."""
        return logging.getLogger(LOGGER_NAME)


__all__ = [
    "ContextFilter",
    "CustomFormatter",
    "JsonFormatter",
    "MelleaLogger",
    "OtelTraceFilter",
    "RESTHandler",
    "clear_log_context",
    "configure_logging",
    "current_log_context",
    "log_context",
    "set_log_context",
    "set_trace_correlation",
]
