"""A bounded hand-off of incoming items from producer threads (paho's network loop) to the
asyncio writer.

Owns the backpressure rule: at most `capacity` items may be received and not yet committed.
A producer that finds it full blocks (so paho stops reading its socket and the broker holds
the backlog) until the writer commits and `release()`s slots. One loop wake-up per burst,
not one per message.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Handoff(Generic[T]):
    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._slots = threading.Semaphore(capacity)
        self._lock = threading.Lock()
        self._items: list[T] = []
        self._wake_pending = False
        self._event = asyncio.Event()
        self._closed = False
        self.capacity = capacity
        self.blocked = 0  # how many times a producer had to wait for room

    def put(self, item: T, stop: Callable[[], bool] | None = None) -> bool:
        """From any thread but the loop's: wait for room, then queue. False once closed."""
        if not self._slots.acquire(blocking=False):
            self.blocked += 1
            while not self._slots.acquire(timeout=0.1):
                if self._closed or (stop is not None and stop()):
                    return False
        return self._append(item, threadsafe=True)

    async def put_async(self, item: T) -> bool:
        """From a coroutine on the loop: wait (without blocking the loop) for room."""
        while not self._slots.acquire(blocking=False):
            if self._closed:
                return False
            await asyncio.sleep(0.005)
        return self._append(item, threadsafe=False)

    def _append(self, item: T, threadsafe: bool) -> bool:
        with self._lock:
            if self._closed:
                self._slots.release()
                return False
            self._items.append(item)
            wake = not self._wake_pending
            self._wake_pending = True
        if wake and not threadsafe:
            self._event.set()
        elif wake:
            try:
                self._loop.call_soon_threadsafe(self._event.set)
            except RuntimeError:  # the loop is closed: we are shutting down
                return False
        return True

    async def take(self, limit: int, wait_s: float) -> list[T]:
        """Everything queued (up to `limit`), waiting up to `wait_s` for more once one arrived.

        Returns [] only when closed and empty.
        """
        while True:
            with self._lock:
                if self._items or self._closed:
                    break
                self._wake_pending = False
            self._event.clear()
            await self._event.wait()
        if wait_s > 0 and len(self._items) < limit and not self._closed:
            await asyncio.sleep(wait_s)
        with self._lock:
            items, self._items = self._items[:limit], self._items[limit:]
            if not self._items:
                self._wake_pending = False
        return items

    def release(self, n: int) -> None:
        """The writer committed `n` items: let producers queue that many more."""
        if n:
            self._slots.release(n)

    def close(self) -> None:
        """Refuse further puts; `take` drains what is queued and then returns []."""
        with self._lock:
            self._closed = True
        self._loop.call_soon_threadsafe(self._event.set)

    @property
    def depth(self) -> int:
        return len(self._items)
