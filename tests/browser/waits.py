"""Waiting on a condition in a browser test, with the suite's generous deadline.

A test names the deadline it expects on a quiet machine; on a busy 2-core one
(CI, several suites at once) a first figure or a solve can take longer, so each
wait lasts at least :data:`WAIT_TIMEOUT`. The wait ends as soon as its condition
holds: passing runs are as fast as before.
"""

from __future__ import annotations

from dash.testing import wait

WAIT_TIMEOUT = 45


def until(condition, timeout: float = WAIT_TIMEOUT, poll: float = 0.1):
    """``condition()``'s first true value, polled until ``max(timeout, WAIT_TIMEOUT)``."""
    return wait.until(
        condition,
        max(timeout, WAIT_TIMEOUT),
        poll,
        msg=f"condition not met within {max(timeout, WAIT_TIMEOUT)} s",
    )
