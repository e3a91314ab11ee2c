"""The ``host_restore`` strategy: Watcher's side of leaving maintenance.

A thin adapter like ``host_drain``: it reads the audit-scoped model and
Watcher's own records of the last drain into plain data, asks the
planning core for a plan, and turns it into actions, indicators and the
audit's status message.
"""

from __future__ import annotations

from watcher import objects

from watcher_maintenance.planning import restore
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher import model_adapter
from watcher_maintenance.watcher import other_plans
from watcher_maintenance.watcher import strategy as drain_strategy

DRAIN_STRATEGY = 'host_drain'
# Action plans that ran, completely or in part.
EXECUTED = ('SUCCEEDED', 'FAILED', 'CANCELLED')
SUCCEEDED = 'SUCCEEDED'

# Parameters with the same meaning as host_drain's.
SHARED_PARAMETERS = ('maintenance_node', 'maintenance_nodes',
                     'disable_live_migration',
                     'disable_cold_migration', 'live_migrate_local_disk',
                     'skip_unmovable', 'max_parallel_migrations',
                     'migration_pause')


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
        return restore.Placed(model_adapter.to_guest(instance),
                              node.hostname)

    def by_name(self, name):
        if self._names is None:
            self._names = {}
            for uuid, instance in sorted(
                    self._model.get_all_instances().items()):
                self._names.setdefault(instance.name, []).append(uuid)
        return [self.by_uuid(uuid) for uuid in self._names.get(name, [])]


def last_drain(context, node_name) -> restore.DrainRecord | None:
    """Watcher's record of the most recent executed drain of the node.

    Looks through the action plans of ``host_drain`` audits for this
    node that ran (completely or in part) and returns the guests their
    succeeded ``migrate`` actions moved off the node.
    """
    plans = objects.ActionPlan.list(
        context, filters={'strategy_name': DRAIN_STRATEGY,
                          'state__in': EXECUTED})
    for plan in sorted(plans, key=lambda p: (p.updated_at or p.created_at,
                                             p.id), reverse=True):
        audit = objects.Audit.get_by_id(context, plan.audit_id)
        if node_name not in other_plans.audit_nodes(audit.parameters):
            continue
        moved = []
        for action in objects.Action.list(
                context, filters={'action_plan_uuid': plan.uuid}):
            params = action.input_parameters or {}
            if action.action_type != drain_strategy.MIGRATE or \
                    action.state != SUCCEEDED or \
                    params.get('source_node') != node_name:
                continue
            moved.append(restore.DrainedGuest(
                params['resource_id'], params.get('resource_name'),
                params.get('destination_node')))
        if plan.state != SUCCEEDED and not moved:
            continue    # stopped before moving anything: not a drain
        return restore.DrainRecord(plan.uuid, plan.state, tuple(
            sorted(moved, key=lambda m: (m.label, m.uuid))))
    return None


