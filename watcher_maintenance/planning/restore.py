"""Plan leaving maintenance: re-enable a node and put guests where they belong.

Three questions, each answered by its own module with plain data:

1. May the node be enabled? Only when ``host_drain`` disabled it (reason
   ``watcher_maintaining``), or the operator forces it. A down node is
   refused: nothing could run on it. (This module.)
2. Which guests go where? The guests the last drain moved away go back
   to the node (``return_guests=drained``, ``targets.from_drain``), and
   every guest a host map names goes to its host (``host_map``). Guests
   deleted or moved again since the drain are reported and left alone.
   Each guest's state decides live or cold (``decide``).
3. In which order? Each move must fit when it runs, not only at the end
   (``move_order``). If no order works, the audit is refused before
   anything moves.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

from watcher_maintenance.planning import decide
from watcher_maintenance.planning import drain
from watcher_maintenance.planning import host_map as host_maps
from watcher_maintenance.planning import move_order
from watcher_maintenance.planning import options as options_
from watcher_maintenance.planning import reservations
from watcher_maintenance.planning import targets as targets_
from watcher_maintenance.planning.drain import HostSource
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.options import RestoreOptions
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.planning.plan import RestorePlan
from watcher_maintenance.planning.plan import ServiceChange
from watcher_maintenance.planning.targets import DrainRecord
from watcher_maintenance.planning.targets import DrainReturn
from watcher_maintenance.planning.targets import GuestSource


def plan_restore(node_name: str, hosts: HostSource, guests: GuestSource,
                 drained: DrainRecord | None = None,
                 host_map: Mapping[str, Sequence[str]] | None = None,
                 options: RestoreOptions = RestoreOptions()) -> RestorePlan:
    """Plan bringing ``node_name`` back into service.

    ``drained``: the last executed drain of the node, when the guests it
    moved should go back. ``host_map``: a distribution to realise.

    :raises PlanningRefused: with a sentence for the operator.
    """
    node = drain.known_node(node_name, hosts)
    service_changes, notes = _enabling(node, options)
    # Moves run after the service changes: plan them on the enabled node.
    view = _EnabledView(hosts, node_name)

    returning = DrainReturn()
    if drained is not None:
        returning = targets_.from_drain(node_name, drained, guests)
    chosen = {t.placed.guest.uuid: t for t in returning.targets}
    if host_map:
        chosen.update((t.placed.guest.uuid, t) for t in host_maps.targets(
            host_map, view, guests, returning.targets))

    decisions, moving, unmovable, in_place = [], [], [], []
    for target in sorted(chosen.values(),
                         key=lambda t: t.placed.guest.label):
        placed = target.placed
        if placed.host == target.host:
            in_place.append(placed.guest)
            continue
        decision = decide.for_return(placed.guest, placed.host, target.host,
                                     target.why, options)
        if decision.outcome is Outcome.UNPLACEABLE:
            unmovable.append(decision)
        elif decision.outcome.moves:
            moving.append((placed, decision))
        decisions.append(decision)
    decide.refuse_unmovable_return(node_name, unmovable)

    moves = move_order.order_moves(moving, view, options.order_budget)
    return RestorePlan(node_name, tuple(decisions) + returning.left,
                       tuple(moves), tuple(service_changes),
                       tuple(in_place), returning.missing,
                       tuple(notes) + returning.notes, options,
                       returning.to_start)


def plan_restore_nodes(node_names: Sequence[str], hosts: HostSource,
                       guests: GuestSource,
                       drained: Mapping[str, DrainRecord | None],
                       options: RestoreOptions = RestoreOptions()
                       ) -> RestorePlan:
    """Plan bringing several nodes back, each with ``drained[node]``.

    The nodes are planned one after another, each seeing the moves
    planned for the ones before as already made (their destinations
    used, their sources not yet freed), so the moves of different nodes
    never need each other's room and the combined plan fits as a whole.

    :raises PlanningRefused: with a sentence for the operator.
    """
    names = options_.node_names(tuple(node_names))
    plans: list[RestorePlan] = []
    earlier: list[reservations.PendingMove] = []
    for name in names:
        seen = reservations.ReservedHosts(
            hosts, reservations.Reservations(tuple(earlier)), own=names)
        plan = plan_restore(name, seen, guests, drained.get(name),
                            options=options)
        plans.append(plan)
        earlier += [reservations.PendingMove('this audit', m.guest,
                                             m.source, m.destination)
                    for m in plan.moves]
    if len(plans) == 1:
        return plans[0]
    moves, offset = [], 0
    for plan in plans:
        moves += [dataclasses.replace(m, waits_for=frozenset(
            i + offset for i in m.waits_for)) for m in plan.moves]
        offset += len(plan.moves)

    def joined(field):
        return tuple(item for plan in plans for item in getattr(plan, field))
    return RestorePlan(', '.join(names), joined('decisions'), tuple(moves),
                       joined('service_changes'), joined('in_place'),
                       joined('missing'), joined('notes'), options,
                       joined('starts'))


def _enabling(node: Host, options: RestoreOptions):
    """The service change that brings the node back, or a refusal."""
    if not node.up:
        raise PlanningRefused(
            '%s is down: its nova-compute service does not report, so it '
            'cannot take guests and enabling it would only send new '
            'servers to a dead host. Bring nova-compute on %s back up, then '
            'run the audit again.' % (node.name, node.name))
    if node.enabled:
        return [], ['%s is already enabled.' % node.name]
    why = 'leave maintenance: %s was disabled by host_drain' % node.name
    notes = []
    if node.disabled_reason != options.maintaining_reason:
        if not options.force:
            raise PlanningRefused(
                '%s is disabled with reason "%s", not by host_drain, so it '
                'stays disabled. Check why; to enable it anyway, run the '
                'audit again with force=true.' % (
                    node.name, node.disabled_reason or 'none given'))
        why = ('force=true: enable %s although it was disabled with reason '
               '"%s"' % (node.name, node.disabled_reason or 'none given'))
        notes.append('%s was disabled with reason "%s"; enabled because '
                     'force=true.' % (node.name,
                                      node.disabled_reason or 'none given'))
    return [ServiceChange(node.name, enable=True, reason=None,
                          why=why)], notes


class _EnabledView:
    """The hosts as they are once the plan has enabled the node."""

    def __init__(self, hosts: HostSource, node_name: str):
        self._hosts = hosts
        self._node = node_name

    def names(self):
        return self._hosts.names()

    def host(self, name):
        host = self._hosts.host(name)
        if host is not None and name == self._node and not host.enabled:
            host = dataclasses.replace(host, enabled=True,
                                       disabled_reason=None)
        return host
