"""The ``host_drain`` strategy: Watcher's side of a drain.

A thin adapter: it reads the audit-scoped cluster model into plain data,
asks the planning core for a plan, and turns the plan into Watcher
actions, indicators and an audit status message. All decisions are the
core's.
"""

from __future__ import annotations

import dataclasses
import json

from oslo_log import log
from watcher.common import exception
from watcher.common import nova_helper
from watcher.decision_engine.strategy.strategies import base

from watcher_maintenance import conf
from watcher_maintenance.planning import drain
from watcher_maintenance.planning import reservations
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning import weighers
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher import live_state
from watcher_maintenance.watcher import model_adapter
from watcher_maintenance.watcher import other_plans
from watcher_maintenance.watcher import planning_lock

LOG = log.getLogger(__name__)

CHANGE_SERVICE_STATE = 'change_nova_service_state'
MIGRATE = 'migrate'
STOP = 'stop'


class DrainRefused(exception.WatcherException):
    """The audit fails with the planner's sentence as its message."""

    msg_fmt = '%(reason)s'


def _boolean(description, default):
    return {'description': description, 'type': 'boolean',
            'default': default}


class MaintenanceStrategy(base.BaseStrategy):
    """What the cluster_maintenance strategies share.

    They plan from the cluster data model alone (no datasource) and hand
    their actions to the ``maintenance`` planner.
    """

    def __init__(self, config, osc=None):
        super().__init__(config, osc)
        self._planner = 'maintenance'
        self.plan = None
        # Notes on the other plans this audit counted, and the older
        # plans of its nodes it supersedes once planned
        # (with_other_plans).
        self.counted = ()
        self.older = []

    @classmethod
    def get_translatable_display_name(cls):
        return cls.get_display_name()

    @classmethod
    def get_goal_name(cls):
        return 'cluster_maintenance'

    @classmethod
    def get_config_opts(cls):
        return []

    def pre_execute(self):
        self._pre_execute()

    def post_execute(self):
        pass

    def do_execute(self, audit=None):
        # Held until the maintenance planner has saved the action plan
        # (see planning_lock), or released here if no plan comes of it.
        try:
            self.planning_lock = self._planning_lock()
        except PlanningRefused as refusal:
            self.refuse(audit, refusal)
        try:
            self.plan_audit(audit)
        except BaseException:
            self.planning_lock.release()
            raise

    def plan_audit(self, audit):
        """Plan, add the actions and indicators, or refuse."""
        raise NotImplementedError

    def with_live_services(self, hosts, node_names):
        """Take the nodes' service state from Nova, and return every
        compute service.

        The model can lag Nova: a node re-enabled or disabled by hand
        since its last update would otherwise be left enabled by a drain,
        or left disabled by a restore. One listing of the services.
        """
        services = self._ask_nova('compute services',
                                  self._compute_services)
        hosts.use_services([s for s in services if s.host in node_names])
        return services

    def _compute_services(self):
        helper = nova_helper.NovaHelper()
        return [service for service in helper.get_service_list()
                if service.binary == 'nova-compute']

    @staticmethod
    def _ask_nova(what, call):
        # Planning without these facts could break a policy Nova enforces,
        # so a failed lookup refuses the plan rather than guessing.
        try:
            return call()
        except Exception as error:
            LOG.exception('Could not read %s from Nova', what)
            raise PlanningRefused(
                'Nothing was planned: reading the %s of the cloud from Nova '
                'failed (%s: %s). Check that the decision engine can reach '
                'Nova with admin rights, then run the audit again.'
                % (what, type(error).__name__, error))

    @staticmethod
    def _planning_lock():
        return planning_lock.PlanningLock(
            conf.CONF.watcher_maintenance.planning_lock_timeout).acquire()

    def with_other_plans(self, hosts, node_names):
        """``hosts`` with the other unfinished plans' moves counted as
        made, but for the nodes' older RECOMMENDED plans, which the new
        plan supersedes once it is made; and the notes that say so."""
        self.older, others = self._other_plans(node_names)
        notes = []
        if others:
            notes.append(others.describe())
        self.counted = tuple(notes)
        if self.older:
            notes.append('Supersedes the older plan(s) of %s: %s.' % (
                ', '.join(node_names), ', '.join(self.older)))
        return (reservations.ReservedHosts(hosts, others, own=node_names),
                tuple(notes))

    def _other_plans(self, node_names):
        """Watcher's records: (older plans to supersede, reservations)."""
        older = other_plans.older_plans(self.ctx, node_names)
        return older, other_plans.read(self.ctx, self.compute_model,
                                       ignore=older)

    def conclude(self, notes):
        """The plan is made: note its context, and supersede the older
        plans of its nodes now (a refused audit leaves them alone)."""
        other_plans.supersede(self.ctx, self.older)
        if notes:
            self.plan = dataclasses.replace(self.plan,
                                            notes=self.plan.notes + notes)

    def refuse(self, audit, refusal):
        """Fail the audit with the planner's sentence as its message,
        followed by what other unfinished plans were counted."""
        message = ' '.join((refusal.message,) + self.counted)
        LOG.error('%s refused to plan: %s', self.get_name(), message)
        if audit is not None:
            audit.status_message = _fit(message)
        raise DrainRefused(reason=message)

    def announce(self, audit, steps):
        """Log the plan with one line per step, and summarise it on the
        audit."""
        LOG.info('%s plan: %s', self.get_name(), self.plan.summary())
        for step in steps:
            LOG.info('%s: %s', self.get_name(), step.describe())
        if audit is not None:
            audit.status_message = _fit(self.plan.summary())

    def migration_rules(self) -> dict:
        """The audit's switches for how a guest's state becomes an
        action; drain and restore options take them alike."""
        params = self.input_parameters
        return dict(
            disable_live_migration=params.get('disable_live_migration',
                                              False),
            disable_cold_migration=params.get('disable_cold_migration',
                                              False),
            live_migrate_local_disk=params.get('live_migrate_local_disk',
                                               True),
            skip_unmovable=params.get('skip_unmovable', False))