class HostRestore(drain_strategy.MaintenanceStrategy):
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

    @classmethod
    def get_name(cls):
        return 'host_restore'

    @classmethod
    def get_display_name(cls):
        return 'Host Restore'

    @classmethod
    def get_schema(cls):
        drain_schema = drain_strategy.HostDrain.get_schema()
        drain_properties = drain_schema['properties']
        properties = {name: dict(drain_properties[name])
                      for name in SHARED_PARAMETERS}
        properties['maintenance_node'] = {
            'description': 'Hostname of the compute node leaving '
                           'maintenance. Give this or maintenance_nodes.',
            'type': 'string', 'minLength': 1,
        }
        properties['maintenance_nodes']['description'] = (
            'Hostnames of several compute nodes leaving maintenance '
            'together, as a JSON list. Give this or maintenance_node.')
        properties['return_guests'] = {
            'description': '"drained" moves back the guests that the most '
                           'recent executed host_drain plan of this node '
                           'moved away; "none" moves no guest back.',
            'type': 'string', 'enum': list(restore.RETURN_GUESTS),
            'default': restore.NONE,
        }
        properties['host_map'] = {
            'description': 'Distribution to realise: a JSON object mapping '
                           'hosts to lists of guest names or UUIDs, e.g. '
                           '{"compute-1": ["vm-1", "vm-2"]}. Guests not '
                           'listed stay where they are.',
            'oneOf': [
                {'type': 'object',
                 'additionalProperties': {
                     'type': 'array',
                     'items': {'type': 'string', 'minLength': 1}}},
                {'type': 'string', 'minLength': 2},
            ],
        }
        properties['force'] = drain_strategy._boolean(
            'Enable the node even if its service was disabled for another '
            'reason than watcher_maintaining.', False)
        return {
            'type': 'object',
            'properties': properties,
            'anyOf': drain_schema['anyOf'],
            'additionalProperties': False,
        }

    def options(self) -> restore.RestoreOptions:
        return restore.RestoreOptions(
            force=self.input_parameters.get('force', False),
            **self.migration_rules())

    def plan_audit(self, audit):
        params = self.input_parameters
        model = self.compute_model
        hosts = model_adapter.ModelHosts(model)
        try:
            node_names = drain_strategy.drain_nodes(params)
            self.with_live_services(hosts, node_names)
            host_map = _host_map(params.get('host_map'))
            if host_map and len(node_names) > 1:
                raise PlanningRefused(
                    'host_map goes with one node: give maintenance_node, '
                    'or leave host_map out to restore %s together.'
                    % ', '.join(node_names))
            drained = {}
            if params.get('return_guests', restore.NONE) == restore.DRAINED:
                for node_name in node_names:
                    drained[node_name] = last_drain(self.ctx, node_name)
                    if drained[node_name] is None:
                        raise PlanningRefused(
                            'return_guests=drained, but Watcher has no '
                            'record of an executed host_drain action plan '
                            'for %s, so it does not know which guests to '
                            'return. Run the audit again with '
                            'return_guests=none to only re-enable the node, '
                            'or give a host_map.' % node_name)
            seen, notes = self.with_other_plans(hosts, node_names)
            if host_map:
                self.plan = restore.plan_restore(
                    node_names[0], seen, ModelGuests(model),
                    drained=drained.get(node_names[0]), host_map=host_map,
                    options=self.options())
            else:
                self.plan = restore.plan_restore_nodes(
                    node_names, seen, ModelGuests(model), drained,
                    options=self.options())
            self.conclude(notes)
        except PlanningRefused as refusal:
            self.refuse(audit, refusal)
        self.announce(audit, self.plan.moves)
        self._add_actions(hosts)
        self._add_indicators()

    def _add_actions(self, hosts):
        # The maintenance planner runs service changes first, then the
        # migrations in exactly this order, so each one fits when it runs.
        for change in self.plan.service_changes:
            self.solution.add_action(
                action_type=drain_strategy.CHANGE_SERVICE_STATE,
                resource_id=hosts.node(change.host).uuid,
                input_parameters={'state': 'enabled',
                                  'resource_name': change.host})
        for move in self.plan.moves:
            self.solution.add_action(
                action_type=drain_strategy.MIGRATE,
                resource_id=move.guest.uuid,
                input_parameters={
                    'migration_type': move.outcome.value,
                    'source_node': move.source,
                    'destination_node': move.destination,
                    'resource_name': move.guest.name,
                })

    def _add_indicators(self):
        plan = self.plan
        moves = plan.moves
        self.solution.set_efficacy_indicators(
            guests_to_move=len(plan.migrations),
            live_migrations_count=sum(
                1 for m in moves if m.outcome is Outcome.LIVE),
            cold_migrations_count=sum(
                1 for m in moves if m.outcome is Outcome.COLD),
            stopped_guests_count=0,
            guests_left_count=len(plan.with_outcome(Outcome.LEFT)),
            memory_to_move_mb=sum(m.guest.needs.memory_mb for m in moves),
            guests_on_node=plan.guests_considered,
        )


def _host_map(value):
    if value is None:
        return None
    return restore.parse_host_map(drain_strategy.json_parameter(
        'host_map', value, 'an object such as {"compute-1": ["vm-1"]}'))
