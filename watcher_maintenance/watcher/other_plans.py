"""Other action plans, read from Watcher's own database.

A maintenance audit counts what other plans are about to do
(``planning.reservations``): every plan of ``host_drain`` or
``host_restore`` that is RECOMMENDED, PENDING or ONGOING, and every
PENDING or ONGOING plan of any other goal, since Watcher's other
strategies move guests too. A newer audit for a node supersedes the
older RECOMMENDED maintenance plans of that node, as Watcher does for
its continuous audits.
"""

from __future__ import annotations

from oslo_log import log
from watcher import objects

from watcher_maintenance.planning import reservations
from watcher_maintenance.watcher import model_adapter

LOG = log.getLogger(__name__)

MAINTENANCE_STRATEGIES = ('host_drain', 'host_restore')
DRAIN_STRATEGY = 'host_drain'
RECOMMENDED = 'RECOMMENDED'
SUPERSEDED = 'SUPERSEDED'
# Plans whose moves may still happen.
RUNNING = ('PENDING', 'ONGOING')
# Actions that have not finished yet.
UNFINISHED = ('PENDING', 'ONGOING')
MIGRATE = 'migrate'


def supersede(context, node_name) -> list[str]:
    """Mark the older RECOMMENDED maintenance plans of ``node_name``
    SUPERSEDED; returns their UUIDs."""
    superseded = []
    for plan, audit, _ in _maintenance_plans(context, (RECOMMENDED,)):
        if (audit.parameters or {}).get('maintenance_node') != node_name:
            continue
        plan.state = SUPERSEDED
        plan.save()
        LOG.info('Action plan %s of %s superseded by a newer audit',
                 plan.uuid, node_name)
        superseded.append(plan.uuid)
    return superseded


def read(context, model) -> reservations.Reservations:
    """What the other unfinished plans will do, in the planner's terms."""
    plans = {}
    draining = []
    for plan, audit, strategy in _maintenance_plans(
            context, (RECOMMENDED,) + RUNNING):
        plans[plan.uuid] = plan
        node = (audit.parameters or {}).get('maintenance_node')
        if node and strategy == DRAIN_STRATEGY:
            draining.append((node, plan.uuid))
    for plan in objects.ActionPlan.list(context,
                                        filters={'state__in': RUNNING}):
        plans.setdefault(plan.uuid, plan)
    moves = []
    for uuid in sorted(plans):
        planned = []
        for action in objects.Action.list(
                context, filters={'action_plan_uuid': uuid}):
            params = action.input_parameters or {}
            if action.action_type != MIGRATE or \
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
    for name in MAINTENANCE_STRATEGIES:
        for plan in objects.ActionPlan.list(
                context, filters={'strategy_name': name,
                                  'state__in': list(states)}, eager=True):
            yield (plan, objects.Audit.get_by_id(context, plan.audit_id),
                   name)


def _host_of(model, uuid):
    return model.get_node_by_instance_uuid(uuid).hostname
