"""Order and pace the moves of a drain plan.

Operators who drain by hand move one guest at a time, in an order they
can predict, and stop at the first failure. The planner adapter turns
these waves into an action graph with that shape.
"""

from __future__ import annotations

from typing import Collection, Mapping, Protocol, Sequence, TypeVar

from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ZERO

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


def largest_first(guests: Sequence[Guest]) -> list[Guest]:
    """The guests by size, largest first: the order placement and the
    move search try them in, since large guests are the hardest to fit."""
    return sorted(guests, key=order_key(LARGEST_FIRST))


class Migration(Protocol):
    """What the ordering needs to know of one planned migration."""

    guest: Guest
    source: str
    destination: str


def waits_for(moves: Sequence[Migration],
              free: Mapping[str, Resources]) -> list[frozenset[int]]:
    """For each move, the earlier moves that must finish before it starts.

    ``moves`` is a run order in which every move fits when the moves run
    one at a time; ``free`` is each host's free capacity before the
    first move. A migration holds room on its destination from the
    moment it starts and gives back room on its source only when it has
    finished, so a move that needs room another move frees must wait
    for that move. The answer assumes the worst of moves that do not
    wait for each other: every earlier arrival on a host has already
    claimed its room, and no departure it does not wait for has ended.
    A guest's later move (after stepping aside) waits for its earlier
    one.
    """
    arrived: dict[str, Resources] = {}
    departures: dict[str, list[int]] = {}
    last_move_of: dict[str, int] = {}
    result = []
    for index, move in enumerate(moves):
        needs = move.guest.needs
        host = move.destination
        claimed = arrived.get(host, ZERO) + needs
        room = free.get(host, ZERO) - claimed
        waits = set()
        for earlier in departures.get(host, ()):
            if ZERO.fits_within(room):
                break
            waits.add(earlier)
            room = room + moves[earlier].guest.needs
        previous = last_move_of.get(move.guest.uuid)
        if previous is not None:
            waits.add(previous)
        arrived[host] = claimed
        departures.setdefault(move.source, []).append(index)
        last_move_of[move.guest.uuid] = index
        result.append(frozenset(waits))
    return result


def waves(items: Sequence[T], parallel: int,
          waits: Sequence[Collection[int]] | None = None) -> list[list[T]]:
    """Split ``items`` into consecutive groups of at most ``parallel``.

    ``waits[i]`` names the earlier items that item ``i`` must wait for;
    such an item starts a new group, since the items of a group run
    together.
    """
    size = max(1, int(parallel))
    groups: list[list[T]] = []
    start = 0
    for index, item in enumerate(items):
        full = groups and len(groups[-1]) >= size
        blocked = groups and waits is not None and any(
            earlier >= start for earlier in waits[index])
        if not groups or full or blocked:
            groups.append([])
            start = index
        groups[-1].append(item)
    return groups


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
