"""What the panel reads and asks: Watcher through python-watcherclient,
Nova through Horizon's ``openstack_dashboard.api.nova``.

Watcher calls go through the CLI's ``WatcherOps`` (plain dicts), so the
panel and ``openstack optimize maintenance`` create and read the same
audits the same way.
"""

from __future__ import annotations

from django.conf import settings
from openstack_dashboard.api import base
from openstack_dashboard.api import nova
from watcherclient import client as watcher_client

from watcher_maintenance.cli.nova import COMPUTE_BINARY
from watcher_maintenance.cli import watcher_ops

WATCHER_SERVICE = 'infra-optim'


def watcher(request):
    """``WatcherOps`` over a client made with the user's token."""
    client = watcher_client.get_client(
        '1',
        watcher_url=base.url_for(request, WATCHER_SERVICE),
        os_auth_token=request.user.token.id,
        os_infra_optim_api_version=watcher_ops.API_VERSION,
        insecure=getattr(settings, 'OPENSTACK_SSL_NO_VERIFY', False),
        ca_file=getattr(settings, 'OPENSTACK_SSL_CACERT', None))
    return watcher_ops.WatcherOps(client)


def _guest(server):
    return {'uuid': server.id, 'name': server.name,
            'project': getattr(server, 'tenant_id', None),
            'host': getattr(server, 'OS-EXT-SRV-ATTR:host', None),
            'status': server.status}


class NovaView:
    """The compute services and every project's servers, read once.

    ``guest(uuid)`` has the shape ``cli.render`` expects, so the panel's
    plan and result rows are the CLI's.
    """

    def __init__(self, request):
        self.services = sorted(
            (s for s in nova.service_list(request, binary=COMPUTE_BINARY)
             # Horizon's test data, and old clouds, ignore the filter.
             if s.binary == COMPUTE_BINARY),
            key=lambda s: s.host)
        servers, _more = nova.server_list(
            request, search_opts={'all_tenants': True})
        self._guests = {s.id: _guest(s) for s in servers}

    def guest(self, uuid):
        return self._guests.get(uuid)

    def guests_on(self, host):
        return sorted((g for g in self._guests.values() if g['host'] == host),
                      key=lambda g: (g['name'] or '', g['uuid']))

    def service(self, host):
        for service in self.services:
            if service.host == host:
                return service
        return None
