"""The ``maintenance_checkpoint`` action: fail-fast and pacing for plans.

Watcher 17's applier keeps starting actions after one has failed: its
task containers record the failure and return normally, so the rest of
the graph runs. Operators draining a host want the opposite. The
maintenance planner puts a checkpoint between waves of migrations; when
an earlier action of the plan has failed, the checkpoint marks every
action that has not started as SKIPPED, which the applier honours by
not running them. Otherwise it waits ``duration`` seconds (the audit's
``migration_pause``) and lets the next wave start.
"""

from __future__ import annotations

import time

from oslo_log import log
from watcher import objects
from watcher.applier.actions import base
from watcher.common import context

LOG = log.getLogger(__name__)

NOT_STARTED = ('Not started: %s failed earlier in this maintenance plan, '
               'and nothing further starts after a failure.')


class MaintenanceCheckpoint(base.BaseAction):
    """Stop the plan after a failure; otherwise pause between waves."""

    DURATION = 'duration'
    ACTION_PLAN = 'action_plan_uuid'

    @property
    def schema(self):
        return {
            'type': 'object',
            'properties': {
                'duration': {'type': 'number', 'minimum': 0},
                'action_plan_uuid': {'type': 'string', 'minLength': 1},
                'resource_id': {'type': 'string'},
            },
            'required': ['duration', 'action_plan_uuid'],
            'additionalProperties': False,
        }

    def execute(self):
        ctx = context.make_context(is_admin=True)
        actions = objects.Action.list(
            ctx, filters={'action_plan_uuid':
                          self.input_parameters[self.ACTION_PLAN]})
        failed = [a for a in actions
                  if a.state == objects.action.State.FAILED]
        if failed:
            culprit = '%s of %s' % (
                failed[0].action_type,
                failed[0].input_parameters.get('resource_name')
                or failed[0].input_parameters.get('resource_id'))
            for action in actions:
                if action.state == objects.action.State.PENDING:
                    action.state = objects.action.State.SKIPPED
                    action.status_message = NOT_STARTED % culprit
                    action.save()
            LOG.warning('Maintenance plan stopped: %s failed',  culprit)
            return True
        duration = float(self.input_parameters.get(self.DURATION, 0))
        if duration > 0:
            time.sleep(duration)
        return True

    def revert(self):
        return True

    def abort(self):
        return True

    def pre_condition(self):
        pass

    def post_condition(self):
        pass

    def get_description(self):
        return ('Between waves of migrations: stop the plan if an action '
                'failed, otherwise wait the configured pause.')
