"""Plan the drain of one compute node.

The steps follow Watcher's host maintenance spec, with real checks:

1. Decide what each guest needs from its state and the options
   (live, cold, stop, leave), or refuse when a guest cannot be moved.
2. Consolidate: if the operator's backup node, or else a designated spare
   host, has room for every guest, send them all there.
3. Otherwise disperse them over enabled, up hosts in scope, with
   capacity checked in vCPU, RAM and disk.

Nothing is planned halfway: either every guest has a decision, or
``PlanningRefused`` says why not.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Iterable, Protocol, Sequence

from watcher_maintenance.planning import constraints
from watcher_maintenance.planning import decide
from watcher_maintenance.planning import groups as server_groups_
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning import weighers
from watcher_maintenance.planning import wording
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ServerGroup
from watcher_maintenance.planning.inventory import ZERO
from watcher_maintenance.planning.inventory import total_needs
from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.options import node_names
from watcher_maintenance.planning.placement import Placer
from watcher_maintenance.planning.plan import Decision
from watcher_maintenance.planning.plan import DrainPlan
from watcher_maintenance.planning.plan import Method
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.planning.plan import ServiceChange

# The first look at a large cloud covers this many eligible hosts, or
# four per guest to move if that is more; it doubles when the guests do
# not fit, up to every host.
FIRST_LOOK_HOSTS = 64


class HostSource(Protocol):
    """Where the planner finds hosts; lets an adapter build them lazily."""

    def names(self) -> Sequence[str]:
        """Every host name, in a fixed order."""

    def host(self, name: str) -> Host | None:
        """The host with its usage, or None if it is not known."""

    def disabled_for(self, reason: str) -> Iterable[str]:
        """Names of hosts whose service is disabled with ``reason``."""


class HostList:
    """A ``HostSource`` over hosts that are already built."""

    def __init__(self, hosts: Iterable[Host]):
        self._hosts = {h.name: h for h in hosts}
        self._names = sorted(self._hosts)

    def names(self):
        return self._names

    def host(self, name):
        return self._hosts.get(name)

    def disabled_for(self, reason):
        return [n for n in self._names if not self._hosts[n].enabled
                and self._hosts[n].disabled_reason == reason]


def plan_drain(node_name: str | Sequence[str], guests: Sequence[Guest],
               hosts: HostSource, options: DrainOptions = DrainOptions(),
               server_groups: Sequence[ServerGroup] = ()) -> DrainPlan:
    """Plan moving every guest off ``node_name``.

    ``node_name`` may also be several nodes, drained together: their
    guests are placed at once, and none goes to any of them. Each guest's
    ``host`` says which node it leaves (the only node, if unset).
    ``server_groups`` are the Nova server groups of the nodes' guests (or
    more); no plan breaks a hard policy, and soft ones are preferred.

    :raises PlanningRefused: with a sentence for the operator.
    """
    names = node_names(node_name)
    nodes = [known_node(name, hosts) for name in names]
    label = ', '.join(names)

    decisions, to_move = decide.for_drain(label, guests, options)
    groups = server_groups_.GroupState.for_drain(names, server_groups,
                                                 to_move)
    if groups is not None and groups.hard:
        decisions, to_move = _affinity_blocked(label, decisions,
                                               to_move, groups, options)
        groups = server_groups_.GroupState.for_drain(
            names, server_groups, to_move)
    service_changes, notes = [], []
    for node in nodes:
        if node.enabled:
            service_changes.append(ServiceChange(
                node.name, enable=False, reason=options.maintaining_reason,
                why='stop new guests from landing on %s' % node.name))
        elif node.disabled_reason != options.maintaining_reason:
            # Someone disabled it for their own reason: keep that reason,
            # so leaving maintenance later does not re-enable it by
            # mistake.
            notes.append('%s is already disabled (reason: %s); the plan '
                         'leaves its service state as it is.' % (
                             node.name, node.disabled_reason or
                             'none given'))

    if not to_move:
        return DrainPlan(label, Method.NOTHING_TO_MOVE,
                         tuple(decisions), tuple(service_changes),
                         tuple(notes), names, options)
    down = {node.name for node in nodes if not node.up}
    stuck = [g for g in to_move if (g.host or names[0]) in down]
    if stuck:
        raise PlanningRefused(
            '%s is down, so its guests cannot be migrated (%s). Bring its '
            'nova-compute service back up, or evacuate the guests with '
            '"openstack server evacuate".' % (
                ' and '.join(sorted(down)),
                ', '.join(g.label for g in stuck[:10])))

    drained = _Drained(names, label)
    moves, method, extra = _consolidate(drained, to_move, hosts, options,
                                        groups)
    notes.extend(extra)
    if moves is None:
        moves = _disperse(drained, to_move, hosts, options, groups)
        method = Method.DISPERSAL
    if groups is not None:
        _check_groups(label, groups, moves)
    if method is not Method.DISPERSAL:
        host = hosts.host(moves[to_move[0].uuid])
        if not host.enabled:
            service_changes.insert(0, ServiceChange(
                host.name, enable=True, reason=None,
                why='take every guest of %s' % label))

    how = {Method.BACKUP_NODE: 'onto the backup node',
           Method.SPARE_NODE: 'onto designated spare host',
           Method.DISPERSAL: 'has room'}[method]
    final = []
    for decision in decisions:
        if decision.outcome.moves:
            target = moves[decision.guest.uuid]
            reason = decision.reason + ('; %s %s' % (target, how)
                                        if method is Method.DISPERSAL
                                        else '; %s %s' % (how, target))
            if groups is not None:
                reason += ''.join('; keeps server group %s' % g.describe()
                                  for g in groups.groups_of(decision.guest)
                                  if g.hard)
            decision = dataclasses.replace(decision, destination=target,
                                           reason=reason)
        final.append(decision)
    return DrainPlan(label, method, tuple(_in_plan_order(final, options)),
                     tuple(service_changes), tuple(notes), names, options)


@dataclasses.dataclass(frozen=True)
class _Drained:
    """The node(s) being drained, as destinations must see them."""

    names: tuple[str, ...]
    name: str           # how sentences name them

    def __contains__(self, host_name) -> bool:
        return host_name in self.names


def known_node(node_name: str, hosts: HostSource) -> Host:
    """The host named by the audit, or a refusal saying how to find it."""
    node = hosts.host(node_name)
    if node is None or not node.in_scope:
        raise PlanningRefused(
            '%s is not a compute host in this audit\'s scope. Check the '
            'name with "openstack compute service list --service '
            'nova-compute", or widen the audit scope.' % node_name)
    return node


def _in_plan_order(decisions: list[Decision],
                   options: DrainOptions) -> list[Decision]:
    """The migrations in the run order the audit asked for, then the
    guests that stay; the adapter and the planner keep this order."""
    key = ordering.order_key(options.order)
    return sorted(decisions, key=lambda d: (not d.outcome.moves,
                                            key(d.guest)))


def _takes_all(host: Host, guests, drained, groups=None) -> str | None:
    """None if ``host`` can take every guest at once, else why not."""
    if host.name in drained:
        return 'it is %s being drained' % (
            'the node' if len(drained.names) == 1 else 'one of the nodes')
    if not host.up:
        return 'it is down'
    if not host.in_scope:
        return 'it is outside the audit scope'
    pinned = sorted({g.pinned_zone for g in guests if g.pinned_zone})
    if any(z != host.zone for z in pinned):
        return 'it is in zone %s and guests are pinned to %s' % (
            host.zone or '(unknown)', ', '.join(pinned))
    need = total_needs(guests)
    if not need.fits_within(host.free):
        return 'the guests need %s and it has %s free' % (
            need.describe(), host.free.describe())
    if groups is not None:
        broken = groups.violations({g.uuid: host.name for g in guests})
        if broken:
            return '; '.join(broken)
    return None


def _consolidate(node, to_move, hosts, options, groups=None):
    """Everything onto the backup node or a designated spare, if one fits."""
    notes = []
    if options.backup_node:
        backup = hosts.host(options.backup_node)
        if options.backup_node in node:
            raise PlanningRefused(
                'The backup node %s is %s being drained. Name another '
                'host as backup_node, or leave it out.' % (
                    options.backup_node, 'the node' if len(node.names) == 1
                    else 'one of the nodes'))
        if backup is None or not backup.in_scope:
            raise PlanningRefused(
                'The backup node %s is not a compute host in this audit\'s '
                'scope. Check the name, or leave backup_node out to let the '
                'plan choose destinations.' % options.backup_node)
        why_not = _takes_all(backup, to_move, node, groups)
        if why_not is None:
            return ({g.uuid: backup.name for g in to_move},
                    Method.BACKUP_NODE, notes)
        notes.append('Backup node %s cannot take every guest: %s.' % (
            backup.name, why_not))
    if options.use_spare_nodes:
        fitting = []
        for name in hosts.disabled_for(options.spare_reason):
            spare = hosts.host(name)
            if spare is None or spare.guest_count or \
                    _takes_all(spare, to_move, node, groups):
                continue
            left = spare.free - total_needs(to_move)
            fitting.append(((left.memory_mb, left.vcpus, left.disk_gb,
                             spare.name), spare))
        if fitting:
            spare = min(fitting, key=lambda item: item[0])[1]
            return ({g.uuid: spare.name for g in to_move},
                    Method.SPARE_NODE, notes)
    return None, None, notes


def _rotation(node_name: str, count: int) -> int:
    # A fixed, name-derived starting point spreads successive drains over
    # the cloud while keeping each plan deterministic.
    return zlib.crc32(node_name.encode()) % count if count else 0


def _eligible_hosts(node, hosts: HostSource):
    """Destinations in a deterministic rotated order, built lazily."""
    names = hosts.names()
    start = _rotation(node.names[0], len(names))
    for name in list(names[start:]) + list(names[:start]):
        if name in node:
            continue
        host = hosts.host(name)
        if host is not None and host.schedulable and host.in_scope:
            yield host


def _disperse(node, to_move, hosts, options, groups=None) -> dict[str, str]:
    rules = constraints.destination_rules(node.names)
    rank = weighers.ranking_key(options.placement)
    if groups is None:
        placer = Placer(rules, rank, options.search_budget)
    else:
        placer = Placer(rules + constraints.group_rules(groups),
                        groups.preferring(rank), options.search_budget,
                        groups=groups)
    candidates: list[Host] = []
    source = _eligible_hosts(node, hosts)
    look = max(FIRST_LOOK_HOSTS, 4 * len(to_move))
    exhausted_all = False
    while True:
        for host in source:
            candidates.append(host)
            if len(candidates) >= look:
                break
        else:
            exhausted_all = True
        result = placer.place(to_move, candidates)
        if not result.unplaced:
            return result.assignment
        if exhausted_all:
            if groups is not None and groups.hard:
                refusal = _group_refusal(node, to_move, candidates, rules,
                                         rank, options, groups)
                if refusal:
                    raise PlanningRefused(refusal)
            raise PlanningRefused(_capacity_refusal(
                node, to_move, candidates, placer, result))
        look *= 2


def _capacity_refusal(node, to_move, candidates, placer, result) -> str:
    advice = ('Free capacity on other hosts, name a backup_node with room, '
              'designate a spare host (disable its nova-compute service with '
              'the configured spare reason), or widen the audit scope.')
    if not candidates:
        return ('No host can take guests from %s: no other compute host in '
                'the audit scope is enabled and up. %s' % (node.name, advice))
    total_free = ZERO
    for host in candidates:
        total_free = total_free + host.free
    lines, alone_fits = [], []
    for guest in ordering.largest_first(result.unplaced):
        allowed = placer.allowed_hosts(guest, candidates)
        if not allowed:
            lines.append('%s has no allowed destination (%s)' % (
                guest.label, '; '.join(
                    _first_refusal(placer, h, guest) for h in candidates[:3])))
        elif any(guest.needs.fits_within(h.free) for h in allowed):
            alone_fits.append(guest.label)
        else:
            lines.append('%s needs %s; the most any allowed host has free '
                         'is %s' % (guest.label, guest.needs.describe(),
                                    _most_free(allowed)))
    head = 'Cannot drain %s:' % node.name
    if lines:
        head += ' %d guest(s) fit on no allowed host. %s' % (
            len(lines), '; '.join(lines[:10]))
        if len(lines) > 10:
            head += '; and %d more' % (len(lines) - 10)
        head += '.'
    if alone_fits:
        head += (' %s could each fit somewhere alone, but no combination of '
                 'destinations takes every guest.'
                 % ', '.join(alone_fits[:10]))
    tail = (' All %d guest(s) to move need %s; the %d allowed host(s) have '
            '%s free in total.' % (
                len(to_move), total_needs(to_move).describe(),
                len(candidates), total_free.describe()))
    if result.exhausted:
        tail += (' The search for a combination stopped at its work limit '
                 'without finding one.')
    return head + tail + ' ' + advice


def _most_free(hosts) -> str:
    parts = []
    for i, label in enumerate(('vCPU', 'MiB RAM', 'GiB disk')):
        best = max(hosts, key=lambda h: (_dim(h.free, i), h.name))
        parts.append('%s %s (%s)' % (wording.number(_dim(best.free, i)),
                                     label,
                                     best.name))
    return ', '.join(parts)


def _dim(resources: Resources, index: int) -> float:
    return (resources.vcpus, resources.memory_mb, resources.disk_gb)[index]


def _first_refusal(placer, host, guest) -> str:
    for rule in placer.static_rules:
        if not rule.passes(host, guest, host.free):
            return rule.refusal(host, guest, host.free)
    return '%s passes' % host.name


def _affinity_blocked(node_name, decisions, to_move, groups, options):
    # ``node_name`` names the node(s) being drained, for the sentences.
    """Leave or refuse the hard-affinity members Nova would not move."""
    blocked = groups.affinity_blockers()
    if not blocked:
        return decisions, to_move
    why = {}
    for group, reason in blocked:
        for member in group.members:
            why.setdefault(member.uuid, 'server group %s: %s' % (
                group.describe(), reason))
    if not options.skip_unmovable:
        raise PlanningRefused(
            'Cannot drain %s: %s. Nova checks hard affinity on every '
            'migration, and Watcher migrates one server at a time. Move '
            'or stop these servers yourself, exclude them from the audit '
            'scope, or set skip_unmovable=true to leave them on %s.' % (
                node_name, '; '.join('server group %s: %s' % (
                    g.describe(), reason) for g, reason in blocked),
                node_name))
    kept = []
    for decision in decisions:
        if decision.outcome.moves and decision.guest.uuid in why:
            decision = Decision(
                decision.guest, Outcome.LEFT, why[decision.guest.uuid] +
                '; left on the node because skip_unmovable is set')
        kept.append(decision)
    return kept, [g for g in to_move if g.uuid not in why]


def _check_groups(node_name, groups, moves):
    """The combined placement, checked against every hard policy."""
    broken = groups.violations(moves)
    if broken:
        raise PlanningRefused(
            'Cannot drain %s: the planned moves break Nova server-group '
            'policies (%s), so Nova would refuse them. Free capacity on '
            'hosts without members of these groups, or widen the audit '
            'scope.' % (node_name, '; '.join(broken)))


def _group_refusal(node, to_move, candidates, rules, rank, options, groups):
    """The sentence when the hard groups, not capacity, block the drain.

    None when the guests fit nowhere even without the groups: then the
    capacity refusal says more.
    """
    plain = Placer(rules, rank, options.search_budget)
    if plain.place(to_move, candidates).unplaced:
        return None

    def can_take(host, guest):
        return (all(r.passes(host, guest, host.free) for r in rules))

    lines = groups.shortages(candidates, can_take)
    if not lines:
        lines = ['no placement satisfies %s together with the free '
                 'capacity of the %d allowed host(s)' % (
                     groups.describe_hard(), len(candidates))]
    return ('Cannot drain %s without breaking Nova server-group policies, '
            'which Nova enforces on every migration: %s. Free or add a '
            'host without members of the group, widen the audit scope, or '
            'move or stop these servers yourself.' % (
                node.name, '; '.join(lines)))
