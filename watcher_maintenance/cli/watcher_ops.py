"""What the maintenance commands ask of Watcher, through python-watcherclient.

Everything is returned as plain dictionaries (the API's JSON), so the
presentation code never touches client resources.
"""

from __future__ import annotations

import time

from watcher_maintenance import names
from watcher_maintenance.planning import options
from watcher_maintenance.planning.plan import PlanningRefused


# Audit states after which nothing more happens to a ONESHOT audit.
AUDIT_FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUSPENDED')
PLAN_FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUPERSEDED')
ACTION_FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED')

# Microversion that carries audits' and actions' status_message.
API_VERSION = '1.5'


class TimedOut(Exception):
    """Waiting for an audit or a plan took longer than allowed."""

    def __init__(self, kind, uuid, state, seconds):
        super().__init__('%s %s still %s after %g s'
                         % (kind, uuid, state, seconds))
        self.kind = kind
        self.uuid = uuid
        self.state = state
        self.seconds = seconds


class Deadline:
    """A time limit; ``seconds=None`` means none."""

    def __init__(self, seconds=None, clock=time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds

    def expired(self):
        return self._end is not None and self._clock() >= self._end


def as_dict(resource):
    if resource is None or isinstance(resource, dict):
        return resource
    return resource.to_dict()


def parents_first(actions):
    """Actions in an order where each comes after all of its parents.

    Watcher lists actions by id, which is not always run order; among
    actions whose parents are all placed, the API's order is kept. The
    CLI, the demo and the sandbox all show plans in this order.
    """
    known = {a['uuid'] for a in actions}
    waiting = {a['uuid']: {p for p in a.get('parents') or [] if p in known}
               for a in actions}
    ordered, placed = [], set()
    while len(ordered) < len(actions):
        ready = [a for a in actions if a['uuid'] not in placed
                 and waiting[a['uuid']] <= placed]
        if not ready:   # a cycle: keep the rest as listed
            ready = [a for a in actions if a['uuid'] not in placed]
        for action in ready:
            placed.add(action['uuid'])
            ordered.append(action)
    return ordered


def _age(item):
    """Sort key: the newest record is the largest."""
    return (item.get('created_at') or '', item.get('uuid') or '')


def audit_nodes(audit):
    """The node(s) a maintenance audit is about (``maintenance_node`` or
    ``maintenance_nodes``), or none if its parameters name none."""
    try:
        return list(options.nodes_from(audit.get('parameters') or {}))
    except PlanningRefused:
        return []


class WatcherOps:
    """Audits, plans and actions of the maintenance strategies."""

    poll_interval = 2.0

    def __init__(self, client, sleep=time.sleep):
        self.client = client
        self._sleep = sleep

    # -- audits ------------------------------------------------------------

    def create_audit(self, strategy, parameters):
        # Watcher cancels a ONESHOT audit created while any action plan
        # is ONGOING unless it is forced. Maintenance audits count every
        # unfinished plan's moves, so a second host can safely be
        # planned while the first one drains.
        return as_dict(self.client.audit.create(
            audit_type='ONESHOT', goal=names.GOAL, strategy=strategy,
            parameters=parameters, force=True))

    def audit(self, uuid):
        return as_dict(self.client.audit.get(uuid))

    def wait_audit(self, uuid, deadline):
        return self._wait('Audit', self.audit, uuid, AUDIT_FINAL, deadline)

    def latest_audit(self, host, strategies=names.STRATEGIES):
        """The newest audit of a maintenance strategy for this node."""
        return self.latest_audits(strategies).get(host)

    def latest_audits(self, strategies=names.STRATEGIES):
        """``{host: newest maintenance audit naming it}``, in one listing
        per strategy (an audit of several nodes counts for each)."""
        newest = {}
        for strategy in strategies:
            for audit in self.client.audit.list(strategy=strategy,
                                                detail=True, limit=0):
                audit = as_dict(audit)
                for host in audit_nodes(audit):
                    if host not in newest or _age(audit) > _age(
                            newest[host]):
                        newest[host] = audit
        return newest

    # -- plans and actions -------------------------------------------------

    def plan_of(self, audit_uuid):
        """The audit's action plan (details), or None if it has none."""
        plans = [as_dict(p) for p in
                 self.client.action_plan.list(audit=audit_uuid, limit=0)]
        if not plans:
            return None
        return self.plan(max(plans, key=_age)['uuid'])

    def plans_by_audit(self):
        """``{audit uuid: its newest action plan (summary)}``, in one
        listing."""
        newest = {}
        for plan in self.client.action_plan.list(limit=0):
            plan = as_dict(plan)
            audit = plan.get('audit_uuid')
            if audit not in newest or _age(plan) > _age(newest[audit]):
                newest[audit] = plan
        return newest

    def plan(self, uuid):
        return as_dict(self.client.action_plan.get(uuid))

    def actions_of(self, plan_uuid):
        return parents_first([
            as_dict(a) for a in self.client.action.list(
                action_plan=plan_uuid, detail=True, limit=0)])

    def start_plan(self, uuid):
        return as_dict(self.client.action_plan.start(uuid))

    def cancel_plan(self, uuid):
        """Discard a RECOMMENDED plan, or stop a running one."""
        return as_dict(self.client.action_plan.cancel(uuid))

    def follow_plan(self, uuid, deadline, on_poll=None):
        """Wait for a plan to end; ``on_poll(plan, actions)`` each poll."""
        def get(plan_uuid):
            plan = self.plan(plan_uuid)
            if on_poll is not None:
                on_poll(plan, self.actions_of(plan_uuid))
            return plan
        return self._wait('Action plan', get, uuid, PLAN_FINAL, deadline)

    def _wait(self, kind, get, uuid, final, deadline):
        while True:
            item = get(uuid)
            if item['state'] in final:
                return item
            if deadline.expired():
                raise TimedOut(kind, uuid, item['state'], deadline.seconds)
            self._sleep(self.poll_interval)
