"""`RESTHandler`: a logging handler that POSTs records to an HTTP endpoint.

`emit` never blocks the caller (which may be an event loop): records go into a bounded
queue that one daemon thread, started on the first record, sends (urllib, one request
per record). When the queue is full, records are dropped and counted (`dropped`);
a failed POST is reported once on stderr through `logging`'s own error hook.
"""

from __future__ import annotations

import json
import logging
import queue
import threading

_QUEUE_SIZE = 1000
_TIMEOUT_S = 5.0


def _record_json(record: logging.LogRecord) -> str:
    return json.dumps(
        {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "created": record.created,
        }
    )


class RESTHandler(logging.Handler):
    """Sends each record as a JSON body (`method`, default POST) to `api_url`.

    The body is the handler's formatter output (set a `JsonFormatter`), or a small JSON
    object (level, logger, message, created) when no formatter is set.
    """

    def __init__(
        self, api_url: str, method: str = "POST", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.api_url = api_url
        self.method = method.upper()
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.dropped = 0
        self._queue: queue.Queue[str | None] = queue.Queue(_QUEUE_SIZE)
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            body = self.format(record) if self.formatter is not None else _record_json(record)
            self._ensure_worker()
            self._queue.put_nowait(body)
        except queue.Full:
            self.dropped += 1
        except Exception:
            self.handleError(record)

    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._send_loop, name="mellea-log-shipper", daemon=True
                )
                self._worker.start()

    def _send_loop(self) -> None:
        import urllib.request

        while True:
            body = self._queue.get()
            try:
                if body is None:
                    return
                request = urllib.request.Request(
                    self.api_url, data=body.encode(), headers=self.headers, method=self.method
                )
                with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                    response.read()
            except OSError as exc:  # URLError/HTTPError are OSErrors; so are timeouts
                _report_once(self, exc)
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every queued record was sent (or failed)."""
        if self._worker is not None and self._worker.is_alive():
            self._queue.join()

    def close(self) -> None:
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._queue.put(None)
            worker.join(_TIMEOUT_S)
        super().close()


_reported: set[int] = set()


def _report_once(handler: RESTHandler, exc: Exception) -> None:
    if id(handler) in _reported:
        return
    _reported.add(id(handler))
    # Not through a mellea logger: that could feed this very handler.
    if logging.lastResort is None:
        return
    logging.lastResort.handle(
        logging.makeLogRecord(
            {"msg": f"mellea RESTHandler could not send to {handler.api_url}: {exc}",
             "levelno": logging.WARNING, "levelname": "WARNING"}
        )
    )  # fmt: skip


__all__ = ["RESTHandler"]
