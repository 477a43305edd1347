"""mellea.core.utils: no output by default, context fields, JSON records, env configuration,
and the REST handler against a real local HTTP endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mellea.core import MelleaLogger, clear_log_context, log_context, set_log_context
from mellea.core.utils import (
    ContextFilter,
    CustomFormatter,
    JsonFormatter,
    OtelTraceFilter,
    RESTHandler,
    configure_logging,
    current_log_context,
)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("mellea.test_logging")
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    clear_log_context()


def test_the_library_configures_no_handlers_and_prints_nothing() -> None:
    code = (
        "import logging, mellea, mellea.core; from mellea.core import MelleaLogger; "
        "log = MelleaLogger.get_logger(); log.warning('hello'); log.info('x'); "
        "print(len(log.handlers), log is logging.getLogger('mellea'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "0 True\n"
    assert MelleaLogger.WARN == logging.WARNING and MelleaLogger.FATAL == logging.CRITICAL


def record(msg: str = "hello", **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("mellea", logging.INFO, __file__, 7, msg, None, None, "fn")
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_log_context_nests_and_reaches_tasks() -> None:
    async def in_task() -> dict[str, Any]:
        return current_log_context()

    with log_context(request_id="r1"):
        with log_context(user="u"):
            assert current_log_context() == {"request_id": "r1", "user": "u"}
            seen = asyncio.run(in_task())
        assert current_log_context() == {"request_id": "r1"}
    assert seen == {"request_id": "r1", "user": "u"} and current_log_context() == {}
    set_log_context(a=1)
    set_log_context(b=2)
    assert current_log_context() == {"a": 1, "b": 2}
    clear_log_context()
    assert current_log_context() == {}
    with pytest.raises(ValueError, match="shadow"):
        set_log_context(msg="no")


def test_json_formatter_fields() -> None:
    fmt = JsonFormatter(extra_fields={"service": "svc"}, exclude_fields=["process_id"])
    with log_context(request_id="req-abc"):
        data = json.loads(fmt.format(record("a %s", user_id="usr-42")))
    assert data["message"] == "a %s" and data["level"] == "INFO" and data["line_number"] == 7
    assert data["service"] == "svc" and "process_id" not in data
    assert data["request_id"] == "req-abc" and data["user_id"] == "usr-42"
    only = JsonFormatter(include_fields=["message"]).format_as_dict(record())
    assert only == {"message": "hello"}
    broken = logging.LogRecord("mellea", logging.INFO, "f", 1, "%s %s", ("one",), None)
    assert "unformattable" in JsonFormatter().format_as_dict(broken)["message"]


def test_filters_and_console_format() -> None:
    rec = record()
    with log_context(session_id="s1"):
        assert ContextFilter().filter(rec) and rec.session_id == "s1"  # type: ignore[attr-defined]
    assert OtelTraceFilter().filter(rec)  # no OpenTelemetry: nothing added, record kept
    text = CustomFormatter().format(record("SUCCESS"))
    assert text.startswith("=== ") and "-INFO ======\nSUCCESS" in text
    assert CustomFormatter(use_color=True).format(record()).startswith(CustomFormatter.grey)


def test_configure_logging_from_the_environment(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log_file = tmp_path / "mellea.log"
    monkeypatch.setenv("MELLEA_LOGS_LEVEL", "DEBUG")
    monkeypatch.setenv("MELLEA_LOGS_JSON", "1")
    monkeypatch.setenv("MELLEA_LOGS_CONSOLE", "false")
    monkeypatch.setenv("MELLEA_LOGS_FILE", str(log_file))
    configure_logging(logger)
    configure_logging(logger)  # idempotent
    assert logger.level == logging.DEBUG and len(logger.handlers) == 1
    with log_context(request_id="r9"):
        logger.debug("to the file")
    logger.handlers[0].flush()
    line = json.loads(log_file.read_text().strip())
    assert line["message"] == "to the file" and line["request_id"] == "r9"
    monkeypatch.setenv("MELLEA_LOGS_ENABLED", "no")
    configure_logging(logger)
    assert logger.handlers == []


def test_bad_settings_warn_instead_of_failing(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MELLEA_LOGS_CONSOLE", "0")
    monkeypatch.setenv("MELLEA_LOGS_FILE", str(tmp_path / "no" / "such" / "dir" / "x.log"))
    monkeypatch.setenv("MELLEA_LOGS_WEBHOOK", "http://127.0.0.1:9/logs")
    with pytest.warns(UserWarning) as caught:
        configure_logging(logger)
    messages = " ".join(str(w.message) for w in caught)
    assert "MELLEA_LOGS_FILE" in messages and "https" in messages
    assert logger.handlers == []


class Collector:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def _take(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                collector.bodies.append((self.command, body, dict(self.headers)))
                self.send_response(204)
                self.end_headers()

            do_POST = do_PUT = _take

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/logs"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_rest_handler_ships_records_without_blocking(logger: logging.Logger) -> None:
    collector = Collector()
    try:
        handler = RESTHandler(collector.url, method="PUT", headers={"X-Token": "t"})
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        with log_context(run="7"):
            logger.info("first")
        logger.warning("second")
        handler.flush()
        assert [b["message"] for _, b, _ in collector.bodies] == ["first", "second"]
        method, body, headers = collector.bodies[0]
        assert method == "PUT" and body["run"] == "7" and headers["X-Token"] == "t"
        plain = RESTHandler(collector.url)
        plain.handle(record("bare"))
        plain.flush()
        plain.close()
        assert collector.bodies[-1][1]["message"] == "bare"
    finally:
        collector.httpd.shutdown()
        collector.httpd.server_close()


def test_webhook_from_the_environment(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = Collector()
    try:
        monkeypatch.setenv("MELLEA_LOGS_CONSOLE", "0")
        monkeypatch.setenv("MELLEA_LOGS_WEBHOOK", collector.url)
        monkeypatch.setenv("MELLEA_LOGGER_INSECURE_HTTP_ALLOWED", "1")
        configure_logging(logger)
        (handler,) = logger.handlers
        assert isinstance(handler, RESTHandler)
        logger.error("shipped")
        handler.flush()
        assert collector.bodies[0][1]["level"] == "ERROR"
    finally:
        collector.httpd.shutdown()
        collector.httpd.server_close()
