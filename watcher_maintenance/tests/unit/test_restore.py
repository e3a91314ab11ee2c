"""Unit tests of the planning core for leaving maintenance."""

import itertools

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from watcher_maintenance.planning import restore
from watcher_maintenance.planning import targets
from watcher_maintenance.planning.host_map import parse as parse_host_map
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.options import RestoreOptions
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.tests.builders import MAINTAINING
from watcher_maintenance.tests.builders import Cloud

# Hosts of 8 vCPU, 8 GiB RAM and 100 GiB disk; guests of 10 GiB disk.
SIZES = dict(host=dict(vcpus=8, memory_mb=8192, disk_gb=100),
             guest=dict(disk_gb=10))


def placed(cloud):
    return targets.GuestList(targets.Placed(g, g.host)
                             for g in cloud.guests())


def restore_plan(node, cloud, **kwargs):
    return restore.plan_restore(node, cloud.host_list(), placed(cloud),
                                **kwargs)


def simulate(cloud, plan):
    """Run the plan's moves on a copy of the cloud, checking each fits."""
    hosts = {h.name: h for h in (cloud.host_list().host(n)
                                 for n in cloud.host_list().names())}
    free = {n: h.free for n, h in hosts.items()}
    where = {g.uuid: g.host for g in cloud.guests()}
    enabled = {n: h.enabled for n, h in hosts.items()}
    for change in plan.service_changes:
        enabled[change.host] = change.enable
    for move in plan.moves:
        assert where[move.guest.uuid] == move.source, move
        assert enabled[move.destination], (
            '%s moves onto disabled %s' % (move.guest.label,
                                           move.destination))
        free[move.destination] = free[move.destination] - move.guest.needs
        assert Resources().fits_within(free[move.destination]), (
            '%s overfills %s' % (move.guest.label, move.destination))
        free[move.source] = free[move.source] + move.guest.needs
        where[move.guest.uuid] = move.destination
    return where


# -- enabling the node ------------------------------------------------------


def test_node_disabled_by_the_drain_is_enabled():
    cloud = Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2')
    plan = restore_plan('c1', cloud)
    assert [(c.host, c.enable) for c in plan.service_changes] == \
        [('c1', True)]
    assert plan.moves == ()
    assert 'enable c1' in plan.summary()


def test_node_disabled_for_another_reason_is_refused():
    cloud = Cloud(**SIZES).hosts('c1', status='disabled',
                                 disabled_reason='bad DIMM')
    with pytest.raises(PlanningRefused) as refused:
        restore_plan('c1', cloud)
    message = str(refused.value)
    assert '"bad DIMM"' in message
    assert 'force=true' in message


def test_force_enables_a_node_disabled_for_another_reason():
    cloud = Cloud(**SIZES).hosts('c1', status='disabled',
                                 disabled_reason='bad DIMM')
    plan = restore_plan('c1', cloud,
                        options=RestoreOptions(force=True))
    assert [(c.host, c.enable) for c in plan.service_changes] == \
        [('c1', True)]
    assert 'force=true' in plan.summary()


@pytest.mark.parametrize('force', [False, True])
def test_down_node_is_refused_even_with_force(force):
    cloud = Cloud(**SIZES).hosts('c1', state='down', **MAINTAINING)
    with pytest.raises(PlanningRefused, match='c1 is down'):
        restore_plan('c1', cloud,
                     options=RestoreOptions(force=force))


def test_unknown_node_is_refused():
    cloud = Cloud(**SIZES).hosts('c1')
    with pytest.raises(PlanningRefused, match='c9 is not a compute host'):
        restore_plan('c9', cloud)


def test_enabled_node_needs_no_service_change():
    cloud = Cloud(**SIZES).hosts('c1')
    plan = restore_plan('c1', cloud)
    assert plan.service_changes == ()
    assert 'already enabled' in plan.summary()


# -- return_guests=drained --------------------------------------------------


def drain_record(*moved, state='SUCCEEDED'):
    return targets.DrainRecord('ap-1', state, tuple(
        targets.DrainedGuest('uuid-' + name, name, dest)
        for name, dest in moved))


def test_drained_guests_go_home_and_the_others_are_reported():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2', 'c3')
             .guests_on('c1', 'd')
             .guests_on('c2', 'a').guests_on('c2', 'b', state='stopped')
             .guests_on('c3', 'c'))
    record = drain_record(('a', 'c2'), ('b', 'c2'), ('c', 'c2'),
                          ('d', 'c3'), ('gone', 'c2'))
    plan = restore_plan('c1', cloud,
                        drained=record)
    moves = {m.guest.name: m for m in plan.moves}
    assert set(moves) == {'a', 'b'}
    assert moves['a'].outcome is Outcome.LIVE
    assert moves['b'].outcome is Outcome.COLD
    assert all(m.destination == 'c1' for m in plan.moves)
    assert 'back to c1' in moves['a'].reason
    (left,) = plan.with_outcome(Outcome.LEFT)
    assert left.guest.name == 'c'
    assert 'now on c3' in left.reason
    assert [g.name for g in plan.in_place] == ['d']
    assert plan.missing == ('gone',)
    summary = plan.summary()
    assert 'left: c (moved since the drain: now on c3, not c2' in summary
    assert 'deleted since the drain: gone' in summary
    assert simulate(cloud, plan)['uuid-a'] == 'c1'


