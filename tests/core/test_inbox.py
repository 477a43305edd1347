"""The cross-thread inbox (`mellea._runtime.waiters`): batched wake-ups and spawns."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import weakref
from typing import Any

from mellea._runtime.portal import get_portal
from mellea._runtime.waiters import inbox, new_waiter, wake


class CountingLoop(asyncio.SelectorEventLoop):
    """A plain selector loop that counts its cross-thread calls (each one is a self-pipe write)."""

    threadsafe_calls = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
        type(self).threadsafe_calls += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_posts_from_threads_run_in_order_and_share_self_pipe_writes() -> None:
    loop = CountingLoop()
    got: list[tuple[int, int]] = []
    per_thread = 500

    async def main() -> None:
        box = inbox(asyncio.get_running_loop())
        assert box is not None
        done = asyncio.get_running_loop().create_future()

        def post_all(t: int) -> None:
            for i in range(per_thread):
                box.post(got.append, (t, i))

        threads = [threading.Thread(target=post_all, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        box.post(lambda _: done.set_result(None), None)
        await done

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert len(got) == 4 * per_thread
    for t in range(4):  # each thread's posts ran in the order it made them
        assert [i for tt, i in got if tt == t] == list(range(per_thread))
    # Posts made while a drain was already scheduled rode along with it.
    assert CountingLoop.threadsafe_calls < len(got) / 2


def test_a_woken_loop_is_freed_after_asyncio_run() -> None:
    refs: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        waiter = new_waiter()
        waker = threading.Thread(target=wake, args=(waiter,))
        waker.start()
        await waiter[1]
        waker.join()
        refs.append(weakref.ref(asyncio.get_running_loop()))

    for _ in range(3):
        asyncio.run(main())
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_spawned_generations_run_in_their_caller_context() -> None:
    """Spawns from many threads at once share inbox batches, yet each task sees the
    context variables of the thread that spawned it (hook scopes, deadlines, spans)."""
    var: contextvars.ContextVar[int] = contextvars.ContextVar("who")
    portal = get_portal()
    seen: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    async def report(expected: int) -> None:
        with lock:
            seen[expected] = var.get(-1)

    def spawn_many(t: int) -> None:
        var.set(t)
        barrier.wait()
        handles = [portal.spawn(report(t * 100 + i)) for i in range(50)]
        for i, h in enumerate(handles):
            while not h.done():
                threading.Event().wait(0.001)
            assert seen[t * 100 + i] == t

    threads = [threading.Thread(target=spawn_many, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(seen) == 8 * 50 and all(v == k // 100 for k, v in seen.items())


def _child_runs_on_its_own_portal(conn: Any) -> None:
    async def where() -> int:
        return threading.get_ident()

    from mellea._runtime.portal import run_sync

    conn.send((run_sync(where()), threading.get_ident()))


def test_a_forked_child_gets_its_own_io_loop() -> None:
    """The portal is reset at fork (os.register_at_fork), not by a pid check per use."""
    import multiprocessing

    from mellea._runtime.portal import run_sync

    async def where() -> int:
        return threading.get_ident()

    parent_io = run_sync(where())  # the parent's I/O thread exists before the fork
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_child_runs_on_its_own_portal, args=(there,))
    child.start()
    assert here.poll(30), "the child's sync call never finished"
    child_io, child_main = here.recv()
    child.join(10)
    assert child.exitcode == 0
    assert child_io != child_main  # ran on an I/O thread of the child's own
    assert parent_io == run_sync(where())  # and the parent's portal is untouched
