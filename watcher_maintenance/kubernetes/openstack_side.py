"""What the controller reads from and asks of Watcher and Nova.

Watcher only through python-watcherclient, Nova only through
openstacksdk: nothing here imports Watcher's server code.
"""

from __future__ import annotations

import logging
import threading

from watcher_maintenance import names
from watcher_maintenance.cli import nova
from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.kubernetes import reconcile

LOG = logging.getLogger(__name__)

AUDIT_BUSY = ('PENDING', 'ONGOING')
PLAN_BUSY = ('PENDING', 'ONGOING', 'CANCELLING')


class NoCredentials(Exception):
    """The controller cannot talk to Keystone, Watcher or Nova."""


def connect():
    """Clients from the usual OpenStack environment (``OS_CLOUD`` and
    clouds.yaml, or ``OS_*`` variables)."""
    import openstack
    from watcherclient.v1 import client as watcher_client
    try:
        conn = openstack.connect()
        conn.session.get_endpoint(service_type='infra-optim')
    except Exception as error:  # noqa: BLE001 - keystoneauth, sdk errors
        raise NoCredentials(
            'Cannot reach OpenStack: %s. Set OS_CLOUD (and clouds.yaml, '
            'the Secret in deploy/kubernetes/) or OS_* variables for an '
            'admin able to create Watcher audits.' % error) from error
    watcher = watcher_client.Client(
        session=conn.session,
        os_infra_optim_api_version=watcher_ops.API_VERSION)
    return watcher, conn.compute


class OpenStackSide:
    """Snapshots for ``reconcile.step`` and the steps' effects."""

    # One controller process, many Nodes handled in parallel threads:
    # "is Watcher busy?" and "create the audit" must not interleave.
    _ask_lock = threading.Lock()

    def __init__(self, watcher_client, compute):
        self.client = watcher_client
        self.ops = watcher_ops.WatcherOps(watcher_client)
        self.compute = compute

    # -- Nova ----------------------------------------------------------------

    def service_view(self, node_name, annotated_host):
        reader = nova.NovaReader(self.compute)
        try:
            hosts = [s.host for s in self.compute.services(
                binary=nova.COMPUTE_BINARY)]
        except Exception as error:  # noqa: BLE001 - told on the Node
            return reconcile.ServiceView(
                host=None, unmapped_reason='Could not list nova-compute '
                'services to map node %s: %s' % (node_name, error))
        host, reason = reconcile.nova_host_for(node_name, annotated_host,
                                               hosts)
        if host is None:
            return reconcile.ServiceView(host=None, unmapped_reason=reason)
        service = reader.service(host) or {}
        guests = reader.guests_on(host)
        return reconcile.ServiceView(
            host=host, status=service.get('status'),
            disabled_reason=service.get('disabled_reason'),
            guests_left=None if guests is None else len(guests))

    # -- Watcher -------------------------------------------------------------

    def watcher_view(self, node, queueing=True):
        audit = plan = None
        if node.audit:
            audit = self.ops.audit(node.audit)
            if audit['state'] == 'SUCCEEDED':
                plan = self.ops.plan_of(audit['uuid'])
        elif node.action_plan:
            plan = self.ops.plan(node.action_plan)
        busy = self.busy() if queueing and node.audit is None else None
        return reconcile.WatcherView(audit=audit, plan=plan, busy=busy)

    def busy(self):
        """A sentence naming a running audit or plan, or None."""
        for audit in self.client.audit.list(detail=True, limit=0):
            audit = watcher_ops.as_dict(audit)
            if audit['state'] in AUDIT_BUSY:
                return 'audit %s (%s)' % (audit['uuid'], audit['state'])
        for plan in self.client.action_plan.list(detail=True, limit=0):
            plan = watcher_ops.as_dict(plan)
            if plan['state'] in PLAN_BUSY:
                return 'action plan %s (%s)' % (plan['uuid'], plan['state'])
        return None

    def create_audit(self, step, node):
        """The audit's uuid; adopts the one already under this name."""
        from watcherclient.common.apiclient import exceptions
        fields = dict(audit_type='ONESHOT', goal=names.GOAL,
                      strategy=step.strategy, parameters=step.parameters,
                      name=step.audit_name)
        if step.force:
            fields['force'] = True
        with self._ask_lock:
            if not step.force:
                busy = self.busy()
                if busy:
                    return None, busy
            try:
                audit = self.client.audit.create(**fields)
            except exceptions.Conflict:
                LOG.info('Audit %s exists already: adopting it',
                         step.audit_name)
                audit = self.client.audit.get(step.audit_name)
        return watcher_ops.as_dict(audit)['uuid'], None

    def start_plan(self, uuid):
        self.ops.start_plan(uuid)

    def cancel_plan(self, uuid):
        self.client.action_plan.cancel(uuid)
