"""Order and pace the moves of a drain plan.

Operators who drain by hand move one guest at a time, in an order they
can predict, and stop at the first failure. The planner adapter turns
these waves into an action graph with that shape.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

from watcher_maintenance.planning.inventory import Guest

LARGEST_FIRST = 'largest_first'
SMALLEST_FIRST = 'smallest_first'
BY_NAME = 'name'
ORDERS = (LARGEST_FIRST, SMALLEST_FIRST, BY_NAME)

# One MiB of guest memory is 8 * 1.048576 megabits on the wire.
MEGABITS_PER_MIB = 8.388608

T = TypeVar('T')


def order_key(order: str):
    """A sort key over guests for ``order``; ties go to name, then UUID."""
    if order == LARGEST_FIRST:
        return lambda g: (-g.needs.memory_mb, -g.needs.vcpus,
                          -g.needs.disk_gb, g.label, g.uuid)
    if order == SMALLEST_FIRST:
        return lambda g: (g.needs.memory_mb, g.needs.vcpus, g.needs.disk_gb,
                          g.label, g.uuid)
    if order == BY_NAME:
        return lambda g: (g.label, g.uuid)
    raise ValueError('order must be one of %s, not %r'
                     % (', '.join(ORDERS), order))


def waves(items: Sequence[T], parallel: int) -> list[list[T]]:
    """Split ``items`` into consecutive groups of at most ``parallel``."""
    size = max(1, int(parallel))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def estimated_seconds(guests: Sequence[Guest], parallel: int,
                      bandwidth_mbps: float, pause: float = 0) -> float:
    """Rough drain time: per wave, the largest guest memory over the link.

    Real migrations also copy dirtied pages and local disks, so this is a
    lower-bound style estimate, plus the configured pauses.
    """
    if not guests:
        return 0.0
    groups = waves(list(guests), parallel)
    transfer = sum(max(g.needs.memory_mb for g in group) * MEGABITS_PER_MIB
                   / bandwidth_mbps for group in groups)
    return round(transfer + pause * (len(groups) - 1), 1)
