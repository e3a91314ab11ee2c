"""The ``maintenance_checkpoint`` action: fail-fast, pacing and live
checks for plans.

Watcher 17's applier keeps starting actions after one has failed: its
task containers record the failure and return normally, so the rest of
the graph runs. Operators draining a host want the opposite. The
maintenance planner puts a checkpoint before every wave of migrations;
when an earlier action of the plan has failed, the checkpoint marks
every action that has not started as SKIPPED, which the applier honours
by not running them. Otherwise it waits ``duration`` seconds (the
audit's ``migration_pause``), then re-checks the wave's migrations
against Nova and Placement as they are now (``planning.recheck``): a
move that no longer holds stops the plan before anything of the wave
starts. A last checkpoint after a drain's final wave checks that the
node holds no guest the plan did not mean to leave there.
"""

from __future__ import annotations

import time

from oslo_config import cfg
from oslo_log import log
from watcher import objects
from watcher.applier.actions import base
from watcher.common import context
from watcher.common import exception
from watcher.common import nova_helper

from watcher_maintenance.planning import recheck
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.watcher import live_state
from watcher_maintenance.watcher import notifications

LOG = log.getLogger(__name__)
CONF = cfg.CONF

NOT_STARTED = ('Not started: %s failed earlier in this maintenance plan, '
               'and nothing further starts after a failure.')
STOPPED_BY_CHECK = 'Not started: %s'


class PlanStopped(exception.WatcherException):
    """The checkpoint fails with the operator's sentence."""

    msg_fmt = '%(reason)s'


class _MaintenanceAction(base.BaseAction):
    """What our actions share: nothing to undo or to check around them
    (the checkpoint is a check itself, and a start needs no undo)."""

    def revert(self):
        return True

    def abort(self):
        return True

    def pre_condition(self):
        pass

    def post_condition(self):
        pass


class MaintenanceCheckpoint(_MaintenanceAction):
    """Stop the plan after a failure; otherwise pause between waves."""

    DURATION = 'duration'
    ACTION_PLAN = 'action_plan_uuid'
    # UUIDs of the migrate actions of the wave this checkpoint opens.
    MIGRATIONS = 'migrations'
    # After a drain's last wave: the node that must be empty, and the
    # guests the plan left on it on purpose.
    EMPTY_NODE = 'empty_node'
    STAYING = 'staying'
    # Tenants' notifications (see notifications.py): which one this
    # checkpoint sends, and on the start, the nodes and guests per project.
    NOTIFY = 'notify'
    HOSTS = 'hosts'
    TENANTS = 'tenants'

    @property
    def schema(self):
        return {
            'type': 'object',
            'properties': {
                'duration': {'type': 'number', 'minimum': 0},
                'action_plan_uuid': {'type': 'string', 'minLength': 1},
                'resource_id': {'type': 'string'},
                'migrations': {'type': 'array',
                               'items': {'type': 'string'}},
                'empty_node': {'type': 'string', 'minLength': 1},
                'staying': {'type': 'array', 'items': {'type': 'string'}},
                'notify': {'type': 'string',
                           'enum': list(notifications.EVENTS)},
                'hosts': {'type': 'array', 'items': {'type': 'string'}},
                'tenants': {'type': 'object'},
            },
            'required': ['duration', 'action_plan_uuid'],
            'additionalProperties': False,
        }

    def execute(self):
        ctx = context.make_context(is_admin=True)
        actions = self._actions(ctx)
        failed = [a for a in actions
                  if a.state == objects.action.State.FAILED]
        if failed:
            culprit = '%s of %s' % (
                failed[0].action_type,
                failed[0].input_parameters.get('resource_name')
                or failed[0].input_parameters.get('resource_id'))
            self._skip_the_rest(actions, NOT_STARTED % culprit)
            LOG.warning('Maintenance plan stopped: %s failed',  culprit)
            self._tell_end(ctx, actions, '%s failed' % culprit)
            return True
        duration = float(self.input_parameters.get(self.DURATION, 0))
        if duration > 0:
            time.sleep(duration)
        problem = self._live_problem(ctx, actions)
        if problem:
            self._skip_the_rest(self._actions(ctx), STOPPED_BY_CHECK % problem)
            LOG.warning('Maintenance plan stopped: %s', problem)
            self._tell_end(ctx, actions, problem)
            raise PlanStopped(reason=problem)
        LOG.info('Maintenance checkpoint of action plan %s passed',
                 self.input_parameters[self.ACTION_PLAN])
        notify = self.input_parameters.get(self.NOTIFY)
        if notify == notifications.START:
            notifications.emit(ctx, notifications.START, self._payload(
                notifications.START, self.input_parameters))
        elif notify == notifications.END:
            self._tell_end(ctx, actions)
        return True

    def _payload(self, event, start, **end):
        return notifications.payload(
            event, self.input_parameters[self.ACTION_PLAN],
            start.get(self.HOSTS) or (), start.get(self.TENANTS) or {},
            **end)

    def _tell_end(self, ctx, actions, stopped_because=None):
        """``maintenance.end``, once the start was told (by another
        checkpoint of this plan that has succeeded)."""
        started = [a.input_parameters for a in actions
                   if a.input_parameters.get(self.NOTIFY)
                   == notifications.START
                   and a.state == objects.action.State.SUCCEEDED]
        if not started:
            return
        notifications.emit(ctx, notifications.END, self._payload(
            notifications.END, started[0],
            result=(notifications.STOPPED if stopped_because
                    else notifications.SUCCEEDED),
            reason=stopped_because))

    def _actions(self, ctx):
        return objects.Action.list(
            ctx, filters={'action_plan_uuid':
                          self.input_parameters[self.ACTION_PLAN]},
            eager=True)

    @staticmethod
    def _skip_the_rest(actions, message):
        for action in actions:
            if action.state == objects.action.State.PENDING:
                action.state = objects.action.State.SKIPPED
                action.status_message = message
                action.save()

    def _live_problem(self, ctx, actions):
        """The sentence if the cloud no longer fits what comes next."""
        wanted = set(self.input_parameters.get(self.MIGRATIONS) or ())
        node = self.input_parameters.get(self.EMPTY_NODE)
        if not wanted and not node:
            return None
        try:
            return self._check(live_state.LiveCloud(), actions, wanted, node)
        except Exception as error:
            # Without the facts the check cannot vouch for the next step,
            # so nothing more runs; the plan stops with a sentence.
            LOG.exception('Maintenance checkpoint could not read the cloud')
            return ('Could not check %s against Nova and Placement (%s: '
                    '%s), so nothing further was started. Check that the '
                    'applier can reach Nova and Placement with admin rights, '
                    'then run the audit again.' % (
                        'that %s is empty' % node if node else
                        'the next wave of migrations',
                        type(error).__name__, error))

    def _check(self, cloud, actions, wanted, node):
        if node:
            return recheck.strays(
                {g.uuid: g.name for g in cloud.guests_on(node)},
                self.input_parameters.get(self.STAYING) or (), node)
        moves = [_planned_move(a) for a in actions if a.uuid in wanted]
        servers = {m.guest_uuid: cloud.server(m.guest_uuid) for m in moves}
        hosts = {m.destination: cloud.host(m.destination) for m in moves}
        present = [s.guest for s in servers.values() if s is not None]
        groups = cloud.server_groups(present) if present else []
        found = recheck.problems(moves, servers, hosts, groups)
        return recheck.sentence(moves, found) if found else None

    def get_description(self):
        return ('Before each wave of migrations: stop the plan if an action '
                'failed, otherwise wait the configured pause, then check '
                'the wave against Nova and Placement as they are now.')


