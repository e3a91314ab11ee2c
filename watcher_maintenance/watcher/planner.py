"""The ``maintenance`` planner: ordered, paced, fail-fast action plans.

Watcher's weight planner starts migrations two at a time in no set order.
This planner keeps the order the strategy emitted and builds a chain:

    service changes, one after another (enable spare, disable node)
      -> checkpoint -> wave 1 of migrations (max_parallel_migrations)
      -> checkpoint (waits migration_pause) -> wave 2 -> ...

Each wave waits for the whole previous wave. Watcher's applier runs the
rest of a graph even after an action failed, so the checkpoint between
waves (``watcher_maintenance.watcher.actions``) marks what has not
started as SKIPPED once something failed.
"""

from __future__ import annotations

import networkx as nx
from oslo_log import log
from watcher import objects
from watcher.common import utils
from watcher.decision_engine.planner import weight

from watcher_maintenance.planning import ordering

LOG = log.getLogger(__name__)

SERVICE_ACTIONS = ('change_nova_service_state',)
CHECKPOINT = 'maintenance_checkpoint'


def pacing(strategy):
    """(max_parallel_migrations, migration_pause) from the audit."""
    params = getattr(strategy, 'input_parameters', None) or {}
    return (int(params.get('max_parallel_migrations', 1)),
            float(params.get('migration_pause', 0)))


def move_waits(strategy):
    """For each migration the strategy emitted, the earlier ones it must
    wait for (None when none waits)."""
    plan = getattr(strategy, 'plan', None)
    return getattr(plan, 'move_waits', None)


def chain(actions, parallel, pause, make_checkpoint, waits=None):
    """Link ``actions`` (in order) into the maintenance action graph.

    ``actions`` are objects with ``action_type``, ``uuid``,
    ``input_parameters`` and a ``parents`` list;
    ``make_checkpoint(duration)`` returns a new checkpoint action.
    ``waits[i]`` lists the earlier migrations the i-th one must wait for:
    a migration never shares a wave with one it waits for, whatever
    ``parallel`` allows.
    Returns every action of the graph, checkpoints included, in run order.
    """
    service = [a for a in actions if a.action_type in SERVICE_ACTIONS]
    # Enable the receiving host before the node goes out of service.
    service.sort(key=lambda a: (a.input_parameters or {}).get('state')
                 != 'enabled')
    others = [a for a in actions if a.action_type not in SERVICE_ACTIONS]
    steps = [[a] for a in service]
    for index, wave in enumerate(ordering.waves(others, parallel, waits)):
        if index:
            steps.append([make_checkpoint(pause)])
        elif steps:
            # Nothing moves if the node could not be taken out of service
            # (or the spare brought in): no pause, just the check.
            steps.append([make_checkpoint(0)])
        steps.append(wave)
    ordered, previous = [], []
    for step in steps:
        for action in step:
            action.parents = [p.uuid for p in previous]
            ordered.append(action)
        previous = step
    return ordered


class MaintenancePlanner(weight.WeightPlanner):
    """Chains a drain's actions in the strategy's order, in waves."""

    @classmethod
    def get_config_opts(cls):
        return []

    def schedule(self, context, audit_id, solution):
        action_plan = self.create_action_plan(context, audit_id, solution)
        parallel, pause = pacing(solution.strategy)
        waits = move_waits(solution.strategy)

        def new_action(**fields):
            return objects.Action(context, uuid=utils.generate_uuid(),
                                  parents=[], action_plan_id=action_plan.id,
                                  **fields)

        actions = [new_action(**a) for a in solution.actions]

        def checkpoint(duration):
            return new_action(
                action_type=CHECKPOINT,
                input_parameters={'duration': duration,
                                  'action_plan_uuid': action_plan.uuid})

        ordered = chain(actions, parallel, pause, checkpoint, waits)

        self._create_efficacy_indicators(context, action_plan.id,
                                         solution.efficacy_indicators)
        if not ordered:
            LOG.info('The maintenance action plan is empty')
            action_plan.state = objects.action_plan.State.SUCCEEDED
            action_plan.save()
        graph = nx.DiGraph()
        for action in ordered:
            graph.add_node(action)
        self.create_scheduled_actions(graph)
        return action_plan