class HostDrain(MaintenanceStrategy):
    """Host Maintenance

    *Description*

    Takes one compute node out of service without interrupting its guests.
    The node's nova-compute service is disabled with the reason
    ``watcher_maintaining``; then every guest is migrated to a host with
    room for it, checked in vCPU, RAM and disk. If the operator's
    ``backup_node``, or else a designated spare host (disabled with the
    configured spare reason), can take every guest, they all go there;
    otherwise they are spread over the enabled hosts in the audit scope.

    *Requirements*

    At least one other enabled, up compute host in the audit scope with
    room for the node's guests, or a backup or spare host.

    *Limitations*

    Guests in states Watcher cannot migrate (paused, suspended, error,
    rescued, resized, ...) make the audit fail unless ``skip_unmovable``
    is set, in which case they stay on the node. Nova server-group
    policies are honoured: anti-affinity members never share a host
    beyond ``max_server_per_host``, and hard-affinity groups Nova would
    not let Watcher move one server at a time make the audit fail (or
    stay, with ``skip_unmovable``).
    """

    @classmethod
    def get_name(cls):
        return 'host_drain'

    @classmethod
    def get_display_name(cls):
        return 'Host Maintenance'

    @classmethod
    def get_schema(cls):
        return {
            'type': 'object',
            'properties': {
                'maintenance_node': {
                    'description': 'Hostname of the compute node to drain. '
                                   'Give this or maintenance_nodes.',
                    'type': 'string', 'minLength': 1,
                },
                'maintenance_nodes': {
                    'description': 'Hostnames of several compute nodes to '
                                   'drain together, as a JSON list: '
                                   '["compute-3", "compute-4"]. Their '
                                   'guests are placed at once, and none '
                                   'goes to any of them. Give this or '
                                   'maintenance_node.',
                    'oneOf': [
                        {'type': 'array', 'minItems': 1,
                         'items': {'type': 'string', 'minLength': 1}},
                        {'type': 'string', 'minLength': 2},
                    ],
                },
                'backup_node': {
                    'description': 'Hostname of a compute node that takes '
                                   'every guest if it has room. Enabled '
                                   'first if it is disabled.',
                    'type': 'string', 'minLength': 1,
                },
                'use_spare_nodes': _boolean(
                    'Consolidate onto a designated spare host (disabled '
                    'with the configured spare reason, up and empty) when '
                    'one has room for every guest.', True),
                'placement': {
                    'description': 'How dispersed guests are placed: '
                                   '"spread" balances free capacity, '
                                   '"pack" fills the fullest hosts first.',
                    'type': 'string', 'enum': list(weighers.PLACEMENTS),
                    'default': weighers.SPREAD,
                },
                'disable_live_migration': _boolean(
                    'Cold-migrate active guests instead of live-migrating '
                    'them (stop them if cold migration is disabled too).',
                    False),
                'disable_cold_migration': _boolean(
                    'Leave stopped guests on the node instead of '
                    'cold-migrating them.', False),
                'live_migrate_local_disk': _boolean(
                    'Live-migrate active guests whose root disk is local '
                    'to the hypervisor. When false they are cold-migrated.',
                    True),
                'skip_unmovable': _boolean(
                    'Leave guests that Watcher cannot migrate (paused, '
                    'suspended, error, ...) on the node instead of failing '
                    'the audit.', False),
                'max_parallel_migrations': {
                    'description': 'Migrations that may run at once.',
                    'type': 'integer', 'minimum': 1, 'default': 1,
                },
                'migration_pause': {
                    'description': 'Seconds to wait between migrations (or '
                                   'between waves of parallel migrations).',
                    'type': 'number', 'minimum': 0, 'default': 0,
                },
                'order': {
                    'description': 'Order of the migrations: '
                                   '"largest_first" (by RAM), '
                                   '"smallest_first" or "name".',
                    'type': 'string', 'enum': list(ordering.ORDERS),
                    'default': ordering.LARGEST_FIRST,
                },
            },
            # One of the two names the node(s); giving both is refused
            # in words by the strategy.
            'anyOf': [{'required': ['maintenance_node']},
                      {'required': ['maintenance_nodes']}],
            'additionalProperties': False,
        }

    def options(self) -> drain.DrainOptions:
        params = self.input_parameters
        return drain.DrainOptions(
            backup_node=params.get('backup_node'),
            use_spare_nodes=params.get('use_spare_nodes', True),
            placement=params.get('placement', weighers.SPREAD),
            spare_reason=conf.CONF.watcher_maintenance.spare_reason,
            **self.migration_rules())

    def plan_audit(self, audit):
        model = self.compute_model
        hosts = model_adapter.ModelHosts(model)
        try:
            node_names = drain_nodes(self.input_parameters)
            services = self.with_live_services(hosts, node_names)
            guests, unknown = [], []
            for node_name in node_names:
                node = hosts.node(node_name)
                if node is None:
                    continue    # the core refuses it, in words
                known = model_adapter.guests_of(model, node)
                # The model can lag Nova: a guest booted or migrated onto
                # the node since its last update must not be left behind.
                seen = {g.uuid for g in known}
                unknown += [g for g in self._ask_nova(
                    'servers on %s' % node_name,
                    lambda: self._nova_guests_on(node_name))
                    if g.uuid not in seen]
                guests += known
            guests += unknown
            if any(g.pinned_zone for g in guests):
                # Watcher's model does not carry host zones; the service
                # listing does.
                hosts.use_zones({s.host: s.zone for s in services})
            groups = []
            if any(not g.excluded for g in guests):
                groups = model_adapter.server_groups(
                    self._ask_nova('server groups',
                                   self._server_group_records),
                    model, guests)
            seen, notes = self.with_other_plans(hosts, node_names)
            self.plan = drain.plan_drain(node_names, guests, seen,
                                         self.options(), groups)
            if unknown:
                notes = ('Read from Nova, not yet in Watcher\'s model: %s.'
                         % ', '.join(g.label for g in unknown),) + notes
            self.conclude(notes)
        except PlanningRefused as refusal:
            self.refuse(audit, refusal)
        self.announce(audit, self.plan.decisions)
        self._add_actions(hosts)
        self._add_indicators()

    def _nova_guests_on(self, node_name):
        """Every server Nova has on the node now: one listing by host."""
        return live_state.LiveCloud().guests_on(node_name)

    def _server_group_records(self):
        """Every server group of the cloud, in one paged listing.

        Watcher's model has no server groups, and Nova enforces their
        hard policies on every migration; asked only when guests move.
        """
        helper = nova_helper.NovaHelper()
        return list(helper.connection.compute.server_groups(
            all_projects=True))

    def _add_actions(self, hosts):
        for change in self.plan.service_changes:
            node = hosts.node(change.host)
            params = {'state': 'enabled' if change.enable else 'disabled',
                      'resource_name': change.host}
            if not change.enable:
                params['disabled_reason'] = change.reason
            self.solution.add_action(action_type=CHANGE_SERVICE_STATE,
                                     resource_id=node.uuid,
                                     input_parameters=params)
        order = self.input_parameters.get('order', ordering.LARGEST_FIRST)
        key = ordering.order_key(order)
        for decision in sorted(self.plan.migrations,
                               key=lambda d: key(d.guest)):
            self.solution.add_action(
                action_type=MIGRATE,
                resource_id=decision.guest.uuid,
                input_parameters={
                    'migration_type': decision.outcome.value,
                    'source_node': self.plan.source_of(decision),
                    'destination_node': decision.destination,
                    'resource_name': decision.guest.name,
                })
        for decision in self.plan.with_outcome(Outcome.STOP):
            # Watcher's stop action takes no parameter but the server.
            self.solution.add_action(action_type=STOP,
                                     resource_id=decision.guest.uuid)

    def _add_indicators(self):
        plan = self.plan
        moves = plan.migrations
        self.solution.set_efficacy_indicators(
            guests_to_move=len(moves),
            live_migrations_count=sum(
                1 for d in moves if d.outcome is Outcome.LIVE),
            cold_migrations_count=sum(
                1 for d in moves if d.outcome is Outcome.COLD),
            stopped_guests_count=len(plan.with_outcome(Outcome.STOP)),
            guests_left_count=len(plan.with_outcome(Outcome.LEFT)),
            memory_to_move_mb=sum(d.guest.needs.memory_mb for d in moves),
            guests_on_node=plan.guests_on_node,
            estimated_drain_seconds=ordering.estimated_seconds(
                sorted((d.guest for d in moves), key=ordering.order_key(
                    self.input_parameters.get('order',
                                              ordering.LARGEST_FIRST))),
                self._parallel(),
                conf.CONF.watcher_maintenance.migration_bandwidth_mbps,
                self.input_parameters.get('migration_pause', 0)),
        )

    def _parallel(self):
        return self.input_parameters.get('max_parallel_migrations', 1)


