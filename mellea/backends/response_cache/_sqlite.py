"""`SQLiteStore`: responses in a SQLite file (standard library), shared by processes.

The database runs in WAL mode, so readers never wait for a writer and several processes
(and threads) can use one file; writers wait up to `busy_timeout` for each other. All
SQLite work happens on one worker thread per store, never on the event loop.

Failures never fail a call: a locked, unreadable or corrupt database — or a row whose
checksum does not match — is a miss (and a put that did nothing), reported by one
warning per store; later failures are logged at debug level.

Eviction: each row records when it was last used; once the rows' total size passes
`max_bytes`, the least recently used go until it is back under 90% of the limit. Uses are
written in batches (at the next put, or every 256 hits) rather than one write per hit.
The total is kept by triggers, so checking it costs one row read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ._response import CachedResponse

logger = logging.getLogger("mellea.cache")
T = TypeVar("T")

_SCHEMA_VERSION = 1
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    checksum INTEGER NOT NULL,
    created REAL NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_used ON responses(used);
CREATE INDEX IF NOT EXISTS responses_created ON responses(created);
CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO totals VALUES (0, 0);
CREATE TRIGGER IF NOT EXISTS responses_added AFTER INSERT ON responses
BEGIN UPDATE totals SET bytes = bytes + new.size WHERE id = 0; END;
CREATE TRIGGER IF NOT EXISTS responses_removed AFTER DELETE ON responses
BEGIN UPDATE totals SET bytes = bytes - old.size WHERE id = 0; END;
CREATE TRIGGER IF NOT EXISTS responses_resized AFTER UPDATE OF size ON responses
BEGIN UPDATE totals SET bytes = bytes - old.size + new.size WHERE id = 0; END;
PRAGMA user_version = {_SCHEMA_VERSION};
COMMIT;
"""
_UPSERT = """
INSERT INTO responses (key, body, size, checksum, created, used) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET body = excluded.body, size = excluded.size,
    checksum = excluded.checksum, created = excluded.created, used = excluded.used
"""
_TOUCH_BATCH = 256
_EVICT_BATCH = 64


class SQLiteStore:
    """A response store in the SQLite file at `path` (created on first use).

    Args:
        path: The database file; its directory is created if needed.
        max_bytes: Evict least recently used responses beyond this many bytes (default 1 GiB).
        ttl: Seconds a response stays valid after it was stored (None: forever).
        busy_timeout: Seconds to wait for another writer before giving up (a miss).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = 2**30,
        ttl: float | None = None,
        busy_timeout: float = 0.5,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes!r}")
        self.path = Path(path).expanduser()
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.busy_timeout = busy_timeout
        self.failures = 0
        """How many operations degraded to a miss (or a skipped put)."""
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # used on the worker thread only
        self._touched: dict[str, float] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # ----- the async API (the I/O loop) ------------------------------------------------

    async def get(self, key: str) -> CachedResponse | None:
        return await self._call(self._get, key)

    async def put(self, key: str, response: CachedResponse) -> None:
        try:
            body = json.dumps(response.to_json(), separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:  # e.g. a non-JSON value in generation.extra
            logger.debug("response not stored: %s", exc)
            return
        await self._call(self._put, key, body)

    async def clear(self) -> None:
        """Delete every stored response (in every process using the file)."""
        await self._call(self._clear)

    async def aclose(self) -> None:
        """Write pending uses and close the database; later calls are misses."""
        if self._closed:
            return
        await self._call(self._close)
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T | None:
        if self._closed:
            return None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="mellea-cache")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._guarded, fn, *args)

    # ----- on the worker thread ----------------------------------------------------------

    def _guarded(self, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except Exception as exc:  # whatever went wrong, the call goes on without the cache
            self._failed(exc)
            return None

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.failures == 1:
            logger.warning(
                "response cache %s unusable (%s: %s); treating it as a miss", self.path,
                type(exc).__name__, exc,
            )  # fmt: skip
        else:
            logger.debug("response cache %s: %r", self.path, exc)
        if self._conn is not None and not isinstance(exc, sqlite3.OperationalError):
            conn, self._conn = self._conn, None  # damaged? reopen next time
            conn.close()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            try:
                conn.execute("PRAGMA synchronous=NORMAL")
                (version,) = conn.execute("PRAGMA user_version").fetchone()
                if version != _SCHEMA_VERSION:  # a new file (no write otherwise: locks)
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _get(self, key: str) -> CachedResponse | None:
        db = self._db()
        row = db.execute(
            "SELECT body, checksum, created FROM responses WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        body, checksum, created = row
        now = time.time()
        if self.ttl is not None and now - created > self.ttl:
            db.execute("DELETE FROM responses WHERE key = ?", (key,))
            return None
        if not isinstance(body, bytes) or zlib.crc32(body) != checksum:
            db.execute("DELETE FROM responses WHERE key = ?", (key,))
            raise ValueError(f"stored response {key[:12]}... failed its checksum")
        response = CachedResponse.from_json(json.loads(body))
        self._touched[key] = now
        if len(self._touched) >= _TOUCH_BATCH:
            with _transaction(db):
                self._write_uses(db)
        return response

    def _put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        db = self._db()
        now = time.time()
        with _transaction(db):
            db.execute(_UPSERT, (key, body, len(body), zlib.crc32(body), now, now))
            self._touched.pop(key, None)
            self._write_uses(db)
            if self.ttl is not None:
                db.execute("DELETE FROM responses WHERE created < ?", (now - self.ttl,))
            self._evict(db)

    def _write_uses(self, db: sqlite3.Connection) -> None:
        touched, self._touched = self._touched, {}
        db.executemany(
            "UPDATE responses SET used = ? WHERE key = ? AND used < ?",
            [(t, k, t) for k, t in touched.items()],
        )

    def _evict(self, db: sqlite3.Connection) -> None:
        (total,) = db.execute("SELECT bytes FROM totals WHERE id = 0").fetchone()
        excess = total - int(self.max_bytes * 0.9)
        if total <= self.max_bytes:
            return
        while excess > 0:
            rows = db.execute(
                "SELECT key, size FROM responses ORDER BY used LIMIT ?", (_EVICT_BATCH,)
            ).fetchall()
            if not rows:
                break
            doomed = []
            for key, size in rows:
                doomed.append((key,))
                excess -= size
                if excess <= 0:
                    break
            db.executemany("DELETE FROM responses WHERE key = ?", doomed)

    def _clear(self) -> None:
        db = self._db()
        with _transaction(db):
            db.execute("DELETE FROM responses")
        self._touched.clear()

    def _close(self) -> None:
        if self._conn is None:
            return
        try:
            if self._touched:
                with _transaction(self._conn):
                    self._write_uses(self._conn)
        finally:
            conn, self._conn = self._conn, None
            conn.close()


class _transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` (rolled back if the block raises)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


__all__ = ["SQLiteStore"]
