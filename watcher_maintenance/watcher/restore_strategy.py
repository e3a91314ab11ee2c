"""The ``host_restore`` strategy: Watcher's side of leaving maintenance.

A thin adapter like ``host_drain``: it reads the audit-scoped model and
Watcher's own records of the last drain into plain data, asks the
planning core for a plan, and turns it into actions, indicators and the
audit's status message.
"""

from __future__ import annotations

from watcher import objects

from watcher_maintenance import names
from watcher_maintenance.planning import restore
from watcher_maintenance.planning import targets
from watcher_maintenance.planning.options import RestoreOptions
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher import base
from watcher_maintenance.watcher import model_adapter
from watcher_maintenance.watcher import other_plans

# Action plans that ran, completely or in part.
EXECUTED = ('SUCCEEDED', 'FAILED', 'CANCELLED')
SUCCEEDED = 'SUCCEEDED'


class ModelGuests:
    """A planner ``GuestSource`` over a Watcher ``ModelRoot``."""

    def __init__(self, model):
        self._model = model
        self._names = None

    def by_uuid(self, uuid):
        if not self._model.has_node(uuid):
            return None
        instance = self._model.get_instance_by_uuid(uuid)
        node = self._model.get_node_by_instance_uuid(uuid)
        return targets.Placed(model_adapter.to_guest(instance),
                              node.hostname)

    def by_name(self, name):
        if self._names is None:
            self._names = {}
            for uuid, instance in sorted(
                    self._model.get_all_instances().items()):
                self._names.setdefault(instance.name, []).append(uuid)
        return [self.by_uuid(uuid) for uuid in self._names.get(name, [])]


def last_drain(context, node_name) -> targets.DrainRecord | None:
    """Watcher's record of the most recent executed drain of the node.

    Looks through the action plans of ``host_drain`` audits for this
    node that ran (completely or in part) and returns the guests their
    succeeded ``migrate`` actions moved off the node.
    """
    plans = objects.ActionPlan.list(
        context, filters={'strategy_name': names.DRAIN_STRATEGY,
                          'state__in': EXECUTED})
    for plan in sorted(plans, key=lambda p: (p.updated_at or p.created_at,
                                             p.id), reverse=True):
        audit = objects.Audit.get_by_id(context, plan.audit_id)
        if node_name not in other_plans.audit_nodes(audit.parameters):
            continue
        moved, stopped = [], []
        for action in objects.Action.list(
                context, filters={'action_plan_uuid': plan.uuid}):
            params = action.input_parameters or {}
            if action.action_type == names.STOP and \
                    action.state == SUCCEEDED:
                stopped.append(targets.DrainedGuest(
                    action.input_parameters.get('resource_id'), None,
                    node_name))
                continue
            if action.action_type != names.MIGRATE or \
                    action.state != SUCCEEDED or \
                    params.get('source_node') != node_name:
                continue
            moved.append(targets.DrainedGuest(
                params['resource_id'], params.get('resource_name'),
                params.get('destination_node')))
        if plan.state != SUCCEEDED and not moved and not stopped:
            continue    # stopped before moving anything: not a drain
        return targets.DrainRecord(plan.uuid, plan.state, tuple(
            sorted(moved, key=lambda m: (m.label, m.uuid))), tuple(stopped))
    return None


class HostRestore(base.MaintenanceStrategy):
    """Host Restore

    *Description*

    Brings a compute node back from maintenance. The node's nova-compute
    service is enabled again, but only if ``host_drain`` disabled it
    (reason ``watcher_maintaining``) or the operator says ``force``. With
    ``return_guests=drained``, the guests the last executed drain moved
    away are migrated back; with ``host_map``, guests are migrated to
    the hosts the map names. Every move is checked in vCPU, RAM and disk
    and ordered so that it fits when it runs.

    *Requirements*

    The node's nova-compute service is up.

    *Limitations*

    Guests in states Watcher cannot migrate make the audit fail unless
    ``skip_unmovable`` is set, in which case they stay where they are.
    """

    options_class = RestoreOptions

    @classmethod
    def get_name(cls):
        return names.RESTORE_STRATEGY

    @classmethod
    def get_display_name(cls):
        return 'Host Restore'

    def plan_audit(self, audit):
        model = self.compute_model
        hosts = model_adapter.ModelHosts(model)
        try:
            options = self.read_options()
            self.with_live_services(hosts, options.nodes)
            drained = {}
            if options.returns_drained:
                for node_name in options.nodes:
                    drained[node_name] = last_drain(self.ctx, node_name)
                    if drained[node_name] is None:
                        raise PlanningRefused(
                            'return_guests=drained, but Watcher has no '
                            'record of an executed host_drain action plan '
                            'for %s, so it does not know which guests to '
                            'return. Run the audit again with '
                            'return_guests=none to only re-enable the node, '
                            'or give a host_map.' % node_name)
            seen, notes = self.with_other_plans(hosts, options.nodes)
            if options.host_map:
                self.plan = restore.plan_restore(
                    options.nodes[0], seen, ModelGuests(model),
                    drained=drained.get(options.nodes[0]),
                    host_map=options.host_map, options=options)
            else:
                self.plan = restore.plan_restore_nodes(
                    options.nodes, seen, ModelGuests(model), drained,
                    options=options)
            self.conclude(notes)
        except PlanningRefused as refusal:
            self.refuse(audit, refusal)
        self.announce(audit, self.plan.moves)
        # The maintenance planner runs service changes first, then the
        # migrations in exactly this order, so each one fits when it runs.
        self.add_service_changes(hosts)
        for move in self.plan.moves:
            self.add_migration(move.guest, move.outcome, move.source,
                               move.destination)
        for guest in self.plan.starts:
            # The planner runs these last, once the guests are back.
            self.solution.add_action(
                action_type=names.START, resource_id=guest.uuid,
                input_parameters={'resource_name': guest.name or ''})
        self.set_indicators([(m.guest, m.outcome) for m in self.plan.moves],
                            stopped=0,
                            guests_on_node=self.plan.guests_considered)
