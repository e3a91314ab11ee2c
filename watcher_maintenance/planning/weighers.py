"""How to choose among hosts that pass every constraint.

Feasibility is the constraints' business; a weigher only ranks. Scores
are the mean free share over vCPU, RAM and disk *after* the guest lands,
like Nova's RAM/CPU/disk weighers normalised and added up.
"""

from __future__ import annotations

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources

SPREAD = 'spread'
PACK = 'pack'
PLACEMENTS = (SPREAD, PACK)


def free_share_after(host: Host, guest: Guest, free: Resources) -> float:
    after = free - guest.needs
    shares = []
    for left, total in ((after.vcpus, host.capacity.vcpus),
                        (after.memory_mb, host.capacity.memory_mb),
                        (after.disk_gb, host.capacity.disk_gb)):
        shares.append(left / total if total > 0 else 0.0)
    return sum(shares) / len(shares)


def ranking_key(placement: str):
    """A sort key over ``(host, guest, free)``: best host first.

    Ties go to the host name so plans are deterministic.
    """
    if placement == SPREAD:
        return lambda host, guest, free: (
            -free_share_after(host, guest, free), host.name)
    if placement == PACK:
        return lambda host, guest, free: (
            free_share_after(host, guest, free), host.name)
    raise ValueError('placement must be one of %s, not %r'
                     % (', '.join(PLACEMENTS), placement))
