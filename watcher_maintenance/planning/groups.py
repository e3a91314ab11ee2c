"""Nova server groups during a drain.

Nova checks a hard policy on every single migration: an ``anti-affinity``
member may not land where ``max_server_per_host`` members already run,
and an ``affinity`` member may only land where the rest of its group is.
``GroupState`` holds what the planner needs to honour that: which of the
guests to move belong to which group, and how many members each host
holds, counting the moves planned so far. The rules themselves are
``constraints.AntiAffinity`` and ``constraints.Affinity``; the soft
policies only rank hosts (``preferring``).

Nothing here is built when no guest to move is in a group.
"""

from __future__ import annotations

import collections
from typing import Iterable, Mapping, Sequence

from watcher_maintenance.planning import weighers
from watcher_maintenance.planning import wording
from watcher_maintenance.planning.inventory import AFFINITY
from watcher_maintenance.planning.inventory import ANTI_AFFINITY
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import SOFT_AFFINITY
from watcher_maintenance.planning.inventory import SOFT_ANTI_AFFINITY
from watcher_maintenance.planning.inventory import ServerGroup

# How much a member already on a host counts for or against it.
_PULL = {AFFINITY: -1, SOFT_AFFINITY: -1,
         ANTI_AFFINITY: 1, SOFT_ANTI_AFFINITY: 1}


class _PreferringGroups:
    """A ``weighers.Ranking``: the pull of a guest's server groups on a
    host, then ``base``'s key. Only hosts holding members of the guest's
    groups pull; every other host has pull 0, so ``base``'s bound holds
    for them one position further on, and the placer keeps its bounded
    scan with these hosts compared in full."""

    def __init__(self, state: GroupState, base: weighers.Ranking):
        self.state = state
        self.base = base
        self.bounded_position = 1 + base.bounded_position

    def __call__(self, host, guest, free):
        state, pull = self.state, 0
        for group in state.groups_of(guest):
            pull += _PULL[group.policy] * state.count(group, host.name)
        return (pull,) + self.base(host, guest, free)

    def order(self, host, free):
        return self.base.order(host, free)

    def slack_for(self, hosts):
        return self.base.slack_for(hosts)

    def unbounded_hosts(self, guest):
        hosts = set(self.base.unbounded_hosts(guest))
        for group in self.state.groups_of(guest):
            hosts.update(self.state.hosts_with_members(group))
        return hosts


