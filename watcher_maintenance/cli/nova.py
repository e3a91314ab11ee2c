"""What the commands read from Nova: the node's service and its guests.

Read through openstacksdk, i.e. the compute client that OpenStackClient's
client manager already builds (``client_manager.compute``), for two
reasons:

* Watcher does not expose what an operator asks ``show`` for. Its
  data-model API (``GET /v1/data_model``) is a snapshot the decision
  engine refreshes on its own schedule (minutes, or on notifications), so
  right after a migration it still lists the guest on the old node, and
  it carries neither the service's disabled reason nor guests' projects.
* The operator is already authenticated for Nova in the same session;
  reading it adds no credentials and no dependency beyond openstacksdk,
  which OpenStackClient itself depends on.

Nova being unreachable (or the user lacking the admin rights to list
services) must not hide Watcher's results, so every reader here returns
``None`` instead of raising, and the commands say "unknown".
"""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)

COMPUTE_BINARY = 'nova-compute'


def _flavor_ram(flavor):
    """MiB of RAM of a server's flavor (embedded from microversion 2.47)."""
    if flavor is None:
        return None
    ram = (flavor.get('ram') if isinstance(flavor, dict)
           else getattr(flavor, 'ram', None))
    return int(ram) if ram is not None else None


class NovaReader:
    """Guests and services, with a per-command cache of servers."""

    def __init__(self, compute):
        self.compute = compute
        self._servers = {}

    def service(self, host):
        """``{'status', 'state', 'disabled_reason'}`` of the node."""
        if self.compute is None:
            return None
        try:
            for service in self.compute.services(host=host):
                if service.binary == COMPUTE_BINARY and service.host == host:
                    return {'status': service.status,
                            'state': service.state,
                            'disabled_reason': service.disabled_reason}
        except Exception as error:  # noqa: BLE001 - shown as unknown
            LOG.warning('Could not read the services of %s from Nova: %s',
                        host, error)
            return None
        return {}

    def guests_on(self, host):
        """Servers on the node (all projects), sorted by name."""
        if self.compute is None:
            return None
        try:
            servers = list(self.compute.servers(
                details=True, all_projects=True, compute_host=host))
        except Exception as error:  # noqa: BLE001 - shown as unknown
            LOG.warning('Could not list the servers on %s from Nova: %s',
                        host, error)
            return None
        guests = [self._remember(s) for s in servers
                  if s.compute_host == host]
        return sorted(guests, key=lambda g: (g['name'] or '', g['uuid']))

    def guest(self, uuid):
        """``{'uuid', 'name', 'project', 'host', 'status'}`` or None."""
        if uuid in self._servers:
            return self._servers[uuid]
        if self.compute is None or not uuid:
            return None
        try:
            server = self.compute.get_server(uuid)
        except Exception as error:  # noqa: BLE001 - deleted, or no Nova
            LOG.info('Could not read server %s from Nova: %s', uuid, error)
            self._servers[uuid] = None
            return None
        return self._remember(server)

    def migrations(self, uuid):
        """The server's live migrations in flight, with Nova's memory
        counters: ``[{'id', 'total', 'processed', 'remaining'}]``.

        ``GET /servers/<id>/migrations``; the counters need compute
        microversion 2.23, which openstacksdk negotiates. None when Nova
        cannot be read.
        """
        if self.compute is None or not uuid:
            return None
        try:
            found = list(self.compute.server_migrations(uuid))
        except Exception as error:  # noqa: BLE001 - shown as unknown
            LOG.info('Could not read the migrations of server %s from '
                     'Nova: %s', uuid, error)
            return None
        return [{'id': str(m.id), 'total': m.memory_total_bytes or 0,
                 'processed': m.memory_processed_bytes or 0,
                 'remaining': m.memory_remaining_bytes or 0}
                for m in found if m.memory_total_bytes is not None]

    def forget(self):
        self._servers.clear()

    def _remember(self, server):
        guest = {'uuid': server.id, 'name': server.name,
                 'project': server.project_id, 'host': server.compute_host,
                 'status': server.status,
                 'memory_mb': _flavor_ram(server.flavor)}
        self._servers[server.id] = guest
        return guest
