"""The ``maintenance`` planner: ordered, paced, fail-fast action plans.

Watcher's weight planner starts migrations two at a time in no set order.
This planner keeps the order the strategy emitted and builds a chain:

    service changes, one after another (enable spare, disable node)
      -> checkpoint -> wave 1 of migrations (max_parallel_migrations)
      -> checkpoint (waits migration_pause) -> wave 2 -> ...
      -> end check (a drain's node holds only the guests meant to stay)

Each wave waits for the whole previous wave, and a migration that needs
room another one frees never shares its wave. Watcher's applier runs
the rest of a graph even after an action failed, so the checkpoint
before each wave (``watcher_maintenance.watcher.actions``) marks what
has not started as SKIPPED once something failed, and stops the plan
when the wave no longer fits the cloud as Nova reports it.
"""

from __future__ import annotations

import networkx as nx
from oslo_log import log
from watcher import objects
from watcher.common import utils
from watcher.decision_engine.planner import weight

from watcher_maintenance import names
from watcher_maintenance.planning import ordering
from watcher_maintenance.watcher import notifications

LOG = log.getLogger(__name__)


def pacing(strategy):
    """(max_parallel_migrations, migration_pause) of the plan's options."""
    options = getattr(getattr(strategy, 'plan', None), 'options', None)
    if options is None:
        return 1, 0
    return options.max_parallel_migrations, options.migration_pause


def move_waits(strategy):
    """For each migration the strategy emitted, the earlier ones it must
    wait for (None when none waits)."""
    plan = getattr(strategy, 'plan', None)
    return getattr(plan, 'move_waits', None)


def end_check(strategy):
    """(nodes, guests left on them on purpose) when the plan must leave
    the nodes empty but for those, else None."""
    plan = getattr(strategy, 'plan', None)
    staying = getattr(plan, 'staying', None)
    return None if staying is None else (plan.nodes, staying)


def tenants_told(strategy):
    """(nodes, guests per project) when the plan's start and end are
    told to tenants (a drain that moves or stops guests), else None."""
    plan = getattr(strategy, 'plan', None)
    by_project = getattr(plan, 'by_project', None)
    if by_project is None or end_check(strategy) is None:
        return None
    projects = by_project()
    return (list(plan.nodes), projects) if projects else None


def mark_notifications(ordered, nodes, projects):
    """The first checkpoint announces the start, the first end check the
    end (``watcher_maintenance.watcher.notifications``)."""
    checkpoints = [a for a in ordered if a.action_type == names.CHECKPOINT]
    opening = [a for a in checkpoints
               if not a.input_parameters.get('empty_node')]
    closing = [a for a in checkpoints if a.input_parameters.get('empty_node')]
    if not opening or not closing:
        return
    opening[0].input_parameters = dict(
        opening[0].input_parameters, notify=notifications.START,
        hosts=list(nodes), tenants=projects)
    closing[0].input_parameters = dict(
        closing[0].input_parameters, notify=notifications.END)


def chain(actions, parallel, pause, make_checkpoint, waits=None,
          make_end_checks=None):
    """Link ``actions`` (in order) into the maintenance action graph.

    ``actions`` are objects with ``action_type``, ``uuid``,
    ``input_parameters`` and a ``parents`` list;
    ``make_checkpoint(duration, wave)`` returns a new checkpoint action
    that opens ``wave`` (a list of actions).
    ``waits[i]`` lists the earlier migrations the i-th one must wait for:
    a migration never shares a wave with one it waits for, whatever
    ``parallel`` allows.
    ``make_end_checks()``, if given, returns the actions that end the
    plan by checking the nodes are empty.
    Returns every action of the graph, checkpoints included, in run order.
    """
    service = [a for a in actions if a.action_type ==
               names.CHANGE_SERVICE_STATE]
    # Enable the receiving host before the node goes out of service.
    service.sort(key=lambda a: (a.input_parameters or {}).get('state')
                 != 'enabled')
    others = [a for a in actions if a.action_type not in (
        names.CHANGE_SERVICE_STATE, names.START)]
    starts = [a for a in actions if a.action_type == names.START]
    steps = [[a] for a in service]
    waves = ordering.waves(others, parallel, waits)
    for index, wave in enumerate(waves):
        # Every wave is opened by a check: nothing moves if the node
        # could not be taken out of service or an earlier move failed,
        # nor if the cloud changed under the wave. No pause before the
        # first wave.
        steps.append([make_checkpoint(pause if index else 0, wave)])
        steps.append(wave)
    if starts:
        # Guests a drain stopped start last, once the others are back,
        # and only if nothing failed before.
        steps.append([make_checkpoint(pause if waves else 0, [])])
        steps.append(starts)
    if steps and make_end_checks is not None:
        steps.append(make_end_checks())
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
        try:
            return self._schedule(context, audit_id, solution)
        finally:
            # The plan is saved (or failed): other audits may plan now.
            lock = getattr(solution.strategy, 'planning_lock', None)
            if lock is not None:
                lock.release()

    def _schedule(self, context, audit_id, solution):
        action_plan = self.create_action_plan(context, audit_id, solution)
        parallel, pause = pacing(solution.strategy)
        waits = move_waits(solution.strategy)

        def new_action(**fields):
            return objects.Action(context, uuid=utils.generate_uuid(),
                                  parents=[], action_plan_id=action_plan.id,
                                  **fields)

        actions = [new_action(**a) for a in solution.actions]

        def checkpoint(duration, wave=(), **checks):
            return new_action(
                action_type=names.CHECKPOINT,
                input_parameters=dict(
                    duration=duration, action_plan_uuid=action_plan.uuid,
                    migrations=[a.uuid for a in wave
                                if a.action_type == names.MIGRATE],
                    **checks))

        emptied = end_check(solution.strategy)
        ordered = chain(
            actions, parallel, pause, checkpoint, waits,
            None if emptied is None else lambda: [
                checkpoint(0, empty_node=node, staying=list(emptied[1]))
                for node in emptied[0]])

        told = tenants_told(solution.strategy)
        if told is not None:
            mark_notifications(ordered, *told)

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