class GroupState:
    """The server groups of the guests to move, and where members run."""

    def __init__(self, node: str | Iterable[str] | None,
                 groups: Sequence[ServerGroup], moving: Sequence[Guest]):
        # The node(s) being drained, and how sentences name them.
        self.nodes = frozenset([node] if isinstance(node, str)
                               else node or ())
        self.node = wording.listed(sorted(self.nodes))
        self.moving = {g.uuid: g for g in moving}
        self.groups: list[ServerGroup] = []
        self._of: dict[str, list[ServerGroup]] = {}
        for group in groups:
            mine = [m.uuid for m in group.members if m.uuid in self.moving]
            if not mine:
                continue
            self.groups.append(group)
            for uuid in mine:
                self._of.setdefault(uuid, []).append(group)
        self.hard = [g for g in self.groups if g.hard]
        # Members that stay where they are, per group and host.
        self._staying: dict[str, collections.Counter] = {}
        for group in self.groups:
            counts = collections.Counter(
                m.host for m in group.members
                if m.uuid not in self.moving and m.host is not None)
            self._staying[group.uuid] = counts
        self._moved: dict[str, collections.Counter] = {}
        self.reset()

    @classmethod
    def for_drain(cls, node: str | Iterable[str],
                  groups: Sequence[ServerGroup],
                  moving: Sequence[Guest]) -> GroupState | None:
        """The state, or None when no guest to move is in a group."""
        if not groups or not moving:
            return None
        state = cls(node, groups, moving)
        return state if state.groups else None

    # -- what the placer and the rules ask --------------------------------

    def reset(self) -> None:
        """Forget the moves planned so far."""
        self._moved = {g.uuid: collections.Counter() for g in self.groups}

    def groups_of(self, guest: Guest) -> list[ServerGroup]:
        return self._of.get(guest.uuid, [])

    def count(self, group: ServerGroup, host: str) -> int:
        """Members of ``group`` on ``host``, with the moves planned."""
        return self._staying[group.uuid][host] + self._moved[group.uuid][host]

    def hosts_with_members(self, group: ServerGroup) -> set[str]:
        """Hosts other than the node that hold (or will hold) a member."""
        hosts = {h for h, n in self._staying[group.uuid].items() if n}
        hosts.update(h for h, n in self._moved[group.uuid].items() if n)
        return hosts - self.nodes

    def take(self, host: str, guest: Guest) -> None:
        for group in self._of.get(guest.uuid, ()):
            self._moved[group.uuid][host] += 1

    def release(self, host: str, guest: Guest) -> None:
        for group in self._of.get(guest.uuid, ()):
            self._moved[group.uuid][host] -= 1

    def signature(self, host: str) -> tuple:
        """What a host holds of the hard groups: two hosts with the same
        free capacity, zone and signature are interchangeable."""
        return tuple(self.count(g, host) for g in self.hard)

    def preferring(self, rank: weighers.Ranking) -> weighers.Ranking:
        """``rank`` with the groups' wishes first: fewer members of an
        anti-affinity group, more of an affinity group."""
        return _PreferringGroups(self, rank)

    # -- checks and sentences ------------------------------------------------

    def members_on_node(self, group: ServerGroup) -> list[str]:
        return [self.moving[m.uuid].label for m in group.members
                if m.uuid in self.moving]

    def affinity_blockers(self) -> list[tuple[ServerGroup, str]]:
        """Hard-affinity groups Nova would not let Watcher move, and why.

        Watcher migrates one server at a time, and Nova accepts a member
        of an affinity group only on the host where the rest of the group
        runs. So a member can move only when it is the group's sole
        server on the node and the others (if any) share one other host.
        """
        blocked = []
        for group in self.groups:
            if group.policy != AFFINITY:
                continue
            on_node = self.members_on_node(group)
            others = [m for m in group.members if m.uuid not in self.moving]
            behind = [m.label for m in others if m.host in self.nodes]
            unknown = [m.label for m in others if m.host is None]
            elsewhere = sorted({m.host for m in others
                                if m.host is not None
                                and m.host not in self.nodes})
            if len(on_node) > 1:
                why = ('its members %s on %s would move one at a time, and '
                       'Nova refuses the first move because it leaves the '
                       'others behind' % (wording.listed(on_node), self.node))
            elif behind:
                why = ('%s stays on %s, and Nova refuses to move %s away '
                       'from it' % (wording.listed(behind), self.node,
                                    on_node[0]))
            elif len(elsewhere) > 1:
                why = ('its other members already run on %s, so Nova '
                       'accepts no destination for %s' % (
                           wording.listed(elsewhere), on_node[0]))
            elif unknown:
                why = ('the host of its member(s) %s is not in the cluster '
                       'model, so the destination Nova requires for %s is '
                       'unknown' % (wording.listed(unknown), on_node[0]))
            else:
                continue
            blocked.append((group, why))
        return blocked

    def violations(self, assignment: Mapping[str, str]) -> list[str]:
        """Each hard policy the moves in ``assignment`` would break.

        Checked as Nova checks them, one move after another: the last
        member to land on a host sees every other member there.
        """
        found = []
        for group in self.hard:
            moved = collections.Counter(
                assignment[m.uuid] for m in group.members
                if m.uuid in assignment)
            if group.policy == ANTI_AFFINITY:
                limit = group.max_server_per_host
                for host in sorted(moved):
                    total = moved[host] + self._staying[group.uuid][host]
                    if total > limit:
                        found.append(
                            'server group %s would have %d members on %s' % (
                                group.describe(), total, host))
            else:
                hosts = set(moved) | {
                    h for h, n in self._staying[group.uuid].items() if n}
                if len(hosts) > 1:
                    found.append('server group %s would be split over %s' % (
                        group.describe(), wording.listed(sorted(hosts))))
        return found

    def shortages(self, candidates, can_take) -> list[str]:
        """Why the hard groups leave no placement, one sentence each.

        ``can_take(host, guest)`` says whether a host passes every rule
        but the groups' for the guest alone.
        """
        lines = []
        for group in self.hard:
            members = [self.moving[m.uuid] for m in group.members
                       if m.uuid in self.moving]
            labels = wording.listed(g.label for g in members)
            if group.policy == AFFINITY:
                target = sorted(self.hosts_with_members(group))
                if target:
                    host = next((h for h in candidates
                                 if h.name == target[0]), None)
                    if host is None or not can_take(host, members[0]):
                        lines.append(
                            'server group %s: its other members run on %s, '
                            'so Nova accepts %s only there, and %s cannot '
                            'take it now' % (group.describe(), target[0],
                                             labels, target[0]))
                continue
            limit = group.max_server_per_host
            slots, usable, full = 0, [], []
            for host in candidates:
                if not any(can_take(host, g) for g in members):
                    continue
                left = limit - self._staying[group.uuid][host.name]
                if left > 0:
                    slots += left
                    usable.append(host.name)
                else:
                    full.append(host.name)
            if slots < len(members):
                line = ('server group %s: its members %s on %s need %s, and '
                        'only %d allowed host(s) with room qualify%s' % (
                            group.describe(), labels, self.node,
                            'a host each without another member'
                            if limit == 1 else
                            'hosts with fewer than %d members' % limit,
                            len(usable),
                            ' (%s)' % wording.listed(usable) if usable
                            else ''))
                if full:
                    line += ('; %s already hold(s) the maximum'
                             % wording.listed(full))
                lines.append(line)
        return lines

    def describe_hard(self) -> str:
        return '; '.join('server group %s with %s on %s' % (
            g.describe(), wording.listed(self.members_on_node(g)), self.node)
            for g in self.hard)