class MaintenanceStart(_MaintenanceAction):
    """Start a server that the node's drain stopped (``host_restore``).

    Watcher 17 has a ``stop`` action and no start. This one asks Nova to
    start the server and waits until it is ACTIVE, polling as Watcher's
    migrations do (``[nova] migration_interval``, at most ``[nova]
    migration_max_retries`` times). A server already ACTIVE counts as
    started; one in any other state than SHUTOFF fails the action with a
    sentence.
    """

    RESOURCE_NAME = 'resource_name'

    @property
    def schema(self):
        return {
            'type': 'object',
            'properties': {
                'resource_id': {'type': 'string', 'minLength': 1},
                'resource_name': {'type': 'string'},
            },
            'required': ['resource_id'],
            'additionalProperties': False,
        }

    @property
    def label(self):
        return self.input_parameters.get(self.RESOURCE_NAME) or \
            self.resource_id

    def execute(self):
        nova = nova_helper.NovaHelper()
        server = nova.find_instance(self.resource_id)
        if server.vm_state == 'active':
            return True
        if server.vm_state != 'stopped':
            raise PlanStopped(reason=(
                'Cannot start %s: it is %s, not stopped. host_drain stopped '
                'it; someone has changed it since. Start it by hand if it '
                'should run.' % (self.label, server.status)))
        nova.connection.compute.start_server(self.resource_id)
        for _ in range(max(1, CONF.nova.migration_max_retries)):
            server = nova.find_instance(self.resource_id)
            if server.vm_state == 'active':
                return True
            if server.vm_state == 'error':
                break
            time.sleep(CONF.nova.migration_interval)
        raise PlanStopped(reason=(
            '%s did not become ACTIVE after the start request (it is %s). '
            'See nova-compute\'s log on its host.' % (self.label,
                                                      server.status)))

    def get_description(self):
        return ('Start a server that host_drain stopped in place, when its '
                'node leaves maintenance.')


def _planned_move(action) -> recheck.PlannedMove:
    params = action.input_parameters
    return recheck.PlannedMove(
        guest_uuid=params['resource_id'],
        guest_name=params.get('resource_name'),
        outcome=Outcome(params.get('migration_type', Outcome.LIVE.value)),
        source=params.get('source_node'),
        destination=params.get('destination_node'))
