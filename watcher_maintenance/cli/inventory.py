"""Watcher's compute data model, in the planning core's terms.

The campaign pre-check reads the cluster the way the audits it will
create read it: Watcher's own compute model, through its data-model API
(``openstack optimize datamodel list``). Each row is a compute node,
with one of its servers when it has any.
"""

from __future__ import annotations

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ZERO


def from_data_model(rows):
    """(hosts, {node: guests}) from the data-model API's rows."""
    nodes, guests = {}, {}
    for row in rows:
        name = row.get('node_hostname')
        if not name:
            continue
        nodes.setdefault(name, row)
        guests.setdefault(name, [])
        if row.get('server_uuid'):
            disk = row.get('server_disk') or 0
            guests[name].append(Guest(
                uuid=row['server_uuid'], name=row.get('server_name') or '',
                state=row.get('server_state') or '',
                needs=Resources(row.get('server_vcpus') or 0,
                                row.get('server_memory') or 0, disk),
                local_disk=disk > 0,
                pinned_zone=row.get('server_pinned_az') or None,
                excluded=bool(row.get('server_watcher_exclude')),
                project_id=row.get('server_project_id'), host=name))
    hosts = []
    for name, row in sorted(nodes.items()):
        used = ZERO
        for guest in guests[name]:
            used = used + guest.needs
        hosts.append(Host(
            name, _capacity(row), used,
            enabled=row.get('node_status') == 'enabled',
            up=row.get('node_state') == 'up',
            disabled_reason=row.get('node_disabled_reason'),
            guest_count=len(guests[name])))
    return hosts, guests


def _capacity(row):
    # As Placement counts it: (total - reserved) * allocation ratio.
    def usable(total, reserved, ratio):
        return ((row.get(total) or 0) - (row.get(reserved) or 0)) * (
            row.get(ratio) or 1.0)
    return Resources(
        usable('node_vcpus', 'node_vcpu_reserved', 'node_vcpu_ratio'),
        usable('node_memory', 'node_memory_mb_reserved',
               'node_memory_ratio'),
        usable('node_disk', 'node_disk_gb_reserved', 'node_disk_ratio'))
