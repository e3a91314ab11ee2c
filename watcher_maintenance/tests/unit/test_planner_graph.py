"""The maintenance planner's action graph, checked exactly."""

import itertools

import pytest

from watcher_maintenance.planning import ordering
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.tests.builders import guest
from watcher_maintenance.watcher import planner

_ids = itertools.count()


class Action:
    def __init__(self, action_type, name):
        self.action_type = action_type
        self.name = name
        self.uuid = '%s-%d' % (name, next(_ids))
        self.parents = []
        self.input_parameters = {}
        if name in ('enable', 'disable'):
            self.input_parameters = {'state': name + 'd'}


def drain_actions(moves=4, enable_spare=False):
    actions = []
    if enable_spare:
        actions.append(Action('change_nova_service_state', 'enable'))
    actions.append(Action('change_nova_service_state', 'disable'))
    actions += [Action('migrate', 'm%d' % i) for i in range(1, moves + 1)]
    return actions


def shape(ordered):
    """Each action with the names of its parents."""
    names = {a.uuid: a.name for a in ordered}
    return [(a.name, sorted(names[p] for p in a.parents)) for a in ordered]


def checkpoints():
    made = []

    def make(duration, wave):
        made.append(duration)
        checkpoint = Action('maintenance_checkpoint', 'cp%d' % len(made))
        checkpoint.wave = [a.name for a in wave]
        return checkpoint
    return make, made


def test_one_at_a_time_is_a_chain_with_checkpoints():
    make, made = checkpoints()
    ordered = planner.chain(drain_actions(3), 1, 0, make)
    assert shape(ordered) == [('disable', []), ('cp1', ['disable']),
                              ('m1', ['cp1']),
                              ('cp2', ['m1']), ('m2', ['cp2']),
                              ('cp3', ['m2']), ('m3', ['cp3'])]
    assert made == [0, 0, 0]


def test_spare_is_enabled_before_the_node_is_disabled():
    actions = drain_actions(1, enable_spare=True)
    # Even if handed over in another order, service changes lead.
    actions = [actions[2], actions[1], actions[0]]
    ordered = planner.chain(actions, 1, 0, checkpoints()[0])
    assert shape(ordered) == [('enable', []), ('disable', ['enable']),
                              ('cp1', ['disable']), ('m1', ['cp1'])]


def test_waves_of_parallel_migrations():
    ordered = planner.chain(drain_actions(5), 2, 0, checkpoints()[0])
    assert shape(ordered) == [
        ('disable', []), ('cp1', ['disable']),
        ('m1', ['cp1']), ('m2', ['cp1']),
        ('cp2', ['m1', 'm2']),
        ('m3', ['cp2']), ('m4', ['cp2']),
        ('cp3', ['m3', 'm4']),
        ('m5', ['cp3'])]


def test_pause_is_waited_at_each_checkpoint():
    make, made = checkpoints()
    ordered = planner.chain(drain_actions(3), 2, 30, make)
    assert shape(ordered) == [
        ('disable', []), ('cp1', ['disable']),
        ('m1', ['cp1']), ('m2', ['cp1']),
        ('cp2', ['m1', 'm2']), ('m3', ['cp2'])]
    # No pause before the first wave, the pause between waves.
    assert made == [0, 30]


def test_migrations_alone_are_each_checked_first():
    moves = [Action('migrate', 'm%d' % i) for i in (1, 2)]
    ordered = planner.chain(moves, 1, 0, checkpoints()[0])
    assert shape(ordered) == [('cp1', []), ('m1', ['cp1']),
                              ('cp2', ['m1']), ('m2', ['cp2'])]


def test_each_checkpoint_checks_the_wave_it_opens():
    ordered = planner.chain(drain_actions(3), 2, 0, checkpoints()[0])
    assert [(a.name, a.wave) for a in ordered if hasattr(a, 'wave')] == [
        ('cp1', ['m1', 'm2']), ('cp2', ['m3'])]


def test_a_drain_ends_with_the_empty_node_check():
    ordered = planner.chain(
        drain_actions(2), 1, 0, checkpoints()[0],
        make_end_checks=lambda: [Action('maintenance_checkpoint', 'empty')])
    assert shape(ordered)[-2:] == [('m2', ['cp2']), ('empty', ['m2'])]


def test_empty_plan_has_no_actions():
    assert planner.chain([], 1, 10, checkpoints()[0]) == []


def sized(*memory_mb):
    """Guests of 1 vCPU and no disk: (name, MiB of RAM) each."""
    return [guest(name, vcpus=1, memory_mb=mb, disk_gb=0)
            for name, mb in memory_mb]


