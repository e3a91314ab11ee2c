"""How far a running plan is, and when it will end: the arithmetic only.

Nova reports each live migration in flight with three counters
(``GET /servers/<id>/migrations``, microversion 2.23 and on):
``memory_total_bytes``, ``memory_processed_bytes`` (copied so far,
pages sent again after the guest dirtied them included) and
``memory_remaining_bytes``. From successive readings of them:

* a migration's **percentage** is the share of its memory no longer
  remaining; its **data rate** is how fast ``processed`` grew since the
  previous reading;
* the plan's **throughput** is the memory that stopped remaining, over
  every migration seen, divided by the time since the first one was
  seen. A migration that finishes between two readings counts with what
  remained at its last reading, so the throughput is refined as
  migrations finish. Pauses between migrations (checkpoints, cold
  migrations, stops) are in that time, as they are in the plan's;
* the plan's **ETA** is the memory still to copy (what remains of the
  running migrations plus the memory of the guests still waiting for a
  live migration) divided by that throughput. Cold migrations and stops
  have no counters and are not in it.

Plain data in and out; the caller brings the clock.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping


@dataclasses.dataclass(frozen=True)
class Transfer:
    """One live migration's memory counters, in bytes."""

    total: int
    processed: int
    remaining: int

    @property
    def done(self) -> int:
        """Memory no longer remaining (never below 0 or above total)."""
        return min(max(self.total - self.remaining, 0), max(self.total, 0))

    @property
    def percent(self) -> float:
        if self.total <= 0:
            return 0.0
        return 100.0 * self.done / self.total


@dataclasses.dataclass(frozen=True)
class Estimate:
    """What one reading tells: rates, memory left and the ETA."""

    # Migration id -> bytes/s since the previous reading (None: first
    # reading of that migration).
    rates: Mapping[str, float | None]
    # Bytes/s over the plan so far; None until a reading shows progress.
    throughput: float | None
    # Bytes still to copy: running migrations' remainder + waiting guests.
    bytes_left: int
    # Seconds to the end of the plan's live migrations; None if unknown.
    eta: float | None


@dataclasses.dataclass
class _Seen:
    time: float
    transfer: Transfer


class PlanEta:
    """Successive readings of a plan's migrations -> an ``Estimate`` each.

    ``observe(now, running, waiting_bytes)``: ``now`` in seconds (any
    monotonic clock), ``running`` maps a migration's id to its
    ``Transfer``, ``waiting_bytes`` is the memory of the guests whose
    live migration has not started.
    """

    def __init__(self):
        self._first = None          # time the first migration was seen
        self._done = 0              # bytes that stopped remaining
        self._seen: dict[str, _Seen] = {}

    def observe(self, now: float, running: Mapping[str, Transfer],
                waiting_bytes: int = 0) -> Estimate:
        rates = {}
        for key, transfer in running.items():
            before = self._seen.get(key)
            if before is None:
                rates[key] = None
            else:
                self._done += transfer.done - before.transfer.done
                elapsed = now - before.time
                rates[key] = (
                    max(transfer.processed - before.transfer.processed, 0)
                    / elapsed if elapsed > 0 else None)
            self._seen[key] = _Seen(now, transfer)
        for key in [k for k in self._seen if k not in running]:
            # Finished (or gone) since the last reading: what remained
            # then was copied.
            self._done += self._seen.pop(key).transfer.remaining
        if running and self._first is None:
            self._first = now
        throughput = None
        if self._first is not None and now > self._first and self._done > 0:
            throughput = self._done / (now - self._first)
        bytes_left = sum(t.remaining for t in running.values()) + max(
            waiting_bytes, 0)
        if not bytes_left:
            eta = 0.0 if self._first is not None else None
        elif throughput:
            eta = bytes_left / throughput
        else:
            eta = None
        return Estimate(rates=rates, throughput=throughput,
                        bytes_left=bytes_left, eta=eta)