def test_partial_drain_is_noted():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2')
             .guests_on('c2', 'a'))
    plan = restore_plan('c1', cloud,
                        drained=drain_record(('a', 'c2'), state='FAILED'))
    assert [m.guest.name for m in plan.moves] == ['a']
    assert 'ended FAILED' in plan.summary()


def test_guest_that_no_longer_fits_home_is_refused():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING)
             .hosts('c2', vcpus=16, memory_mb=16384, disk_gb=200)
             .guests_on('c1', 'b', vcpus=4).guests_on('c2', 'a', vcpus=6))
    with pytest.raises(PlanningRefused) as refused:
        restore_plan('c1', cloud,
                     drained=drain_record(('a', 'c2')))
    message = str(refused.value)
    assert 'c1 would be over capacity in vCPU' in message
    assert 'arriving a need 6 vCPU' in message
    assert '4 vCPU' in message


def test_unmovable_guest_refused_unless_skipped():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2')
             .guests_on('c2', 'a', state='paused'))
    with pytest.raises(PlanningRefused, match='a \\(state paused'):
        restore_plan('c1', cloud,
                     drained=drain_record(('a', 'c2')))
    plan = restore_plan('c1', cloud, drained=drain_record(('a', 'c2')),
                        options=RestoreOptions(skip_unmovable=True))
    assert plan.moves == ()
    assert 'skip_unmovable' in plan.with_outcome(Outcome.LEFT)[0].reason


def test_local_disk_rule_is_the_drains():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2')
             .guests_on('c2', 'a', disk_gb=20))
    plan = restore_plan(
        'c1', cloud, drained=drain_record(('a', 'c2')),
        options=RestoreOptions(live_migrate_local_disk=False))
    assert plan.moves[0].outcome is Outcome.COLD
    assert 'local root disk' in plan.moves[0].reason


# -- host maps --------------------------------------------------------------


def test_host_map_by_name_and_uuid():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2', 'c3')
             .guests_on('c1', 'a').guests_on('c2', 'b', 'c'))
    plan = restore_plan('c1', cloud,
                        host_map={'c3': ['a', 'uuid-b'], 'c2': ['c']})
    assert {(m.guest.name, m.source, m.destination) for m in plan.moves} == \
        {('a', 'c1', 'c3'), ('b', 'c2', 'c3')}
    assert [g.name for g in plan.in_place] == ['c']
    assert 'the host map puts it on c3' in plan.moves[0].reason


@pytest.mark.parametrize('host_map, expected', [
    ({'c2': ['nope']}, 'guest nope does not exist'),
    ({'c9': ['a']}, 'host c9 is not a compute host'),
    ({'c2': ['twin']}, '2 guests are named twin'),
    ({'c2': ['a'], 'c3': ['a']}, 'a is listed under both c2 and c3'),
    ({'c4': ['a']}, 'a cannot go to c4: c4 is disabled (reserved)'),
])
def test_bad_host_map_is_refused_before_anything_moves(host_map, expected):
    twin = dict(vcpus=1, memory_mb=512, disk_gb=1, local_disk=False)
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2', 'c3')
             .hosts('c4', status='disabled', disabled_reason='reserved')
             .guests_on('c1', 'a')
             .guests_on('c1', 'twin', uuid='t1', **twin)
             .guests_on('c1', 'twin', uuid='t2', **twin))
    with pytest.raises(PlanningRefused) as refused:
        restore_plan('c1', cloud,
                     host_map=host_map)
    assert expected in str(refused.value)
    assert str(refused.value).startswith('The host map cannot be used')


def test_host_map_may_not_contradict_the_drain():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2', 'c3')
             .guests_on('c2', 'a'))
    with pytest.raises(PlanningRefused, match='should go back to c1'):
        restore_plan('c1', cloud,
                     drained=drain_record(('a', 'c2')),
                     host_map={'c3': ['a']})


def test_map_onto_the_node_in_maintenance_runs_after_enabling_it():
    cloud = (Cloud(**SIZES).hosts('c1', **MAINTAINING).hosts('c2')
             .guests_on('c2', 'a'))
    plan = restore_plan('c1', cloud,
                        host_map={'c1': ['a']})
    assert simulate(cloud, plan)['uuid-a'] == 'c1'


def test_host_map_capacity_conflict_names_host_and_guests():
    cloud = (Cloud(**SIZES).hosts('c1', 'c2')
             .guests_on('c1', 'a', 'b', memory_mb=4096)
             .guests_on('c2', 'c', memory_mb=4096))
    with pytest.raises(PlanningRefused) as refused:
        restore_plan('c1', cloud,
                     host_map={'c1': ['a', 'b', 'c']})
    message = str(refused.value)
    assert 'c1 would be over capacity in RAM' in message
    assert 'arriving c need' in message
    assert 'Nothing was planned' in message


