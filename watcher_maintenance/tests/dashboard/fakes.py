"""A small stand-in for python-watcherclient, for the view tests.

It keeps audits, plans and actions as the API's JSON and records what
the panel asked for; the browser tests use real Watcher services.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from watcher_maintenance.names import MAINTAINING_REASON

_ids = itertools.count(1)


def uuid(kind):
    return '%s-%04d' % (kind, next(_ids))


class _Manager:
    def __init__(self, items):
        self.items = items


class _Audits(_Manager):
    def __init__(self, items, refuse=None):
        super().__init__(items)
        self.created = []
        self.refuse = refuse

    def create(self, **fields):
        if self.refuse:
            raise RuntimeError(self.refuse)
        self.created.append(fields)
        audit = dict(fields, uuid=uuid('audit'), state='PENDING',
                     strategy_name=fields['strategy'],
                     created_at='2026-11-30T10:00:%02d' % len(self.created))
        self.items.append(audit)
        return dict(audit)

    def get(self, audit_uuid):
        return next(dict(a) for a in self.items if a['uuid'] == audit_uuid)

    def list(self, strategy=None, detail=False, limit=None):
        return [dict(a) for a in self.items
                if strategy in (None, a.get('strategy_name'))]


class _Plans(_Manager):
    def __init__(self, items):
        super().__init__(items)
        self.started, self.cancelled = [], []

    def list(self, audit=None, limit=None):
        return [dict(p) for p in self.items
                if audit in (None, p['audit_uuid'])]

    def get(self, plan_uuid):
        return next(dict(p) for p in self.items if p['uuid'] == plan_uuid)

    def _set(self, plan_uuid, state):
        for plan in self.items:
            if plan['uuid'] == plan_uuid:
                plan['state'] = state
                return dict(plan)

    def start(self, plan_uuid):
        self.started.append(plan_uuid)
        return self._set(plan_uuid, 'PENDING')

    def cancel(self, plan_uuid):
        self.cancelled.append(plan_uuid)
        return self._set(plan_uuid, 'CANCELLED')


class _Actions(_Manager):
    def list(self, action_plan=None, detail=False, limit=None):
        return [dict(a) for a in self.items
                if a['action_plan_uuid'] == action_plan]


class FakeWatcher:
    """``audit``, ``action_plan`` and ``action`` managers over lists."""

    def __init__(self, refuse=None):
        self.audits, self.plans, self.actions = [], [], []
        self.audit = _Audits(self.audits, refuse)
        self.action_plan = _Plans(self.plans)
        self.action = _Actions(self.actions)

    def add_audit(self, strategy, params, state, status_message=None):
        audit = {'uuid': uuid('audit'), 'strategy_name': strategy,
                 'goal_name': 'cluster_maintenance', 'parameters': params,
                 'state': state, 'status_message': status_message,
                 'created_at': '2026-11-30T09:00:%02d' % len(self.audits)}
        self.audits.append(audit)
        return audit

    def add_plan(self, audit, state, indicators=(), status_message=None):
        plan = {'uuid': uuid('plan'), 'audit_uuid': audit['uuid'],
                'state': state, 'status_message': status_message,
                'global_efficacy': [], 'efficacy_indicators': list(
                    indicators),
                'created_at': audit['created_at']}
        self.plans.append(plan)
        return plan

    def add_action(self, plan, action_type, action_state='PENDING',
                   status_message=None, **params):
        action = {'uuid': uuid('action'), 'action_plan_uuid': plan['uuid'],
                  'action_type': action_type, 'state': action_state,
                  'status_message': status_message,
                  'input_parameters': params, 'parents': []}
        if self.actions and self.actions[-1]['action_plan_uuid'] == \
                plan['uuid']:
            action['parents'] = [self.actions[-1]['uuid']]
        self.actions.append(action)
        return action

    def add_migration(self, plan, server, source, destination, how='live',
                      state='PENDING', status_message=None):
        return self.add_action(
            plan, 'migrate', state, status_message,
            resource_id=server.id, resource_name=server.name,
            source_node=source, destination_node=destination,
            migration_type=how)


def service(host, zone='az-1', status='enabled', state='up', reason=None,
            binary='nova-compute'):
    """An openstacksdk-like compute service, as api.nova.service_list
    returns."""
    return SimpleNamespace(host=host, binary=binary, availability_zone=zone,
                           status=status, state=state,
                           disabled_reason=reason)


def in_maintenance(host, zone='az-1'):
    return service(host, zone, status='disabled', reason=MAINTAINING_REASON)


def server(name, host, project='project-a', status='ACTIVE'):
    """A novaclient-like server, as api.nova.server_list returns."""
    return SimpleNamespace(**{'id': 'uuid-%s' % name, 'name': name,
                              'tenant_id': project, 'status': status,
                              'OS-EXT-SRV-ATTR:host': host})
