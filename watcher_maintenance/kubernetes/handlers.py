"""kopf handlers: thin; ``reconcile.step`` decides, this carries it out.

One timer per selected Node looks at the Node, its nova-compute service
and its Watcher audit and plan every ``poll_seconds``, applies the one
step ``reconcile.step`` returns, writes the result to the Node's
annotations (through kopf's patch) and posts an Event when the state or
the sentence changes. A timer rather than change handlers because
Watcher does not call back: progress is only seen by looking.
"""

from __future__ import annotations

import logging

import kopf

from watcher_maintenance.kubernetes import guard as wm_guard
from watcher_maintenance.kubernetes import openstack_side
from watcher_maintenance.kubernetes import reconcile
from watcher_maintenance.kubernetes import settings as wm_settings

SETTINGS = wm_settings.Settings.from_environment()

# Tests replace these to point the controller elsewhere.
connect_openstack = openstack_side.connect
connect_guard = wm_guard.Guard.connect


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo, **_):
    # One central controller: no peering objects to keep in the cluster.
    settings.peering.standalone = True
    # Only our own Events and warnings reach the Nodes, not every tick.
    settings.posting.level = logging.WARNING
    settings.persistence.finalizer = (
        wm_settings.PREFIX + 'controller')
    watcher, compute = connect_openstack()
    memo.openstack = openstack_side.OpenStackSide(watcher, compute)
    memo.guard = connect_guard(SETTINGS) if SETTINGS.hold_drain else None


def node_view(name, spec, annotations):
    try:
        attempt = int(annotations.get(wm_settings.ATTEMPT) or 0)
    except ValueError:
        attempt = 0
    return reconcile.NodeView(
        name=name, cordoned=bool(spec.get('unschedulable')),
        state=annotations.get(wm_settings.STATE),
        request_id=annotations.get(wm_settings.REQUEST_ID),
        attempt=attempt,
        audit=annotations.get(wm_settings.AUDIT),
        action_plan=annotations.get(wm_settings.ACTION_PLAN),
        approved=annotations.get(wm_settings.APPROVE) == 'true')


def _options():
    return reconcile.Options(
        approval_required=SETTINGS.approval_required,
        force_audits=SETTINGS.force_audits,
        return_guests=SETTINGS.return_guests or None)


@kopf.timer('', 'v1', 'nodes', interval=SETTINGS.poll_seconds,
            labels=SETTINGS.label_filter())
def tick(name, body, meta, spec, patch, memo, logger, **_):
    annotations = dict(meta.get('annotations') or {})
    node = node_view(name, spec, annotations)
    openstack = memo.openstack
    service = openstack.service_view(
        name, annotations.get(wm_settings.NOVA_HOST))
    watcher = (openstack.watcher_view(
        node, queueing=not SETTINGS.force_audits) if service.host
        else reconcile.WatcherView())
    step = reconcile.step(node, service, watcher, _options())
    changes = apply(step, node, watcher, openstack, body)
    annotations.update(changes)
    for key, value in changes.items():
        patch.setdefault('metadata', {}).setdefault(
            'annotations', {})[key] = value
    tell(body, annotations, changes, step)
    if memo.guard is not None:
        after = node_view(name, spec, {k: v for k, v in annotations.items()
                                       if v is not None})
        if reconcile.drain_held(after, True, annotations.get(
                wm_settings.RELEASE_DRAIN) == 'true'):
            if memo.guard.hold(name, body['metadata'].get('uid')):
                logger.info('Holding kubectl drain on %s', name)
        elif memo.guard.release(name):
            why = ('the hypervisor is drained'
                   if after.state == reconcile.DRAINED
                   else 'released by annotation')
            kopf.event(body, type='Normal', reason='DrainReleased',
                       message='kubectl drain of %s may proceed: %s.'
                       % (name, why))


def apply(step, node, watcher, openstack, body):
    """Carry out ``step``; the annotations to write (None deletes)."""
    changes = {}
    if step.state:
        changes[wm_settings.STATE] = step.state
    if step.message:
        changes[wm_settings.MESSAGE] = step.message
    if watcher.plan and node.action_plan != watcher.plan['uuid']:
        changes[wm_settings.ACTION_PLAN] = watcher.plan['uuid']

    if step.kind == reconcile.BEGIN:
        if step.state == reconcile.PENDING:
            # The Node's version when the cordon was first seen: the same
            # on a repeated look at a stale copy, so it names one request.
            changes[wm_settings.REQUEST_ID] = 'r%s' % body['metadata'].get(
                'resourceVersion')
            changes[wm_settings.APPROVE] = None
        changes.update({wm_settings.ATTEMPT: '0', wm_settings.AUDIT: None,
                        wm_settings.ACTION_PLAN: None})
    elif step.kind == reconcile.QUEUE:
        if node.audit:
            changes[wm_settings.ATTEMPT] = str(node.attempt + 1)
        changes.update({wm_settings.AUDIT: None,
                        wm_settings.ACTION_PLAN: None})
    elif step.kind == reconcile.CREATE_AUDIT:
        uuid, busy = openstack.create_audit(step, node)
        if uuid is None:   # someone started work in the meantime
            changes[wm_settings.MESSAGE] = (
                'Waiting: %s is running; retrying when it ends.' % busy)
        else:
            changes[wm_settings.AUDIT] = uuid
            changes[wm_settings.MESSAGE] = 'Audit %s (%s) asked for %s.' % (
                uuid, step.strategy, step.parameters['maintenance_node'])
    elif step.kind == reconcile.START_PLAN:
        openstack.start_plan(step.plan)
        changes[wm_settings.ACTION_PLAN] = step.plan
    elif step.kind == reconcile.CANCEL_PLAN:
        openstack.cancel_plan(step.plan)
    return changes


def tell(body, annotations, changes, step):
    """An Event when the Node's state or sentence changes."""
    message = changes.get(wm_settings.MESSAGE)
    if message is None or message == (body.get('metadata', {}).get(
            'annotations') or {}).get(wm_settings.MESSAGE):
        return
    reason = annotations.get(wm_settings.STATE) or 'Unmapped'
    # kopf.event, not kopf.info: posting.level keeps kopf's own INFO
    # logs (one per tick) off the Node, and would drop info() too.
    kopf.event(body, type='Warning' if step.warning else 'Normal',
               reason=reason, message=message)
