"""The in-process request limit: a sliding window per key, its memory bounded."""

from __future__ import annotations

import time

import pytest

from api.throttle import Throttle


def test_a_key_gets_its_limit_then_waits_and_other_keys_are_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    throttle = Throttle(2, 60)
    assert [throttle.wait("a"), throttle.wait("a")] == [None, None]
    assert throttle.wait("a") == 61
    assert throttle.wait("b") is None
    now[0] += 30
    assert throttle.wait("a") == 31  # refused requests do not count
    now[0] += 31
    assert throttle.wait("a") is None


def test_it_forgets_the_least_recently_seen_keys_beyond_its_size() -> None:
    throttle = Throttle(1, 3600, max_keys=3)
    for key in "abcd":
        assert throttle.wait(key) is None
    assert throttle.wait("a") is None  # forgotten: it counts from zero again
    wait = throttle.wait("d")
    assert wait is not None and 3599 <= wait <= 3601
