"""Slow down password guessing: a growing wait after repeated failed sign-ins.

Counted per account (whoever tries it, from any browser) and per session (whichever accounts one
browser tries), in this process's memory. The first few failures cost nothing; from then on
each failure doubles the wait before the next attempt is even checked, up to a ceiling. A
correct password clears the account's count. Pure: the clock is injected, so tests need no sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_ATTEMPTS = 3  # failures before any wait
FIRST_WAIT_S = 2.0  # after the first failure past the free ones; doubled for each further one
MAX_WAIT_S = 300.0  # five minutes at most, so a person who forgot is delayed, not locked out
FORGET_AFTER_S = 3600.0  # a count with no failure for an hour starts again


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0


class SignInThrottle:
    """Failure counts by key ('account:NAME', 'session:ID'); thread-safe (Streamlit sessions are threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}

    @staticmethod
    def _wait_after(failures: int) -> float:
        if failures < FREE_ATTEMPTS:
            return 0.0
        return min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (failures - FREE_ATTEMPTS))

    def wait(self, *keys: str) -> float:
        """Seconds before another attempt for these keys is checked (0 = now)."""
        now = self._clock()
        with self._lock:
            waits = []
            for key in keys:
                count = self._counts.get(key)
                if count is None or now - count.last > FORGET_AFTER_S:
                    continue
                waits.append(count.last + self._wait_after(count.failures) - now)
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        """Record a failed attempt against every key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                count = self._counts.setdefault(key, _Count())
                if now - count.last > FORGET_AFTER_S:
                    count.failures = 0
                count.failures += 1
                count.last = now

    def succeeded(self, account_key: str) -> None:
        """A correct password: the account's count starts again (the session's does not)."""
        with self._lock:
            self._counts.pop(account_key, None)


def account_key(name: str) -> str:
    """The throttle key of an account name as typed (case and spaces do not make a new account)."""
    return "account:" + " ".join(name.split()).lower()


def session_key(session_id: str) -> str:
    """The throttle key of one browser session."""
    return "session:" + session_id


THROTTLE = SignInThrottle()  # one per server process, shared by every session