def test_swap_on_full_hosts_steps_aside_through_a_third_host():
    cloud = (Cloud(**SIZES).hosts('c1', 'c2', 'c3')
             .guests_on('c1', 'a', vcpus=8).guests_on('c2', 'b', vcpus=8))
    plan = restore_plan('c1', cloud,
                        host_map={'c1': ['b'], 'c2': ['a']})
    assert len(plan.moves) == 3
    staged = [m for m in plan.moves if m.staging]
    assert len(staged) == 1 and staged[0].destination == 'c3'
    assert 'steps aside to c3' in staged[0].reason
    where = simulate(cloud, plan)
    assert where == {'uuid-a': 'c2', 'uuid-b': 'c1'}
    assert 'stepping aside: %s via c3' % staged[0].guest.name \
        in plan.summary()
    # Both guests count once; the indicators count three migrations.
    assert len(plan.migrations) == 2


def test_swap_with_nowhere_to_step_aside_is_refused():
    cloud = (Cloud(**SIZES).hosts('c1', 'c2').hosts('c3', vcpus=4)
             .guests_on('c1', 'a', vcpus=8).guests_on('c2', 'b', vcpus=8))
    with pytest.raises(PlanningRefused) as refused:
        restore_plan('c1', cloud,
                     host_map={'c1': ['b'], 'c2': ['a']})
    message = str(refused.value)
    assert 'no order of migrations' in message
    assert 'b (8 vCPU, 2048 MiB RAM, 10 GiB disk) waits for room on c1' \
        in message
    assert 'No other enabled host' in message


def test_order_avoids_a_dead_end():
    # x: 4 vCPU holding c; y: 2 holding a; z: 2 holding b.
    # Targets a->x, b->x, c->y: a must go first so c can leave x.
    cloud = (Cloud(**SIZES).hosts('x', vcpus=4).hosts('y', 'z', vcpus=2)
             .guests_on('x', 'c').guests_on('y', 'a').guests_on('z', 'b'))
    plan = restore_plan('x', cloud,
                        host_map={'x': ['a', 'b'], 'y': ['c']})
    assert not any(m.staging for m in plan.moves)
    assert simulate(cloud, plan) == {'uuid-a': 'x', 'uuid-b': 'x',
                                     'uuid-c': 'y'}


def test_parse_host_map():
    assert parse_host_map({'c1': ['a']}) == {'c1': ['a']}
    with pytest.raises(PlanningRefused, match='JSON object'):
        parse_host_map(['c1'])
    with pytest.raises(PlanningRefused, match="'c1' must be a list"):
        parse_host_map({'c1': 'a'})


# -- property: any plan returned runs within capacity and is exact ---------


@st.composite
def swaps(draw):
    n_hosts = draw(st.integers(2, 4))
    caps = {'h%d' % i: draw(st.integers(2, 8)) for i in range(n_hosts)}
    placement, room = {h: [] for h in caps}, dict(caps)
    n_guests = draw(st.integers(1, 6))
    for i in range(n_guests):
        size = draw(st.integers(1, 4))
        fitting = [h for h in sorted(caps) if room[h] >= size]
        if not fitting:
            break
        h = draw(st.sampled_from(fitting))
        room[h] -= size
        placement[h].append(('g%d' % i, size))
    cloud = Cloud(**SIZES)
    for h, vcpus in caps.items():
        cloud.hosts(h, vcpus=vcpus)
    for h, guests in placement.items():
        for name, size in guests:
            cloud.guests_on(h, name, vcpus=size, memory_mb=1, disk_gb=0)
    host_map = {}
    for g in cloud.guests():
        host_map.setdefault(draw(st.sampled_from(sorted(caps))),
                            []).append(g.name)
    return cloud, host_map


def direct_order_exists(cloud, host_map):
    """Brute force: some order of direct moves stays within capacity."""
    hosts = cloud.host_list()
    target = {'uuid-' + n: h for h, names in host_map.items() for n in names}
    moves = [(g, g.host) for g in cloud.guests() if target[g.uuid] != g.host]
    for order in itertools.permutations(moves):
        free = {n: hosts.host(n).free for n in hosts.names()}
        for g, source in order:
            free[target[g.uuid]] = free[target[g.uuid]] - g.needs
            if not Resources().fits_within(free[target[g.uuid]]):
                break
            free[source] = free[source] + g.needs
        else:
            return True
    return False


@settings(max_examples=200, deadline=None)
@given(swaps())
def test_property_plans_run_within_capacity_and_realise_the_map(case):
    cloud, host_map = case
    try:
        plan = restore_plan('h0', cloud,
                            host_map=host_map)
    except PlanningRefused as refused:
        assert 'does not fit' in str(refused) or 'no order' in str(refused)
        if 'no order' in str(refused):
            assert not direct_order_exists(cloud, host_map)
        return
    where = simulate(cloud, plan)
    for target, names in host_map.items():
        for name in names:
            assert where['uuid-' + name] == target
