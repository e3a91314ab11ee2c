"""Other action plans, read from Watcher's own database.

A maintenance audit counts what other plans are about to do
(``planning.reservations``): every plan of ``host_drain`` or
``host_restore`` that is RECOMMENDED, PENDING or ONGOING, and every
PENDING or ONGOING plan of any other goal, since Watcher's other
strategies move guests too. A newer audit for a node supersedes the
older RECOMMENDED maintenance plans of that node, as Watcher does for
its continuous audits: they do not count for the new plan, and become
SUPERSEDED once it is made (a refused audit leaves them as they were).
"""

from __future__ import annotations

import json

from oslo_log import log
from watcher import objects

from watcher_maintenance import names
from watcher_maintenance.planning import reservations
from watcher_maintenance.watcher import model_adapter

LOG = log.getLogger(__name__)

RECOMMENDED = 'RECOMMENDED'
SUPERSEDED = 'SUPERSEDED'
# Plans whose moves may still happen.
RUNNING = ('PENDING', 'ONGOING')
# Actions that have not finished yet.
UNFINISHED = ('PENDING', 'ONGOING')


def audit_nodes(parameters) -> list[str]:
    """The node(s) a maintenance audit's parameters name."""
    parameters = parameters or {}
    nodes = parameters.get('maintenance_nodes')
    if isinstance(nodes, str):
        try:
            nodes = json.loads(nodes)
        except ValueError:
            nodes = None
    if isinstance(nodes, list):
        return [n for n in nodes if isinstance(n, str)]
    node = parameters.get('maintenance_node')
    return [node] if node else []


def older_plans(context, node_names) -> list[str]:
    """The RECOMMENDED maintenance plans whose nodes the new audit's
    ``node_names`` all cover: the new plan replaces them."""
    older = []
    for plan, audit, _ in _maintenance_plans(context, (RECOMMENDED,)):
        nodes = audit_nodes(audit.parameters)
        if nodes and set(nodes) <= set(node_names):
            older.append(plan.uuid)
    return older


def supersede(context, plan_uuids) -> None:
    """Mark the plans SUPERSEDED, once the newer plan is made."""
    for uuid in plan_uuids:
        plan = objects.ActionPlan.get_by_uuid(context, uuid, eager=True)
        if plan.state == RECOMMENDED:
            plan.state = SUPERSEDED
            plan.save()
            LOG.info('Action plan %s superseded by a newer audit', uuid)


def read(context, model, ignore=()) -> reservations.Reservations:
    """What the other unfinished plans will do, in the planner's terms;
    the plans in ``ignore`` (about to be superseded) do not count."""
    plans = {}
    draining = []
    for plan, audit, strategy in _maintenance_plans(
            context, (RECOMMENDED,) + RUNNING):
        if plan.uuid in ignore:
            continue
        plans[plan.uuid] = plan
        if strategy == names.DRAIN_STRATEGY:
            draining.extend((node, plan.uuid)
                            for node in audit_nodes(audit.parameters))
    for plan in objects.ActionPlan.list(context,
                                        filters={'state__in': RUNNING}):
        if plan.uuid not in ignore:
            plans.setdefault(plan.uuid, plan)
    moves = []
    for uuid in sorted(plans):
        planned = []
        for action in objects.Action.list(
                context, filters={'action_plan_uuid': uuid}):
            params = action.input_parameters or {}
            if action.action_type != names.MIGRATE or \
                    action.state not in UNFINISHED or \
                    not params.get('destination_node') or \
                    not model.has_node(params['resource_id']):
                continue
            guest = model_adapter.to_guest(
                model.get_instance_by_uuid(params['resource_id']))
            planned.append((guest, params.get('source_node'),
                            params['destination_node']))
        moves.extend(reservations.pending_moves(
            uuid, planned, lambda guest_uuid: _host_of(model, guest_uuid)))
    return reservations.Reservations(tuple(moves), tuple(sorted(draining)))


def _maintenance_plans(context, states):
    for name in names.STRATEGIES:
        for plan in objects.ActionPlan.list(
                context, filters={'strategy_name': name,
                                  'state__in': list(states)}, eager=True):
            yield (plan, objects.Audit.get_by_id(context, plan.audit_id),
                   name)


def _host_of(model, uuid):
    return model.get_node_by_instance_uuid(uuid).hostname
