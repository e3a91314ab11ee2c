"""In which order a restore's moves run, so that each fits when it runs.

A restore's moves are known up front (guests back to the node, or where
a host map puts them), but the order matters: a guest can only move
once its destination has room, and when guests must swap hosts that
are full, one of them steps aside to another host with room first. A
depth-first search over the moves finds such an order; if none exists
the audit is refused before anything moves.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from watcher_maintenance.planning import constraints
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning import weighers
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import ZERO
from watcher_maintenance.planning.inventory import total_needs
from watcher_maintenance.planning.options import DEFAULT_ORDER_BUDGET
from watcher_maintenance.planning.plan import Decision
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.planning.targets import Placed

# Hosts tried as a stepping stone for one blocked guest, best first.
STAGING_CHOICES = 3


@dataclasses.dataclass(frozen=True)
class Move:
    """One migration, in the order the plan runs them."""

    guest: Guest
    outcome: Outcome
    source: str
    destination: str
    reason: str
    # A step aside: the guest goes to ``destination`` only to make room,
    # and moves on to its own host later in the plan.
    staging: bool = False
    # Indices of earlier moves of the plan that must finish first.
    waits_for: frozenset[int] = frozenset()

    def describe(self) -> str:
        return '%s: %s migration %s -> %s (%s)' % (
            self.guest.label, self.outcome.value, self.source,
            self.destination, self.reason)


def order_moves(moving: Sequence[tuple[Placed, Decision]], hosts,
                budget: int = DEFAULT_ORDER_BUDGET) -> list[Move]:
    """An order of migrations in which each one fits when it runs.

    ``moving`` pairs each guest (where it is now) with its decision (live
    or cold, and its final host). Returns the moves in run order,
    possibly with a guest stepping aside to another host first.

    :raises PlanningRefused: when the final distribution does not fit, or
        no order of moves (with steps aside) keeps every host within its
        capacity.
    """
    if not moving:
        return []
    involved = sorted({p.host for p, _ in moving}
                      | {d.destination for _, d in moving})
    free = {}
    for name in involved:
        host = hosts.host(name)
        free[name] = host.free
    _check_final_fit(moving, hosts, free)
    search = _OrderSearch(moving, hosts, free, budget)
    steps = search.run()
    if steps is None:
        raise PlanningRefused(_no_order_refusal(moving, free, search))
    by_uuid = {p.guest.uuid: (p, d) for p, d in moving}
    moves = []
    for uuid, source, destination in steps:
        placed, decision = by_uuid[uuid]
        staging = destination != decision.destination
        reason = decision.reason
        if staging:
            reason = ('%s; steps aside to %s to make room, then moves on to '
                      '%s' % (decision.outcome.value, destination,
                              decision.destination))
        moves.append(Move(placed.guest, decision.outcome, source,
                          destination, reason, staging))
    touched = {m.source for m in moves} | {m.destination for m in moves}
    waits = ordering.waits_for(
        moves, {name: hosts.host(name).free for name in touched})
    return [dataclasses.replace(move, waits_for=after)
            for move, after in zip(moves, waits)]


def _check_final_fit(moving, hosts, free):
    """Refuse when a host would be over capacity once every move is done."""
    arriving: dict[str, list[Guest]] = {}
    leaving: dict[str, list[Guest]] = {}
    for placed, decision in moving:
        arriving.setdefault(decision.destination, []).append(placed.guest)
        leaving.setdefault(placed.host, []).append(placed.guest)
    problems = []
    for name in sorted(arriving):
        final = free[name] + total_needs(leaving.get(name, ())) - \
            total_needs(arriving[name])
        if not ZERO.fits_within(final):
            need = total_needs(arriving[name])
            text = ('%s would be over capacity in %s: arriving %s need %s, '
                    'it has %s free' % (
                        name, ' and '.join(ZERO.shortfalls(final)),
                        ', '.join(g.label for g in arriving[name]),
                        need.describe(), free[name].describe()))
            if leaving.get(name):
                text += ' plus %s from %s leaving' % (
                    total_needs(leaving[name]).describe(),
                    ', '.join(g.label for g in leaving[name]))
            problems.append(text)
    if problems:
        raise PlanningRefused(
            'The requested distribution does not fit: %s. Nothing was '
            'planned. Change the host map, or free capacity on those hosts, '
            'and run the audit again.' % '; '.join(problems))


class _OrderSearch:
    """Depth-first search for a run order of the moves.

    A state is where every moving guest is. At each state it first tries
    the guests that can go straight to their host, preferring those whose
    departure frees a host another guest is waiting for; when it is
    stuck, a guest that has not yet stepped aside may move to another
    host with room. States already found to be dead ends are not
    explored twice, and the work is bounded by ``budget``.
    """

    def __init__(self, moving, hosts, free, budget):
        self.guests = {p.guest.uuid: p.guest for p, _ in moving}
        self.start = {p.guest.uuid: p.host for p, _ in moving}
        self.goal = {p.guest.uuid: d.destination for p, d in moving}
        self.order = [g.uuid for g in
                      ordering.largest_first(list(self.guests.values()))]
        self.hosts = hosts
        self.free = dict(free)
        self.budget = budget
        self.work = 0
        self.exhausted = False
        self.room = constraints.HasRoom()
        self.static_rules = [constraints.EnabledAndUp(),
                             constraints.InAuditScope(),
                             constraints.SameAvailabilityZone()]
        self._staging_hosts = None

    def run(self):
        where = dict(self.start)
        steps: list[tuple[str, str, str]] = []
        dead: set = set()
        if self._descend(where, set(), steps, dead):
            return steps
        return None

    def _fits(self, name, uuid):
        guest = self.guests[uuid]
        host = self.hosts.host(name)
        return self.room.passes(host, guest, self.free[name])

    def _apply(self, where, steps, uuid, destination):
        source = where[uuid]
        needs = self.guests[uuid].needs
        self.free[source] = self.free[source] + needs
        self.free[destination] = self.free.get(destination, ZERO) - needs
        where[uuid] = destination
        steps.append((uuid, source, destination))

    def _undo(self, where, steps):
        uuid, source, destination = steps.pop()
        needs = self.guests[uuid].needs
        self.free[destination] = self.free[destination] + needs
        self.free[source] = self.free[source] - needs
        where[uuid] = source

    def _descend(self, where, staged, steps, dead) -> bool:
        pending = [u for u in self.order if where[u] != self.goal[u]]
        if not pending:
            return True
        state = tuple(sorted(where.items()))
        if state in dead:
            return False
        self.work += 1
        if self.work > self.budget:
            self.exhausted = True
            return False
        wanted = {self.goal[u] for u in pending}
        direct = [u for u in pending if self._fits(self.goal[u], u)]
        # Leaving a host someone waits for first unblocks the most.
        direct.sort(key=lambda u: (where[u] not in wanted,
                                   self.order.index(u)))
        for uuid in direct:
            self._apply(where, steps, uuid, self.goal[uuid])
            if self._descend(where, staged, steps, dead):
                return True
            self._undo(where, steps)
            if self.exhausted:
                return False
        for uuid in pending:
            if uuid in staged or uuid in direct:
                continue
            for name in self._stepping_stones(uuid, where):
                self._apply(where, steps, uuid, name)
                staged.add(uuid)
                if self._descend(where, staged, steps, dead):
                    return True
                staged.discard(uuid)
                self._undo(where, steps)
                if self.exhausted:
                    return False
        dead.add(state)
        return False

    def _stepping_stones(self, uuid, where):
        """Other hosts the guest may wait on, best first."""
        guest = self.guests[uuid]
        if self._staging_hosts is None:
            self._staging_hosts = [
                h for h in (self.hosts.host(n) for n in self.hosts.names())
                if h is not None and h.schedulable and h.in_scope]
            for host in self._staging_hosts:
                self.free.setdefault(host.name, host.free)
        options = []
        for host in self._staging_hosts:
            if host.name in (where[uuid], self.goal[uuid]):
                continue
            if not all(r.passes(host, guest, host.free)
                       for r in self.static_rules):
                continue
            if self.room.passes(host, guest, self.free[host.name]):
                options.append(host)
        rank = weighers.ranking_key(weighers.SPREAD)
        options.sort(key=lambda h: rank(h, guest, self.free[h.name]))
        chosen, seen = [], set()
        for host in options:
            signature = (self.free[host.name], host.zone)
            if signature in seen:
                continue
            seen.add(signature)
            chosen.append(host.name)
            if len(chosen) == STAGING_CHOICES:
                break
        return chosen


def _no_order_refusal(moving, free, search) -> str:
    blocked = []
    for placed, decision in moving:
        if not placed.guest.needs.fits_within(free[decision.destination]):
            blocked.append('%s (%s) waits for room on %s, which has %s free'
                           % (placed.guest.label,
                              placed.guest.needs.describe(),
                              decision.destination,
                              free[decision.destination].describe()))
    text = ('The requested distribution fits in the end, but no order of '
            'migrations keeps every host within its capacity while they '
            'run: %s. ' % ('; '.join(blocked[:10]) or 'the moves block each '
                           'other'))
    if search.exhausted:
        text += ('The search for an order stopped at its work limit. ')
    else:
        text += ('No other enabled host in the audit scope has room for one '
                 'of them to step aside. ')
    return text + ('Free capacity on one of these hosts (or on another '
                   'host), or realise the map in smaller steps.')
