"""A rolling maintenance campaign, simulated before anything moves.

A campaign takes many nodes out of service in batches of at most
``max_unavailable``: each batch is drained together, maintained, and
brought back before the next one starts. This module plays the whole
campaign through the drain planner on plain data, so that a campaign
that cannot fit is refused up front, with the batch and the shortfall
named, and never one batch in. It uses the same planner the audits use,
so it cannot disagree with the plans they will make.

Batches follow the listed order where they fit. A node joins a batch
only if the batch still fits with it, so a batch can be smaller than
``max_unavailable`` (an upper bound, as in Kubernetes' rolling updates)
and nodes that do not fit yet wait for a later batch; the campaign says
when it reordered them. It is refused only when some node fits in no
batch, even alone.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

from watcher_maintenance.planning import drain
from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.options import node_names
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import ZERO
from watcher_maintenance.planning.plan import DrainPlan
from watcher_maintenance.planning.plan import PlanningRefused


@dataclasses.dataclass(frozen=True)
class Batch:
    nodes: tuple[str, ...]
    plan: DrainPlan


@dataclasses.dataclass(frozen=True)
class Campaign:
    batches: tuple[Batch, ...]
    listed: tuple[str, ...]

    @property
    def reordered(self) -> bool:
        return tuple(n for b in self.batches for n in b.nodes) != self.listed


def plan_campaign(nodes: Sequence[str], hosts: Sequence[Host],
                  guests: Mapping[str, Sequence[Guest]],
                  max_unavailable: int = 1,
                  options: DrainOptions = DrainOptions(),
                  return_guests: bool = False) -> Campaign:
    """Batches for maintaining ``nodes``, each one checked to fit.

    ``hosts`` is every compute host with its usage now; ``guests`` the
    guests of each node to maintain. After a batch its nodes come back
    into service; with ``return_guests`` their guests move back to
    them, otherwise they stay where the batch's drain put them.

    :raises PlanningRefused: when some node cannot be drained in any
        batch, naming it, the batches before it, and what to change.
    """
    listed = node_names(tuple(nodes))
    if max_unavailable < 1:
        raise PlanningRefused('max_unavailable must be at least 1, not %d.'
                              % max_unavailable)
    state = _Cloud(hosts, guests)
    for name in listed:
        if name not in state.hosts:
            raise PlanningRefused(
                '%s is not a compute host. Check the name with "openstack '
                'compute service list --service nova-compute".' % name)
    remaining = list(listed)
    batches: list[Batch] = []
    while remaining:
        batch, plan, why_not = _next_batch(remaining, state,
                                           max_unavailable, options)
        if batch is None:
            done = [n for b in batches for n in b.nodes]
            # Batches already shrink to what fits, so this node fits in
            # no batch at all, even alone.
            raise PlanningRefused(
                'The campaign cannot fit: %s%s' % (
                    'after %s, ' % _some(done) if done else '',
                    why_not[0].lower() + why_not[1:]))
        batches.append(Batch(batch, plan))
        state.apply(plan, return_guests)
        remaining = [n for n in remaining if n not in batch]
    return Campaign(tuple(batches), listed)


def _some(names, limit=5):
    if len(names) <= limit:
        return ', '.join(names)
    return '%s and %d more' % (', '.join(names[:limit]), len(names) - limit)


def _next_batch(remaining, state, size, options):
    """The next batch: listed nodes in order, each added only if the
    batch still fits; None with the first refusal if none fits alone."""
    batch, plan, first_refusal = [], None, None
    for name in remaining:
        if len(batch) == size:
            break
        try:
            candidate = state.plan(batch + [name], options)
        except PlanningRefused as refusal:
            first_refusal = first_refusal or refusal.message
            continue
        batch.append(name)
        plan = candidate
    if not batch:
        return None, None, first_refusal
    return tuple(batch), plan, None


class _Cloud:
    """Hosts and the nodes' guests as the campaign moves them."""

    def __init__(self, hosts, guests):
        self.hosts = {h.name: h for h in hosts}
        self.guests = {node: [dataclasses.replace(g, host=node)
                              for g in on_node]
                       for node, on_node in guests.items()}

    def plan(self, nodes, options):
        guests = [g for node in nodes for g in self.guests.get(node, ())]
        return drain.plan_drain(nodes, guests, HostList(self.hosts.values()),
                                options)

    def apply(self, plan: DrainPlan, return_guests: bool):
        if return_guests:
            return   # every guest ends where it started
        for decision in plan.migrations:
            source = plan.source_of(decision)
            needs = decision.guest.needs
            self._move(source, -1, ZERO - needs)
            self._move(decision.destination, 1, needs)
            self.guests[source] = [g for g in self.guests[source]
                                   if g.uuid != decision.guest.uuid]
            self.guests.setdefault(decision.destination, []).append(
                dataclasses.replace(decision.guest,
                                    host=decision.destination))

    def _move(self, name, count, needs):
        host = self.hosts[name]
        self.hosts[name] = dataclasses.replace(
            host, used=host.used + needs,
            guest_count=max(0, host.guest_count + count))