def json_parameter(name, value, example):
    """A parameter that may come as JSON text (``audit create -p`` passes
    lists and objects that way), decoded."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        raise PlanningRefused('%s is not valid JSON (%s). Give %s.' % (
            name, error, example))


def drain_nodes(params) -> tuple[str, ...]:
    """The node(s) an audit drains: ``maintenance_node`` or
    ``maintenance_nodes``, exactly one of them."""
    one, several = params.get('maintenance_node'), params.get(
        'maintenance_nodes')
    if (one is None) == (several is None):
        # Watcher's API already refuses neither, against the schema.
        raise PlanningRefused(
            'Give either maintenance_node (one node) or maintenance_nodes '
            '(a JSON list of nodes), %s. Nothing was planned.' % (
                'not both' if one is not None else 'none was given'))
    if one is not None:
        return drain.node_names(one)
    several = json_parameter('maintenance_nodes', several,
                             'a list such as ["compute-3", "compute-4"]')
    if not isinstance(several, list) or not all(
            isinstance(n, str) and n for n in several):
        raise PlanningRefused(
            'maintenance_nodes must be a list of hostnames, such as '
            '["compute-3", "compute-4"], not %r.' % (several,))
    return drain.node_names(several)


LOG_HINT = ' ... (full text in the decision-engine log)'


def _fit(message, limit=255):
    # Watcher stores status messages in a 255-character column.
    if len(message) <= limit:
        return message
    return message[:limit - len(LOG_HINT)].rstrip() + LOG_HINT
