"""What one server process shares between its sessions: memory bounded by bytes, a cap on
heavy runs at once, and the end of work whose session has gone.

Settings (environment variables, read once at start; defaults for a 2-core / 24 GB machine):
  DEEPRNN_MEMORY_MB   4096  what the app may hold: cached traces and summaries plus the runs in
                            flight (each reserves budget.MAX_TRACE_BYTES), on top of the
                            interpreter's own baseline (Python, numpy, torch, Streamlit)
  DEEPRNN_HEAVY_RUNS  2     traces, sweeps and timings computed at once (one per core); more
                            wait in a queue with a visible notice
Cached entries unused for ENTRY_SECONDS are dropped, and everything is dropped IDLE_SECONDS
after the last session closed, so an idle server returns to its post-start size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from app.runs import budget
from app.words.i18n import ngettext

MB = 1 << 20
MEMORY_BYTES = int(os.environ.get("DEEPRNN_MEMORY_MB", "4096")) * MB
HEAVY_RUNS = max(1, int(os.environ.get("DEEPRNN_HEAVY_RUNS", "2")))
CACHE_BYTES = max(MEMORY_BYTES - HEAVY_RUNS * budget.MAX_TRACE_BYTES, budget.MAX_TRACE_BYTES)
ENTRY_SECONDS = 600.0  # a cached trace nobody asked for in this long is dropped
IDLE_SECONDS = 15.0  # with no session connected for this long, the caches are emptied

# glibc keeps freed heap memory for reuse, and its mmap threshold climbs to 32 MB after the
# first big free, so a trace's arrays land in the heap and stay in RSS after eviction
# (measured: 625 MB held after four L = 16 LSTM traces were dropped, 37 MB after trimming).
# A fixed 1 MB threshold puts every array in its own mapping, returned when it is freed.
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6") if os.name == "posix" else None
_M_MMAP_THRESHOLD = -3
if _LIBC is not None and hasattr(_LIBC, "mallopt"):
    _LIBC.mallopt(_M_MMAP_THRESHOLD, MB)


def trim() -> None:
    """Give memory glibc keeps for reuse back to the system (after big evictions)."""
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


def held_bytes(value: Any) -> int:
    """Bytes of the numpy buffers reachable from ``value`` (dataclasses, dicts, sequences and
    object attributes), each buffer counted once even when several views share it."""
    seen_objects: set[int] = set()
    buffers: dict[int, int] = {}
    stack = [value]
    while stack:
        obj = stack.pop()
        if id(obj) in seen_objects or isinstance(obj, (str, bytes, int, float, bool, type(None))):
            continue
        seen_objects.add(id(obj))
        if isinstance(obj, np.ndarray):
            root = obj
            while isinstance(root.base, np.ndarray):
                root = root.base
            buffers[id(root)] = root.nbytes
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif is_dataclass(obj) or hasattr(obj, "__dict__"):
            names = [f.name for f in fields(obj)] if is_dataclass(obj) else []
            stack.extend(getattr(obj, n, None) for n in names)
            stack.extend(getattr(obj, "__dict__", {}).values())
    return sum(buffers.values())


class ByteCache:
    """A least-recently-used cache shared by every session, bounded by the bytes its values
    hold (``held_bytes``), not by a count. One thread computes a missing key while the others
    asking for it wait (and may give up through ``check``). Values are shared: read only."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._used: dict[Hashable, float] = {}  # key -> time.monotonic() of its last use
        self._making: dict[Hashable, threading.Event] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, make: Callable[[], Any], check: Callable[[], None] = None):
        """The value of ``key``, made by ``make()`` if missing. ``check`` is called while
        waiting for another thread making the same key (raise from it to stop waiting)."""
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    self._used[key] = time.monotonic()
                    return self._entries[key][0]
                event = self._making.get(key)
                if event is None:
                    event = self._making[key] = threading.Event()
                    break
            while not event.wait(0.2):
                if check is not None:
                    check()
        try:
            value = make()
        finally:
            with self._lock:
                del self._making[key]
            event.set()
        self.put(key, value)
        return value

    def peek(self, key: Hashable) -> Any:
        """The value of ``key`` (counted as a use), or None when it is not kept."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            self._used[key] = time.monotonic()
            return self._entries[key][0]

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` (unless it alone exceeds the capacity) and evict the least recently
        used entries until the total fits."""
        size = held_bytes(value)
        freed = 0
        with self._lock:
            if key in self._entries:
                self._bytes -= self._entries.pop(key)[1]
            if size <= self.capacity:
                self._entries[key] = (value, size)
                self._used[key] = time.monotonic()
                self._bytes += size
            while self._bytes > self.capacity and self._entries:
                old, (_, evicted) = self._entries.popitem(last=False)
                self._used.pop(old, None)
                self._bytes -= evicted
                freed += evicted
        if freed >= 16 * MB:
            trim()

    def expire(self, unused_for: float) -> int:
        """Drop the entries not used for ``unused_for`` seconds; returns the bytes freed."""
        now, freed = time.monotonic(), 0
        with self._lock:
            for key in [k for k, used in self._used.items() if now - used >= unused_for]:
                freed += self._entries.pop(key)[1]
                del self._used[key]
            self._bytes -= freed
        return freed

    def clear(self) -> None:
        """Drop every entry (values still in use elsewhere live on until released)."""
        with self._lock:
            self._entries.clear()
            self._used.clear()
            self._bytes = 0


