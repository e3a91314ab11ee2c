"""Rows of the host table: Nova's services and guests with Watcher's
latest maintenance audit and plan of each node. No I/O."""

from __future__ import annotations

import dataclasses

from watcher_maintenance.names import MAINTAINING_REASON

IN_MAINTENANCE = 'In maintenance'


def service_text(status, reason):
    """How the panel shows a nova-compute service's status."""
    if status != 'disabled':
        return 'Enabled'
    if reason == MAINTAINING_REASON:
        return IN_MAINTENANCE
    return 'Disabled (%s)' % reason if reason else 'Disabled'


@dataclasses.dataclass
class Host:
    host: str
    zone: str
    status: str
    state: str
    disabled_reason: str | None
    guests: int
    audit: dict | None = None
    plan: dict | None = None

    @property
    def id(self):
        return self.host

    @property
    def service(self):
        return service_text(self.status, self.disabled_reason)

    @property
    def in_maintenance(self):
        return self.service == IN_MAINTENANCE


def host_rows(services, guests_on, audits, plans):
    """One ``Host`` per nova-compute service.

    :param guests_on: ``host -> [guest]``.
    :param audits: ``{host: newest maintenance audit}``.
    :param plans: ``{audit uuid: its newest plan}``.
    """
    rows = []
    for service in services:
        audit = audits.get(service.host)
        rows.append(Host(
            host=service.host,
            zone=getattr(service, 'availability_zone', None)
            or getattr(service, 'zone', None) or '-',
            status=service.status, state=service.state,
            disabled_reason=service.disabled_reason,
            guests=len(guests_on(service.host)),
            audit=audit,
            plan=plans.get(audit['uuid']) if audit else None))
    return rows
