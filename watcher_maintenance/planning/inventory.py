"""Plain descriptions of hosts and guests, as the planner sees them.

Everything here is frozen data: the Watcher adapter builds it from the
cluster data model, tests and benchmarks build it by hand.
"""

from __future__ import annotations

import dataclasses
import enum

from watcher_maintenance.planning import wording


@dataclasses.dataclass(frozen=True, order=True)
class Resources:
    """An amount of vCPU, RAM (MiB) and disk (GiB)."""

    vcpus: float = 0
    memory_mb: float = 0
    disk_gb: float = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.vcpus + other.vcpus,
                         self.memory_mb + other.memory_mb,
                         self.disk_gb + other.disk_gb)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.vcpus - other.vcpus,
                         self.memory_mb - other.memory_mb,
                         self.disk_gb - other.disk_gb)

    def fits_within(self, free: Resources) -> bool:
        """True when this demand fits into ``free`` in every dimension."""
        return (self.vcpus <= free.vcpus
                and self.memory_mb <= free.memory_mb
                and self.disk_gb <= free.disk_gb)

    def shortfalls(self, free: Resources) -> list[str]:
        """Names of the dimensions in which this demand exceeds ``free``."""
        return [label for label, need, have in self._dimensions(free)
                if need > have]

    def _dimensions(self, other: Resources):
        yield 'vCPU', self.vcpus, other.vcpus
        yield 'RAM', self.memory_mb, other.memory_mb
        yield 'disk', self.disk_gb, other.disk_gb

    def describe(self) -> str:
        return '%s vCPU, %s MiB RAM, %s GiB disk' % (
            wording.number(self.vcpus), wording.number(self.memory_mb),
            wording.number(self.disk_gb))


ZERO = Resources()


def total_needs(guests) -> Resources:
    """What ``guests`` need together."""
    total = ZERO
    for guest in guests:
        total = total + guest.needs
    return total


class GuestState(str, enum.Enum):
    """The guest states the planner distinguishes (Watcher's names)."""

    ACTIVE = 'active'
    STOPPED = 'stopped'

    @classmethod
    def is_running(cls, state: str) -> bool:
        return state == cls.ACTIVE.value

    @classmethod
    def is_stopped(cls, state: str) -> bool:
        return state == cls.STOPPED.value


@dataclasses.dataclass(frozen=True)
class Host:
    """A compute host and what it can still take.

    ``capacity`` is already ``(total - reserved) * allocation ratio`` per
    dimension, as Nova's placement computes it.
    """

    name: str
    capacity: Resources
    used: Resources = ZERO
    enabled: bool = True
    up: bool = True
    disabled_reason: str | None = None
    zone: str | None = None
    in_scope: bool = True
    guest_count: int = 0

    @property
    def free(self) -> Resources:
        return self.capacity - self.used

    @property
    def schedulable(self) -> bool:
        return self.enabled and self.up


@dataclasses.dataclass(frozen=True)
class Guest:
    """A guest (server) on the node being drained."""

    uuid: str
    name: str
    state: str
    needs: Resources
    # Watcher's model reports disk 0 for boot-from-volume servers, so a
    # positive disk means the root disk lives on the hypervisor.
    local_disk: bool = False
    pinned_zone: str | None = None
    excluded: bool = False
    project_id: str | None = None
    # The node it runs on, where a drain covers several.
    host: str | None = None
    # The tenant's maintenance_policy (``planning.policy``): live, cold,
    # stop or skip; anything else is refused when planning.
    policy: str = 'live'

    @property
    def label(self) -> str:
        return self.name or self.uuid


AFFINITY = 'affinity'
ANTI_AFFINITY = 'anti-affinity'
SOFT_AFFINITY = 'soft-affinity'
SOFT_ANTI_AFFINITY = 'soft-anti-affinity'
HARD_POLICIES = (AFFINITY, ANTI_AFFINITY)


@dataclasses.dataclass(frozen=True)
class Member:
    """One server of a server group and the host it runs on.

    ``host`` is None when the cluster model does not know the server
    (another cell, or outside the audit's model).
    """

    uuid: str
    host: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.uuid


@dataclasses.dataclass(frozen=True)
class ServerGroup:
    """A Nova server group: its policy and where its members run.

    Nova checks ``affinity`` and ``anti-affinity`` on every migration;
    the ``soft-`` policies only weigh hosts. ``max_server_per_host`` is
    the anti-affinity rule of microversion 2.64 (1 when not set).
    """

    uuid: str
    name: str
    policy: str
    members: tuple[Member, ...] = ()
    max_server_per_host: int = 1

    @property
    def label(self) -> str:
        return self.name or self.uuid

    @property
    def hard(self) -> bool:
        return self.policy in HARD_POLICIES

    def describe(self) -> str:
        """``db (anti-affinity)``, with the per-host limit when it is set."""
        if self.policy == ANTI_AFFINITY and self.max_server_per_host != 1:
            return '%s (anti-affinity, at most %d per host)' % (
                self.label, self.max_server_per_host)
        return '%s (%s)' % (self.label, self.policy)
