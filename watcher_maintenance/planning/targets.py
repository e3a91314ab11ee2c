"""Where guests are now, and where a restore should put them.

A restore's targets come from two sources: Watcher's record of the last
drain of the node (``from_drain``: the guests it moved go back) and the
operator's host map (``planning.host_map``). Both name guests that may
have moved or gone since; what cannot be followed is reported, not
guessed.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Protocol, Sequence

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import GuestState
from watcher_maintenance.planning.plan import Decision
from watcher_maintenance.planning.plan import Outcome


@dataclasses.dataclass(frozen=True)
class Placed:
    """A guest and the host it runs on now."""

    guest: Guest
    host: str


class GuestSource(Protocol):
    """Where the planner finds guests, by UUID or by name."""

    def by_uuid(self, uuid: str) -> Placed | None:
        """The guest with this UUID, or None if there is none."""

    def by_name(self, name: str) -> Sequence[Placed]:
        """Every guest with this name."""


class GuestList:
    """A ``GuestSource`` over guests that are already built."""

    def __init__(self, placed: Iterable[Placed]):
        self._by_uuid = {p.guest.uuid: p for p in placed}
        self._by_name: dict[str, list[Placed]] = {}
        for p in sorted(self._by_uuid.values(), key=lambda p: p.guest.uuid):
            self._by_name.setdefault(p.guest.name, []).append(p)

    def by_uuid(self, uuid):
        return self._by_uuid.get(uuid)

    def by_name(self, name):
        return self._by_name.get(name, [])


@dataclasses.dataclass(frozen=True)
class DrainedGuest:
    """One guest a ``host_drain`` plan moved off the node."""

    uuid: str
    name: str | None
    destination: str

    @property
    def label(self) -> str:
        return self.name or self.uuid


@dataclasses.dataclass(frozen=True)
class DrainRecord:
    """What Watcher recorded of the last executed drain of the node."""

    action_plan: str
    state: str
    moved: tuple[DrainedGuest, ...]
    # Guests it stopped in place (their maintenance_policy is stop, or
    # both kinds of migration were disabled); ``destination`` is unused.
    stopped: tuple[DrainedGuest, ...] = ()


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a guest should end up, and why."""

    placed: Placed
    host: str
    why: str


@dataclasses.dataclass(frozen=True)
class DrainReturn:
    """The drain's guests: those to bring back, and those that cannot be."""

    targets: tuple[Target, ...] = ()
    left: tuple[Decision, ...] = ()     # moved again since the drain
    missing: tuple[str, ...] = ()       # deleted since the drain
    notes: tuple[str, ...] = ()
    # Guests the drain stopped on the node that are still stopped there:
    # the restore starts them, so they end as they were before.
    to_start: tuple[Guest, ...] = ()


def from_drain(node_name: str, record: DrainRecord,
               guests: GuestSource) -> DrainReturn:
    """Targets for the guests the drain moved off the node."""
    targets, left, missing, notes = [], [], [], []
    if record.state != 'SUCCEEDED':
        notes.append('The last drain (action plan %s) ended %s; only the '
                     'guests it did move are considered.' % (
                         record.action_plan, record.state))
    for moved in record.moved:
        placed = guests.by_uuid(moved.uuid)
        if placed is None:
            missing.append(moved.label)
        elif placed.host not in (moved.destination, node_name):
            left.append(Decision(
                placed.guest, Outcome.LEFT,
                'moved since the drain: now on %s, not %s where host_drain '
                'put it' % (placed.host, moved.destination)))
        else:
            targets.append(Target(
                placed, node_name,
                'back to %s, where host_drain (action plan %s) took it from'
                % (node_name, record.action_plan)))
    to_start = []
    for stopped in record.stopped:
        placed = guests.by_uuid(stopped.uuid)
        # A multi-node drain does not record which node a stopped guest
        # was on: each node starts those still stopped on it.
        if placed is not None and placed.host == node_name and \
                GuestState.is_stopped(placed.guest.state):
            to_start.append(placed.guest)
    return DrainReturn(tuple(targets), tuple(left), tuple(missing),
                       tuple(notes), tuple(to_start))
