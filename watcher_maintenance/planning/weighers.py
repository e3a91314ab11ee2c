"""How to choose among hosts that pass every constraint.

Feasibility is the constraints' business; a weigher only ranks. Scores
are the mean free share over vCPU, RAM and disk *after* the guest lands,
like Nova's RAM/CPU/disk weighers normalised and added up.
"""

from __future__ import annotations

from typing import Callable, Collection, Protocol, Sequence

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources

SPREAD = 'spread'
PACK = 'pack'
PLACEMENTS = (SPREAD, PACK)

# Room for rounding when a bound is compared with a score: scores are
# shares of capacity, so this is far below any real difference.
BOUND_MARGIN = 1e-9


def free_share(host: Host, free: Resources) -> float:
    """Mean over vCPU, RAM and disk of free / capacity."""
    shares = []
    for left, total in ((free.vcpus, host.capacity.vcpus),
                        (free.memory_mb, host.capacity.memory_mb),
                        (free.disk_gb, host.capacity.disk_gb)):
        shares.append(left / total if total > 0 else 0.0)
    return sum(shares) / len(shares)


def free_share_after(host: Host, guest: Guest, free: Resources) -> float:
    return free_share(host, free - guest.needs)


class Ranking(Protocol):
    """How a placer ranks hosts for a guest, and how it may skip some.

    ``ranking(host, guest, free)`` is a sort key: the best host has the
    smallest. For every host not in ``unbounded_hosts(guest)``, the
    key's element at ``bounded_position`` is at least
    ``order(host, free) - slack(guest)`` (with ``slack =
    slack_for(hosts)``), and the elements before it are the same for
    all such hosts. A placer that scans those hosts by ascending
    ``order`` can then stop once that bound exceeds the best key found,
    compare the few unbounded hosts in full, and still choose exactly
    the host a comparison of every host would.
    """

    bounded_position: int

    def __call__(self, host: Host, guest: Guest, free: Resources) -> tuple:
        """The sort key of ``host`` for ``guest``."""

    def order(self, host: Host, free: Resources) -> float:
        """The host's place in the scan, independent of the guest."""

    def slack_for(self, hosts: Sequence[Host]) -> Callable[[Guest], float]:
        """How far below ``order`` a bounded key can go, per guest."""

    def unbounded_hosts(self, guest: Guest) -> Collection[str]:
        """Hosts whose key for ``guest`` the bound does not cover."""


class FreeShareRanking:
    """Ranks by the free share a host keeps once the guest lands: the
    most for spreading, the least for packing. Ties go to the host name
    so plans are deterministic. A ``Ranking`` with every host bounded.
    """

    bounded_position = 0

    def __init__(self, placement: str):
        if placement not in PLACEMENTS:
            raise ValueError('placement must be one of %s, not %r'
                             % (', '.join(PLACEMENTS), placement))
        self.placement = placement
        self._sign = -1.0 if placement == SPREAD else 1.0

    def __call__(self, host: Host, guest: Guest, free: Resources) -> tuple:
        return (self._sign * free_share_after(host, guest, free), host.name)

    def order(self, host: Host, free: Resources) -> float:
        return self._sign * free_share(host, free)

    def unbounded_hosts(self, guest: Guest) -> Collection[str]:
        return ()

    def slack_for(self, hosts):
        """A function of a guest: how far below ``order`` a host's score
        for that guest can go, for any of ``hosts``.

        Placing a guest lowers a host's free share by the guest's share of
        that host's capacity, summed over the dimensions with a capacity
        and divided by three. Over ``hosts`` that drop is at least the
        guest's share of the largest capacities (none where some host has
        no capacity in a dimension) and at most its share of the smallest.
        Spreading scores minus the share left, so its score is at least
        ``order`` plus the least drop; packing scores the share left, at
        least ``order`` minus the greatest drop.
        """
        least, most = [], []
        for dim in ('vcpus', 'memory_mb', 'disk_gb'):
            sizes = [getattr(h.capacity, dim) for h in hosts]
            positive = [size for size in sizes if size > 0]
            least.append(max(positive) if positive and len(positive) ==
                         len(sizes) else None)
            most.append(min(positive) if positive else None)
        spread = self.placement == SPREAD

        def slack(guest):
            needs = (guest.needs.vcpus, guest.needs.memory_mb,
                     guest.needs.disk_gb)
            if min(needs) < 0:
                return float('inf')    # no bound: compare every host
            if spread:
                drop = sum(need / size for need, size in zip(needs, least)
                           if size)
                return BOUND_MARGIN - drop / 3
            drop = sum(need / size for need, size in zip(needs, most)
                       if size)
            return drop / 3 + BOUND_MARGIN
        return slack


def ranking_key(placement: str) -> Ranking:
    """The ranking for an audit's ``placement``: best host first."""
    return FreeShareRanking(placement)
