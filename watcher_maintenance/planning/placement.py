"""Multi-dimensional bin packing of a node's guests onto other hosts.

A greedy largest-first pass, ranked by the weigher, solves almost every
real drain at once. When it gets stuck, a depth-first search with a work
budget tries the alternatives, skipping hosts that are interchangeable
(same free capacity and zone), so on small tight clusters it finds a
placement whenever one exists.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Sequence

from watcher_maintenance.planning.constraints import Constraint
from watcher_maintenance.planning.ordering import largest_first
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.weighers import Ranking

DEFAULT_SEARCH_BUDGET = 200_000


@dataclasses.dataclass
class PlacementResult:
    assignment: dict[str, str]     # guest uuid -> host name
    unplaced: list[Guest]          # guests greedy could not place
    exhausted: bool = False        # the search ran out of budget


class Placer:
    """Places guests on hosts so that every constraint holds."""

    def __init__(self, rules: Sequence[Constraint],
                 rank: Ranking,
                 budget: int = DEFAULT_SEARCH_BUDGET, groups=None):
        self.static_rules = [r for r in rules if r.static]
        self.dynamic_rules = [r for r in rules if not r.static]
        self.rank = rank
        self.budget = budget
        # A planning.groups.GroupState when guests are in server groups:
        # it learns each planned move, and which members a host holds
        # tells hosts apart in the search.
        self.groups = groups

    def allowed_hosts(self, guest: Guest, hosts: Sequence[Host],
                      free: dict[str, Resources] | None = None) -> list:
        """The hosts that pass every static rule for ``guest``.

        ``free`` maps host names to their free capacity when the caller
        has it already; ``Host.free`` is computed anew on every read.
        """
        rules = self.static_rules
        allowed = []
        for host in hosts:
            room = host.free if free is None else free[host.name]
            if all(r.passes(host, guest, room) for r in rules):
                allowed.append(host)
        return allowed

    def _fits(self, host, guest, free) -> bool:
        return all(r.passes(host, guest, free) for r in self.dynamic_rules)

    def place(self, guests: Sequence[Guest],
              hosts: Sequence[Host]) -> PlacementResult:
        order = largest_first(guests)
        free = {h.name: h.free for h in hosts}

        if self.groups is not None:
            self.groups.reset()
        greedy, stuck = self._greedy(order, hosts, dict(free))
        if not stuck:
            return PlacementResult(greedy, [])
        if self.groups is not None:
            self.groups.reset()
        allowed = {g.uuid: self.allowed_hosts(g, hosts, free) for g in order}

        # Quick proof of impossibility: one guest alone fits nowhere.
        if any(not any(self._fits(h, g, free[h.name]) for h in allowed[g.uuid])
               for g in order):
            return PlacementResult({}, stuck)

        # Most constrained guests first makes the search fail fast.
        search_order = sorted(order, key=lambda g: (len(allowed[g.uuid]),
                                                    order.index(g)))
        try:
            found, exhausted = self._search(search_order, allowed,
                                            dict(free))
        except RecursionError:
            # The search recurses once per guest; a node with more guests
            # than Python's stack allows is reported like an exhausted
            # search rather than with a traceback.
            found, exhausted = None, True
        if found is not None:
            return PlacementResult(found, [])
        return PlacementResult({}, stuck, exhausted=exhausted)

    def _can_take(self, host, guest, free) -> bool:
        return (self._fits(host, guest, free) and
                all(r.passes(host, guest, free) for r in self.static_rules))

    def _greedy(self, order, hosts, free):
        """Each guest, largest first, to its best-ranked host with room.

        Hosts are scanned by the ranking's bound (``weighers.Ranking``),
        and the scan stops once no remaining host can rank first; the
        hosts the bound does not cover are compared in full. The choice
        is the one a comparison of every host makes; only hosts near the
        top are looked at, so drains of many guests over many candidates
        stay cheap.
        """
        assignment, stuck = {}, []
        slack_of = self.rank.slack_for(hosts)
        entry = {h.name: (self.rank.order(h, free[h.name]), h.name, i)
                 for i, h in enumerate(hosts)}
        queue = sorted(entry.values())
        for guest in order:
            best = self._best_bounded(guest, hosts, queue, entry, free,
                                      slack_of(guest))
            if best is None:
                stuck.append(guest)
                continue
            assignment[guest.uuid] = best.name
            free[best.name] = free[best.name] - guest.needs
            if self.groups is not None:
                self.groups.take(best.name, guest)
            old = entry[best.name]
            del queue[bisect.bisect_left(queue, old)]
            entry[best.name] = (self.rank.order(best, free[best.name]),
                                best.name, old[2])
            bisect.insort(queue, entry[best.name])
        return assignment, stuck

    def _consider(self, host, guest, free, best, best_key):
        room = free[host.name]
        if self._can_take(host, guest, room):
            key = self.rank(host, guest, room)
            if best_key is None or key < best_key:
                return host, key
        return best, best_key

    def _best_bounded(self, guest, hosts, queue, entry, free, slack):
        best = best_key = None
        outside = self.rank.unbounded_hosts(guest)
        position = self.rank.bounded_position
        for bound, name, index in queue:
            if name in outside:
                continue
            if best_key is not None and bound - slack > best_key[position]:
                break    # no bounded host from here on can rank first
            best, best_key = self._consider(hosts[index], guest, free, best,
                                            best_key)
        for name in outside:
            if name in entry:
                best, best_key = self._consider(hosts[entry[name][2]], guest,
                                                free, best, best_key)
        return best

    def _search(self, order, allowed, free):
        assignment: dict[str, str] = {}
        work = [0]
        groups = self.groups

        def descend(index: int) -> bool:
            if index == len(order):
                return True
            guest = order[index]
            options = [h for h in allowed[guest.uuid]
                       if self._fits(h, guest, free[h.name])]
            options.sort(key=lambda h: self.rank(h, guest, free[h.name]))
            tried = set()
            for host in options:
                # Hosts with the same free capacity and zone (and the
                # same members of each hard server group) are
                # interchangeable for everything still to place.
                signature = (free[host.name], host.zone)
                if groups is not None:
                    signature += groups.signature(host.name)
                if signature in tried:
                    continue
                tried.add(signature)
                work[0] += 1
                if work[0] > self.budget:
                    return False
                free[host.name] = free[host.name] - guest.needs
                assignment[guest.uuid] = host.name
                if groups is not None:
                    groups.take(host.name, guest)
                if descend(index + 1):
                    return True
                free[host.name] = free[host.name] + guest.needs
                del assignment[guest.uuid]
                if groups is not None:
                    groups.release(host.name, guest)
            return False

        if descend(0):
            return assignment, False
        return None, work[0] > self.budget