CACHE = ByteCache(CACHE_BYTES)  # traces, summaries and training runs of every session


_sessions: set[str] = set()  # ids of the sessions that ran a page
_sessions_lock = threading.Lock()
_janitor: list[threading.Thread] = []


_frozen_at = 0  # len(sys.modules) at the last freeze_modules


def freeze_modules() -> None:
    """Exempt what the imports made from the cycle collector, whenever modules were imported
    since the last call (the first runs, torch's first import).

    Streamlit runs gc.collect(2) after every script run (runner.postScriptGC). It walks every
    tracked object: ~120,000 once the app is imported, ~250,000 with torch; measured 30 ms
    and 95 ms per collection, during which it holds the GIL, so the server sends the browser
    nothing: on a slider move that came before the last charts were sent. Objects made by
    imports live as long as the process; gc.freeze() moves everything alive now to a
    generation the collector skips (reference counting still frees them; only cycles made
    before the call wait for the process to end), and a collection then takes ~0 ms."""
    global _frozen_at
    if len(sys.modules) != _frozen_at:
        gc.freeze()
        _frozen_at = len(sys.modules)


def note_session() -> None:
    """Remember the current session, so the caches can be emptied when all have gone."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return
    with _sessions_lock:
        _sessions.add(ctx.session_id)
        if not _janitor:
            _janitor.append(threading.Thread(target=_tidy, name="deeprnn-janitor", daemon=True))
            _janitor[0].start()


def _tidy(period: float = 5.0) -> None:
    """Every ``period`` s: drop entries unused for ENTRY_SECONDS, and everything once no
    session has been connected for IDLE_SECONDS; then give the memory back."""
    idle_since = None
    while True:
        time.sleep(period)
        try:
            rt = runtime.get_instance()  # gone when the server (or an AppTest) has stopped
        except RuntimeError:
            with _sessions_lock:
                _janitor.clear()  # the next session starts a new janitor
                _sessions.clear()
            return
        with _sessions_lock:
            _sessions.intersection_update({s for s in _sessions if rt.is_active_session(s)})
            connected = bool(_sessions)
        freed = CACHE.expire(ENTRY_SECONDS)
        idle_since = None if connected else idle_since or time.monotonic()
        if idle_since is not None and time.monotonic() - idle_since >= IDLE_SECONDS and len(CACHE):
            freed += CACHE.bytes
            CACHE.clear()
            st.cache_data.clear()  # the small summaries, sweeps and timings too
        if freed:
            gc.collect()  # closed sessions hold their last page in reference cycles
            trim()


class SessionGone(Exception):
    """The session that asked for this work has closed or moved on (stop requested)."""


def session_gone() -> bool:
    """True when the current script run's session is no longer connected, or Streamlit asked
    this run to stop. False outside a Streamlit server (AppTest, scripts)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return False
    if not runtime.get_instance().is_active_session(ctx.session_id):
        return True
    requests = getattr(ctx, "script_requests", None)  # private state: read defensively
    return getattr(getattr(requests, "_state", None), "value", "") == "STOP"


def stop_if_gone() -> None:
    """Raise SessionGone when ``session_gone()``."""
    if session_gone():
        raise SessionGone("the session that asked for this run has gone")


_slots = threading.BoundedSemaphore(HEAVY_RUNS)
_queue_lock = threading.Lock()
_queue = {"running": 0, "waiting": 0}


def queue_length() -> tuple[int, int]:
    """(heavy runs in progress, runs waiting for a slot)."""
    with _queue_lock:
        return _queue["running"], _queue["waiting"]


@contextmanager
def heavy_run(what: str):
    """Hold one of the HEAVY_RUNS slots while computing ``what``; while all are taken, show
    "waiting for N runs" and give up if the session goes."""
    if not _slots.acquire(blocking=False):
        in_script = get_script_run_ctx(suppress_warning=True) is not None
        note = st.empty() if in_script else None
        with _queue_lock:
            _queue["waiting"] += 1
        try:
            while not _slots.acquire(timeout=0.25):
                stop_if_gone()
                if note is not None:
                    running, waiting = queue_length()
                    others = running + waiting - 1
                    note.info(
                        ngettext(
                            "Waiting for {others} other run on this server to finish before "
                            "{what} (at most {most} at once).",
                            "Waiting for {others} other runs on this server to finish before "
                            "{what} (at most {most} at once).",
                            others,
                        ).format(others=others, what=what, most=HEAVY_RUNS),
                        icon=":material/hourglass_top:",
                    )
        finally:
            with _queue_lock:
                _queue["waiting"] -= 1
        if note is not None:
            note.empty()
    with _queue_lock:
        _queue["running"] += 1
    try:
        yield
    finally:
        with _queue_lock:
            _queue["running"] -= 1
        _slots.release()
