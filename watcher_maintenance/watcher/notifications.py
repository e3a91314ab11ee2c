"""``maintenance.start`` / ``maintenance.end``: telling tenants.

When a drain's action plan starts moving guests, and when it ends, the
applier emits an oslo.messaging notification on Watcher's notifier
(``watcher.common.rpc``: the same transport, driver and topics as
Watcher's own notifications, ``[oslo_messaging_notifications]``). The
payload lists, per project, the servers that the plan moves or stops,
with the host they are on and the action plan; tenants' tooling (or
Aodh) can act on it. ``doc/source/notifications.rst`` documents it.

The maintenance planner marks the plan's first checkpoint to announce
the start and its first end check to announce the end
(``planner.mark_notifications``); the checkpoint action
(``actions.MaintenanceCheckpoint``) sends them. Nothing is sent when
``[DEFAULT] notification_level`` is unset or above INFO, as for
Watcher's own notifications.
"""

from __future__ import annotations

from oslo_config import cfg
from oslo_log import log
from watcher.common import rpc

LOG = log.getLogger(__name__)
CONF = cfg.CONF

START = 'maintenance.start'
END = 'maintenance.end'
EVENTS = (START, END)
# Payload version: bumped when a field changes meaning or goes away.
VERSION = '1.0'
PUBLISHER = 'watcher-applier'

SUCCEEDED = 'succeeded'
STOPPED = 'stopped'


def payload(event, action_plan_uuid, hosts, tenants, result=None,
            reason=None):
    """The notification's payload (a JSON-able dict)."""
    body = {
        'version': VERSION,
        'event': event,
        'action_plan_uuid': action_plan_uuid,
        'hosts': list(hosts),
        'projects': {project: list(guests)
                     for project, guests in sorted(tenants.items())},
    }
    if event == END:
        body['result'] = result
        body['reason'] = reason
    return body


def enabled():
    level = (CONF.notification_level or '').lower()
    return level in ('debug', 'info')


def emit(context, event, body):
    """Send one notification at INFO priority; never fails the plan."""
    if not enabled():
        return False
    try:
        notifier = rpc.get_notifier('%s:%s' % (PUBLISHER, CONF.host))
        notifier.info(context, event, body)
    except Exception:   # noqa: BLE001 - tenants' news never stops a plan
        LOG.exception('Could not send the %s notification of action plan '
                      '%s', event, body.get('action_plan_uuid'))
        return False
    LOG.info('Sent %s for action plan %s (%d project(s))', event,
             body.get('action_plan_uuid'), len(body.get('projects') or {}))
    return True
