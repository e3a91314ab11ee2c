"""What the ``cluster_maintenance`` strategies share.

Both are thin adapters: they read Watcher's model and Nova into plain
data, ask the planning core for a plan, and turn the plan into Watcher
actions, efficacy indicators and the audit's status message. Every
decision is the core's; every parameter is read once, into the options
object the plan carries (``planning.options``).
"""

from __future__ import annotations

import dataclasses

from oslo_log import log
from watcher.common import exception
from watcher.common import nova_helper
from watcher.decision_engine.strategy.strategies import base

from watcher_maintenance import conf
from watcher_maintenance import names
from watcher_maintenance.planning import policy
from watcher_maintenance.planning import reservations
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher import other_plans
from watcher_maintenance.watcher import planning_lock

LOG = log.getLogger(__name__)

# Watcher stores status messages in a 255-character column.
STATUS_LIMIT = 255
LOG_HINT = ' ... (full text in the decision-engine log)'


class DrainRefused(exception.WatcherException):
    """The audit fails with the planner's sentence as its message."""

    msg_fmt = '%(reason)s'


class MaintenanceStrategy(base.BaseStrategy):
    """Plans from the cluster data model alone (no datasource) and hands
    its actions to the ``maintenance`` planner.

    A subclass names its ``options_class`` (the parameters it takes) and
    implements ``plan_audit``.
    """

    options_class = None

    def __init__(self, config, osc=None):
        super().__init__(config, osc)
        self._planner = names.PLANNER
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
        return names.GOAL

    @classmethod
    def get_config_opts(cls):
        return []

    @classmethod
    def get_schema(cls):
        return cls.options_class.schema()

    def read_options(self, **settings):
        """The audit's parameters, read once; ``settings`` are the options
        an audit cannot set."""
        return self.options_class.from_parameters(self.input_parameters,
                                                  **settings)

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

    # -- what Nova says now ---------------------------------------------------

    def with_live_services(self, hosts, node_names):
        """Take the nodes' service state from Nova, and return every
        compute service.

        The model can lag Nova: a node re-enabled or disabled by hand
        since its last update would otherwise be left enabled by a drain,
        or left disabled by a restore. One listing of the services.
        """
        services = self.ask_nova('compute services', self._compute_services)
        hosts.use_services([s for s in services if s.host in node_names])
        return services

    def _compute_services(self):
        helper = nova_helper.NovaHelper()
        return [service for service in helper.get_service_list()
                if service.binary == 'nova-compute']

    @staticmethod
    def ask_nova(what, call):
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

    # -- other audits and plans ---------------------------------------------

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

    # -- the audit's outcome --------------------------------------------------

    def refuse(self, audit, refusal):
        """Fail the audit with the planner's sentence as its message,
        followed by what other unfinished plans were counted."""
        message = ' '.join((refusal.message,) + self.counted)
        LOG.error('%s refused to plan: %s', self.get_name(), message)
        if audit is not None:
            audit.status_message = fit_status(message)
        raise DrainRefused(reason=message)

    def announce(self, audit, steps):
        """Log the plan with one line per step, and summarise it on the
        audit."""
        LOG.info('%s plan: %s', self.get_name(), self.plan.summary())
        for step in steps:
            LOG.info('%s: %s', self.get_name(), step.describe())
        if audit is not None:
            audit.status_message = fit_status(self.plan.summary())

    def add_service_changes(self, hosts):
        """One Watcher action per nova-compute state change, in the
        plan's order (the planner runs them before any migration)."""
        for change in self.plan.service_changes:
            params = {'state': 'enabled' if change.enable else 'disabled',
                      'resource_name': change.host}
            if not change.enable:
                params['disabled_reason'] = change.reason
            self.solution.add_action(
                action_type=names.CHANGE_SERVICE_STATE,
                resource_id=hosts.node(change.host).uuid,
                input_parameters=params)

    def add_migration(self, guest, outcome, source, destination):
        """One Watcher ``migrate`` action; the planner keeps the order in
        which they are added."""
        self.solution.add_action(
            action_type=names.MIGRATE,
            resource_id=guest.uuid,
            input_parameters={
                'migration_type': outcome.value,
                'source_node': source,
                'destination_node': destination,
                'resource_name': guest.name,
            })

    def set_indicators(self, moves, stopped, guests_on_node, **extra):
        """The goal's efficacy indicators; ``moves`` are (guest, outcome)
        pairs of the plan's migrations."""
        self.solution.set_efficacy_indicators(
            guests_to_move=len({guest.uuid for guest, _ in moves}),
            live_migrations_count=sum(
                1 for _, outcome in moves if outcome is Outcome.LIVE),
            cold_migrations_count=sum(
                1 for _, outcome in moves if outcome is Outcome.COLD),
            stopped_guests_count=stopped,
            guests_left_count=len(self.plan.with_outcome(Outcome.LEFT)),
            memory_to_move_mb=sum(guest.needs.memory_mb
                                  for guest, _ in moves),
            guests_on_node=guests_on_node,
            **policy.counts(d.guest for d in self.plan.decisions),
            **extra)


def fit_status(message, limit=STATUS_LIMIT):
    """``message`` cut to what Watcher's status column keeps, saying
    where the rest is."""
    if len(message) <= limit:
        return message
    return message[:limit - len(LOG_HINT)].rstrip() + LOG_HINT
