"""Other action plans' moves, counted as already made.

Two drains planned before either runs would otherwise both see the same
free capacity. So a new plan treats the moves of the other pending plans
(their unfinished migrations) as done: each guest's needs are counted on
its destination, while its source keeps them until the move really
happens. A node another plan is draining is never a destination.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Iterable, Sequence

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import ZERO


@dataclasses.dataclass(frozen=True)
class PendingMove:
    """An unfinished migration of another action plan."""

    plan: str           # the action plan's UUID
    guest: Guest
    source: str
    destination: str


@dataclasses.dataclass(frozen=True)
class Reservations:
    """What other action plans are about to do to the cloud."""

    moves: tuple[PendingMove, ...] = ()
    # Node -> UUID of the plan draining it.
    draining: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.moves or self.draining)

    def describe(self) -> str:
        """One sentence for the audit's message; '' when nothing counts."""
        if not self:
            return ''
        parts = []
        by_plan = collections.defaultdict(list)
        for move in self.moves:
            by_plan[move.plan].append(move.destination)
        for plan in sorted(by_plan):
            hosts = sorted(set(by_plan[plan]))
            parts.append('%d guest(s) of plan %s counted on %s' % (
                len(by_plan[plan]), plan, ', '.join(hosts)))
        for node, plan in sorted(self.draining):
            parts.append('%s is being drained by plan %s and takes no guest'
                         % (node, plan))
        return 'Other plans not yet done: %s.' % '; '.join(parts)


class ReservedHosts:
    """A ``HostSource`` with other plans' moves counted as made.

    ``own`` names the hosts this plan itself drains or restores: another
    plan's drain of one of them does not change how this plan sees it.
    """

    def __init__(self, hosts, reservations: Reservations,
                 own: Iterable[str] = ()):
        self._hosts = hosts
        self._own = set(own)
        self._arriving = collections.defaultdict(list)
        for move in reservations.moves:
            self._arriving[move.destination].append(move.guest)
        self._draining = dict(reservations.draining)

    def names(self):
        return self._hosts.names()

    def disabled_for(self, reason):
        return self._hosts.disabled_for(reason)

    def host(self, name) -> Host | None:
        host = self._hosts.host(name)
        if host is None:
            return None
        arriving = self._arriving.get(name)
        if arriving:
            extra = ZERO
            for guest in arriving:
                extra = extra + guest.needs
            host = dataclasses.replace(
                host, used=host.used + extra,
                guest_count=host.guest_count + len(arriving))
        if name in self._draining and name not in self._own:
            host = dataclasses.replace(
                host, enabled=False,
                disabled_reason='being drained by plan %s'
                % self._draining[name])
        return host


def pending_moves(plan: str, moves: Sequence[tuple[Guest, str, str]],
                  located) -> list[PendingMove]:
    """The moves of ``plan`` (guest, source, destination) not yet made.

    ``located(uuid)`` is where the cluster model has the guest now; a
    guest already on its destination there is not counted twice.
    """
    return [PendingMove(plan, guest, source, destination)
            for guest, source, destination in moves
            if located(guest.uuid) != destination]
