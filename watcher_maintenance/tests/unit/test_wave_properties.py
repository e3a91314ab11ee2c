"""Property: waves built from the moves' dependencies never overbook.

Random hosts and a random run order of moves that fits when the moves run
one at a time; the waves the planner builds (any ``parallel``) are then
run as the applier runs them: every migration of a wave claims room on
its destination when the wave starts, and frees room on its source only
when the wave has ended.
"""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from watcher_maintenance.planning import ordering
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ZERO
from watcher_maintenance.tests import builders


class Step:
    def __init__(self, guest, source, destination):
        self.guest, self.source, self.destination = guest, source, destination


@st.composite
def sequential_moves(draw):
    hosts = ['h%d' % i for i in range(draw(st.integers(2, 4)))]
    capacity = {h: Resources(draw(st.integers(2, 8)), 0, 0) for h in hosts}
    where, used, guests = {}, {h: ZERO for h in hosts}, {}
    for i in range(draw(st.integers(1, 6))):
        host = draw(st.sampled_from(hosts))
        needs = Resources(draw(st.integers(1, 3)), 0, 0)
        if not (used[host] + needs).fits_within(capacity[host]):
            continue
        guest = builders.guest('g%d' % i, vcpus=needs.vcpus, memory_mb=0,
                               disk_gb=0)
        guests[guest.uuid], where[guest.uuid] = guest, host
        used[host] = used[host] + needs
    free = {h: capacity[h] - used[h] for h in hosts}
    moves, room = [], dict(free)
    for _ in range(draw(st.integers(0, 8))):
        if not guests:
            break
        uuid = draw(st.sampled_from(sorted(guests)))
        destination = draw(st.sampled_from(hosts))
        guest = guests[uuid]
        if destination == where[uuid] or \
                not guest.needs.fits_within(room[destination]):
            continue
        room[destination] = room[destination] - guest.needs
        room[where[uuid]] = room[where[uuid]] + guest.needs
        moves.append(Step(guest, where[uuid], destination))
        where[uuid] = destination
    return moves, free


@settings(max_examples=1000, deadline=None)
@given(sequential_moves(), st.integers(1, 4))
def test_waves_respecting_dependencies_never_overbook(case, parallel):
    moves, free = case
    waits = ordering.waits_for(moves, free)
    room = dict(free)
    for wave in ordering.waves(list(range(len(moves))), parallel, waits):
        for index in wave:
            move = moves[index]
            room[move.destination] = room[move.destination] - \
                move.guest.needs
            assert ZERO.fits_within(room[move.destination]), (
                'wave %s overbooks %s' % (wave, move.destination))
        for index in wave:
            move = moves[index]
            room[move.source] = room[move.source] + move.guest.needs
