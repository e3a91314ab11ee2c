"""Rules a host must pass to receive a guest.

Each rule is one small class with one question, in the manner of Nova's
scheduler filters. ``passes`` answers it; ``refusal`` says in words why
not, for the plan's reasons. Rules that only look at the host and the
guest are *static* and are checked once; ``HasRoom`` looks at the
capacity left after the moves already planned.
"""

from __future__ import annotations

from typing import Iterable

from watcher_maintenance.planning.inventory import AFFINITY
from watcher_maintenance.planning.inventory import ANTI_AFFINITY
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources


class Constraint:
    static = True

    def passes(self, host: Host, guest: Guest, free: Resources) -> bool:
        raise NotImplementedError

    def refusal(self, host: Host, guest: Guest, free: Resources) -> str:
        raise NotImplementedError


class IsNotTheNode(Constraint):
    """A guest never goes back to the node being drained."""

    def __init__(self, node: str | Iterable[str]):
        self.nodes = frozenset([node] if isinstance(node, str) else node)

    def passes(self, host, guest, free):
        return host.name not in self.nodes

    def refusal(self, host, guest, free):
        if len(self.nodes) == 1:
            return '%s is the node being drained' % host.name
        return '%s is one of the nodes being drained' % host.name


class EnabledAndUp(Constraint):
    """Nova refuses to migrate onto a disabled or down compute service."""

    def passes(self, host, guest, free):
        return host.schedulable

    def refusal(self, host, guest, free):
        if not host.up:
            return '%s is down' % host.name
        return '%s is disabled (%s)' % (
            host.name, host.disabled_reason or 'no reason given')


class InAuditScope(Constraint):
    """Hosts the audit scope left out are never destinations."""

    def passes(self, host, guest, free):
        return host.in_scope

    def refusal(self, host, guest, free):
        return '%s is outside the audit scope' % host.name


class SameAvailabilityZone(Constraint):
    """A guest pinned to a zone may only move within that zone."""

    def passes(self, host, guest, free):
        return not guest.pinned_zone or host.zone == guest.pinned_zone

    def refusal(self, host, guest, free):
        return '%s is in zone %s, %s is pinned to %s' % (
            host.name, host.zone or '(unknown)', guest.label,
            guest.pinned_zone)


class HasRoom(Constraint):
    """The host has room for the guest in vCPU, RAM and disk, counting
    every move already planned onto it."""

    static = False

    def passes(self, host, guest, free):
        return guest.needs.fits_within(free)

    def refusal(self, host, guest, free):
        return '%s has too little free %s (free: %s)' % (
            host.name, ' and '.join(guest.needs.shortfalls(free)),
            free.describe())


def destination_rules(node: str | Iterable[str]) -> list[Constraint]:
    """The rules every drain destination must pass."""
    return [IsNotTheNode(node), EnabledAndUp(), InAuditScope(),
            SameAvailabilityZone(), HasRoom()]


class AntiAffinity(Constraint):
    """A member of a hard anti-affinity group never lands where the group
    already has ``max_server_per_host`` members, counting the moves
    planned (Nova's ServerGroupAntiAffinityFilter)."""

    static = False

    def __init__(self, groups):
        self.groups = groups   # a planning.groups.GroupState

    def _full(self, host, guest):
        for group in self.groups.groups_of(guest):
            if group.policy == ANTI_AFFINITY and \
                    self.groups.count(group, host.name) >= \
                    group.max_server_per_host:
                return group
        return None

    def passes(self, host, guest, free):
        return self._full(host, guest) is None

    def refusal(self, host, guest, free):
        group = self._full(host, guest)
        return '%s already holds %d member(s) of server group %s' % (
            host.name, self.groups.count(group, host.name), group.describe())


class Affinity(Constraint):
    """A member of a hard affinity group lands only where the rest of its
    group runs or is planned to go (Nova's ServerGroupAffinityFilter)."""

    static = False

    def __init__(self, groups):
        self.groups = groups   # a planning.groups.GroupState

    def _apart(self, host, guest):
        for group in self.groups.groups_of(guest):
            if group.policy != AFFINITY:
                continue
            together = self.groups.hosts_with_members(group)
            if together and host.name not in together:
                return group, together
        return None

    def passes(self, host, guest, free):
        return self._apart(host, guest) is None

    def refusal(self, host, guest, free):
        group, together = self._apart(host, guest)
        return 'server group %s runs on %s, not %s' % (
            group.describe(), ', '.join(sorted(together)), host.name)


def group_rules(groups) -> list[Constraint]:
    """The hard server-group rules, for a drain whose guests are in groups:
    only those of the policies present, since the placer asks every rule
    of every host it looks at."""
    policies = {group.policy for group in groups.hard}
    rules: list[Constraint] = []
    if ANTI_AFFINITY in policies:
        rules.append(AntiAffinity(groups))
    if AFFINITY in policies:
        rules.append(Affinity(groups))
    return rules
