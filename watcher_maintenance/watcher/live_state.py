"""The cloud as Nova and Placement report it now, in the planner's terms.

Watcher's cluster model is a cache that can lag Nova. The checkpoint
action, just before a wave of migrations, and the drain audit, for the
node's guests, read the facts they stake a migration on from Nova and
Placement directly, through Watcher's own helpers (openstacksdk).
"""

from __future__ import annotations

import math

from watcher.common import exception
from watcher.common import nova_helper
from watcher.common import placement_helper

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.recheck import LiveServer
from watcher_maintenance.watcher import model_adapter

_MIB_PER_GIB = 1024
# Placement resource classes, in the order of ``Resources``.
_CLASSES = ('VCPU', 'MEMORY_MB', 'DISK_GB')


class LiveCloud:
    """Reads servers, hosts and server groups from Nova and Placement."""

    def __init__(self):
        # Watcher's service credentials, as Watcher's own strategies and
        # actions use: a request context carries the user's keystone
        # token, if any, which a decision engine cannot rely on (an
        # audit outlives it; without keystone there is none).
        self.nova = nova_helper.NovaHelper()
        self._placement = None
        self._servers = {}

    @property
    def placement(self):
        if self._placement is None:
            self._placement = placement_helper.PlacementHelper()
        return self._placement

    def server(self, uuid) -> LiveServer | None:
        """The server now, or None if Nova no longer has it."""
        if uuid not in self._servers:
            try:
                record = self.nova.find_instance(uuid)
            except exception.ComputeResourceNotFound:
                record = None
            except Exception as error:
                # openstacksdk raises its own NotFound through the helper.
                if 'NotFound' not in type(error).__name__:
                    raise
                record = None
            self._servers[uuid] = (None if record is None
                                   else live_server(record))
        return self._servers[uuid]

    def host(self, name) -> Host | None:
        """A compute host with its service state and Placement usage."""
        try:
            node = self.nova.get_compute_node_by_hostname(name)
        except exception.ComputeNodeNotFound:
            return None
        inventories = self.placement.get_inventories(node.uuid) or {}
        usages = self.placement.connection.placement \
            .fetch_resource_provider_usages(node.uuid).usages or {}
        capacity, used = [], []
        for resource_class in _CLASSES:
            inventory = inventories.get(resource_class)
            capacity.append(0 if inventory is None else
                            (inventory.total - inventory.reserved)
                            * inventory.allocation_ratio)
            used.append(usages.get(resource_class, 0))
        return Host(name, Resources(*capacity), Resources(*used),
                    enabled=node.status == 'enabled',
                    up=node.state == 'up',
                    disabled_reason=node.service_disabled_reason)

    def server_groups(self, guests):
        """The server groups of ``guests``, members where Nova has them."""
        records = list(self.nova.connection.compute.server_groups(
            all_projects=True))

        def locate(uuid):
            server = self.server(uuid)
            if server is None:
                return None, None
            return server.host, server.guest.name
        return model_adapter.server_groups_located(records, guests, locate)

    def guests_on(self, host) -> list[Guest]:
        """Every server Nova has on ``host`` now (one listing, all
        projects), in the planner's terms."""
        return [live_server(server).guest for server in
                self.nova.get_instance_list(filters={'host': host})]


def live_server(server) -> LiveServer:
    """A Watcher ``nova_helper.Server`` in the checks' terms.

    What a server claims on its host follows Nova's flavor rules: root
    disk (none when it boots from volume), ephemeral and swap.
    """
    flavor = server.flavor
    disk = (0 if server.is_boot_from_volume else _flavor(flavor, 'disk')) \
        + _flavor(flavor, 'ephemeral') \
        + math.ceil(_flavor(flavor, 'swap') / _MIB_PER_GIB)
    guest = Guest(
        uuid=server.uuid, name=server.name, state=server.vm_state or '',
        needs=Resources(_flavor(flavor, 'vcpus'), _flavor(flavor, 'ram'),
                        disk),
        local_disk=not server.is_boot_from_volume and disk > 0,
        pinned_zone=server.pinned_availability_zone or None,
        project_id=server.tenant_id, host=server.host)
    return LiveServer(guest, server.host, server.status)


def _flavor(flavor, key):
    value = (flavor.get(key) if isinstance(flavor, dict)
             else getattr(flavor, key, None))
    return value or 0