@pytest.mark.parametrize('order,expected', [
    (ordering.LARGEST_FIRST, ['big', 'mid-a', 'mid-b', 'tiny']),
    (ordering.SMALLEST_FIRST, ['tiny', 'mid-a', 'mid-b', 'big']),
    (ordering.BY_NAME, ['big', 'mid-a', 'mid-b', 'tiny']),
])
def test_orders(order, expected):
    guests = sized(('mid-b', 2048), ('tiny', 512), ('big', 8192),
                   ('mid-a', 2048))
    assert [g.name for g in sorted(guests, key=ordering.order_key(order))] \
        == expected


def test_name_order_differs_from_size_order():
    guests = sized(('a-small', 512), ('z-big', 8192))
    assert [g.name for g in sorted(
        guests, key=ordering.order_key(ordering.BY_NAME))] == ['a-small',
                                                               'z-big']
    assert [g.name for g in sorted(
        guests, key=ordering.order_key(ordering.LARGEST_FIRST))] == [
        'z-big', 'a-small']


def test_estimate_sums_the_largest_guest_of_each_wave():
    guests = sized(('a', 8192), ('b', 4096), ('c', 1024))
    # 10 Gbit/s: 8192 MiB is 68.7 Gbit -> 6.9 s; waves of two:
    # (8192, 4096) -> 6.87 s, (1024) -> 0.86 s, plus one 5 s pause.
    assert ordering.estimated_seconds(guests, 2, 10000, 5) == pytest.approx(
        6.87 + 0.86 + 5, abs=0.1)
    assert ordering.estimated_seconds(guests, 1, 10000) == pytest.approx(
        6.87 + 3.44 + 0.86, abs=0.1)
    assert ordering.estimated_seconds([], 1, 10000) == 0


class Step:
    """A planned migration as the ordering sees it."""

    def __init__(self, name, source, destination, vcpus):
        self.guest = guest(name, vcpus=vcpus, memory_mb=1024, disk_gb=0)
        self.source = source
        self.destination = destination


def swap_through_a_third_host():
    # c1 and c2 are full (4 of 4 vCPU each); a and b trade places, a
    # stepping aside on c3 first. Run one at a time, each move fits.
    steps = [Step('a', 'c1', 'c3', 2), Step('b', 'c2', 'c1', 2),
             Step('a', 'c3', 'c2', 2)]
    free = {'c1': Resources(0, 0, 0), 'c2': Resources(0, 0, 0),
            'c3': Resources(4, 4096, 0)}
    return steps, free


def test_a_move_into_room_another_frees_waits_for_it():
    steps, free = swap_through_a_third_host()
    # b needs a gone from c1; a's last move needs its own step aside
    # done and b gone from c2.
    assert ordering.waits_for(steps, free) == [
        frozenset(), frozenset({0}), frozenset({0, 1})]


def test_moves_into_free_room_wait_for_nothing():
    steps = [Step('a', 'c1', 'c3', 2), Step('b', 'c2', 'c3', 2)]
    free = {'c1': Resources(0, 0, 0), 'c2': Resources(0, 0, 0),
            'c3': Resources(4, 4096, 0)}
    assert ordering.waits_for(steps, free) == [frozenset(), frozenset()]


def test_earlier_arrivals_are_counted_as_claimed():
    # c3 has room for one; the second arrival there needs x to leave c3,
    # even though run one at a time a and b would not collide.
    steps = [Step('a', 'c1', 'c3', 2), Step('x', 'c3', 'c4', 2),
             Step('b', 'c2', 'c3', 2)]
    free = {'c1': Resources(0, 0, 0), 'c2': Resources(0, 0, 0),
            'c3': Resources(2, 4096, 0), 'c4': Resources(8, 8192, 0)}
    assert ordering.waits_for(steps, free) == [
        frozenset(), frozenset(), frozenset({1})]


def test_dependent_moves_never_share_a_wave():
    steps, free = swap_through_a_third_host()
    moves = [Action('migrate', s.guest.name + '-' + s.destination)
             for s in steps]
    ordered = planner.chain(moves, 4, 0, checkpoints()[0],
                            ordering.waits_for(steps, free))
    assert shape(ordered) == [
        ('cp1', []), ('a-c3', ['cp1']), ('cp2', ['a-c3']),
        ('b-c1', ['cp2']), ('cp3', ['b-c1']), ('a-c2', ['cp3'])]


def test_independent_moves_still_run_together():
    moves = [Action('migrate', 'm%d' % i) for i in (1, 2, 3)]
    waits = [frozenset(), frozenset(), frozenset({1})]
    ordered = planner.chain(moves, 4, 0, checkpoints()[0], waits)
    assert shape(ordered) == [
        ('cp1', []), ('m1', ['cp1']), ('m2', ['cp1']),
        ('cp2', ['m1', 'm2']), ('m3', ['cp2'])]
