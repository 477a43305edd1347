"""mellea's runtime plumbing, the bottom layer: it imports nothing else of mellea.

- `portal` — the one long-lived I/O event loop (in a daemon thread) all work runs on.
- `waiters` — waking a coroutine on its own event loop from any thread.
- `download` — bounded, cached HTTP fetches of media referenced by URL.

Everything here is private; the public paths (`mellea.helpers...`) re-export what users
may call.
"""
