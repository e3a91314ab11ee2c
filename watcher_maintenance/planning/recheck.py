"""Is a planned move still valid in the cloud as it is now?

A plan is made from Watcher's cached model and may run hours later.
Just before a wave of migrations starts, the checkpoint action reads the
guests, destinations and server groups from Nova and Placement again
and asks this module whether every move of the wave still holds. The
rules are the planner's own (``constraints``, ``groups``), applied to
live facts, so a move is never judged by a second, different rule.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

from watcher_maintenance.planning import constraints
from watcher_maintenance.planning.groups import GroupState
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import ServerGroup
from watcher_maintenance.planning.inventory import total_needs
from watcher_maintenance.planning.plan import Outcome

# Nova server statuses each kind of migration accepts.
LIVE_STATUSES = ('ACTIVE',)
COLD_STATUSES = ('ACTIVE', 'SHUTOFF')

RUN_AGAIN = ('Guests already moved stay where they are. Run the audit again '
             'for a plan that fits the cloud as it is now.')


@dataclasses.dataclass(frozen=True)
class PlannedMove:
    """One migration of the plan, as its action records it."""

    guest_uuid: str
    guest_name: str | None
    outcome: Outcome
    source: str
    destination: str

    @property
    def label(self) -> str:
        return self.guest_name or self.guest_uuid


@dataclasses.dataclass(frozen=True)
class LiveServer:
    """A server as Nova reports it now."""

    guest: Guest        # its needs, from its flavor
    host: str | None
    status: str         # Nova's status: ACTIVE, SHUTOFF, PAUSED, ...


def problems(moves: Sequence[PlannedMove],
             servers: Mapping[str, LiveServer | None],
             hosts: Mapping[str, Host | None],
             groups: Sequence[ServerGroup] = ()) -> list[str]:
    """What no longer holds for ``moves``, which are about to run together.

    ``servers`` maps each moving guest's UUID to what Nova reports of it
    (None: deleted; a deleted guest, or one no longer on its source, is
    no problem: its move is skipped); ``hosts`` each destination to its
    live state and Placement usage (None: gone); ``groups`` are the
    server groups of the moving guests with their members where Nova has
    them now. An empty
    list means every move may start.
    """
    found = []
    arriving: dict[str, list[Guest]] = {}
    for move in moves:
        server = servers.get(move.guest_uuid)
        if server is None or server.host != move.source:
            # Deleted, or moved off its source by someone else: nothing
            # is left to move, and Watcher's own pre-condition skips the
            # migration. (A drain's end check still sees the node.)
            continue
        allowed = (LIVE_STATUSES if move.outcome is Outcome.LIVE
                   else COLD_STATUSES)
        if server.status not in allowed:
            found.append('%s is %s, and a %s migration needs it %s' % (
                move.label, server.status, move.outcome.value,
                ' or '.join(allowed)))
            continue
        arriving.setdefault(move.destination, []).append(server.guest)
    for name in sorted(arriving):
        found.extend(_destination_problems(name, hosts.get(name),
                                           arriving[name]))
    if groups:
        planned = {m.guest_uuid: m.destination for m in moves
                   if m.destination in arriving}
        moving = [servers[uuid].guest for uuid in planned]
        state = GroupState(None, groups, moving)
        found.extend(state.violations(planned))
    return found


def _destination_problems(name, host, guests):
    labels = ', '.join(g.label for g in guests)
    if host is None:
        return ['%s, the destination of %s, is no longer a compute host' % (
            name, labels)]
    if not host.schedulable:
        return ['%s now, so %s cannot go there' % (
            constraints.EnabledAndUp().refusal(host, guests[0], host.free),
            labels)]
    need = total_needs(guests)
    if not need.fits_within(host.free):
        return ['%s has too little free %s for %s (they need %s, it has %s '
                'free)' % (name, ' and '.join(need.shortfalls(host.free)),
                           labels, need.describe(), host.free.describe())]
    return []


def sentence(moves: Sequence[PlannedMove], found: Sequence[str]) -> str:
    """The operator's sentence when a wave may not start."""
    return ('Stopped before migrating %s: the cloud changed since the audit '
            'planned it: %s. Nothing of this wave was started. %s' % (
                ', '.join('%s to %s' % (m.label, m.destination)
                          for m in moves), '; '.join(found), RUN_AGAIN))


def strays(on_node: Mapping[str, str], staying: Sequence[str],
           node: str) -> str | None:
    """The sentence when the node still holds guests the plan moved or
    never knew of; None when it holds only the ones meant to stay.

    ``on_node`` maps each server Nova has on ``node`` now to its name.
    """
    left = sorted((name or uuid) for uuid, name in on_node.items()
                  if uuid not in set(staying))
    if not left:
        return None
    return ('%s is not empty: Nova still has %s on it, which this plan did '
            'not leave there on purpose (booted or moved there after the '
            'audit, or its migration did not take). Do not take %s down. '
            'Run the audit again to move %s.' % (
                node, ', '.join(left), node,
                'it' if len(left) == 1 else 'them'))
