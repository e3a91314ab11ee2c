"""Unit tests of the planning core for leaving maintenance."""

import itertools

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from watcher_maintenance.planning import restore
from watcher_maintenance.planning import targets
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.host_map import parse as parse_host_map
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.options import RestoreOptions
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused


def host(name, vcpus=8, ram=8192, disk=100, used=(0, 0, 0), **kw):
    return Host(name, Resources(vcpus, ram, disk), Resources(*used), **kw)


def guest(name, vcpus=2, ram=2048, disk=10, state='active', **kw):
    return Guest('uuid-' + name, name, state, Resources(vcpus, ram, disk),
                 local_disk=disk > 0, **kw)


class Cloud:
    """Hosts and guests kept consistent: a host's usage is its guests'."""

    def __init__(self, capacity, placement, **host_kw):
        self.capacity = capacity       # host -> (vcpus, ram, disk)
        self.placement = placement     # host -> [Guest]
        self.host_kw = host_kw         # host -> dict of Host fields

    def hosts(self):
        built = []
        for name, cap in self.capacity.items():
            used = Resources()
            for g in self.placement.get(name, []):
                used = used + g.needs
            built.append(Host(name, Resources(*cap), used,
                              guest_count=len(self.placement.get(name, [])),
                              **self.host_kw.get(name, {})))
        return HostList(built)

    def guests(self):
        return targets.GuestList(
            targets.Placed(g, h) for h, gs in self.placement.items()
            for g in gs)


MAINT = dict(enabled=False, disabled_reason='watcher_maintaining')


def simulate(cloud, plan):
    """Run the plan's moves on a copy of the cloud, checking each fits."""
    hosts = {h.name: h for h in (cloud.hosts().host(n)
                                 for n in cloud.hosts().names())}
    free = {n: h.free for n, h in hosts.items()}
    where = {p.guest.uuid: h for h, gs in cloud.placement.items()
             for p in [targets.Placed(g, h) for g in gs]}
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
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100)}, {},
                  c1=MAINT)
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests())
    assert [(c.host, c.enable) for c in plan.service_changes] == \
        [('c1', True)]
    assert plan.moves == ()
    assert 'enable c1' in plan.summary()


def test_node_disabled_for_another_reason_is_refused():
    cloud = Cloud({'c1': (8, 8192, 100)}, {},
                  c1=dict(enabled=False, disabled_reason='bad DIMM'))
    with pytest.raises(PlanningRefused) as refused:
        restore.plan_restore('c1', cloud.hosts(), cloud.guests())
    message = str(refused.value)
    assert '"bad DIMM"' in message
    assert 'force=true' in message


def test_force_enables_a_node_disabled_for_another_reason():
    cloud = Cloud({'c1': (8, 8192, 100)}, {},
                  c1=dict(enabled=False, disabled_reason='bad DIMM'))
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                                options=RestoreOptions(force=True))
    assert [(c.host, c.enable) for c in plan.service_changes] == \
        [('c1', True)]
    assert 'force=true' in plan.summary()


@pytest.mark.parametrize('force', [False, True])
def test_down_node_is_refused_even_with_force(force):
    cloud = Cloud({'c1': (8, 8192, 100)}, {},
                  c1=dict(MAINT, up=False))
    with pytest.raises(PlanningRefused, match='c1 is down'):
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             options=RestoreOptions(force=force))


def test_unknown_node_is_refused():
    cloud = Cloud({'c1': (8, 8192, 100)}, {})
    with pytest.raises(PlanningRefused, match='c9 is not a compute host'):
        restore.plan_restore('c9', cloud.hosts(), cloud.guests())


def test_enabled_node_needs_no_service_change():
    cloud = Cloud({'c1': (8, 8192, 100)}, {})
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests())
    assert plan.service_changes == ()
    assert 'already enabled' in plan.summary()


# -- return_guests=drained --------------------------------------------------


def drain_record(*moved, state='SUCCEEDED'):
    return targets.DrainRecord('ap-1', state, tuple(
        targets.DrainedGuest('uuid-' + name, name, dest)
        for name, dest in moved))


def test_drained_guests_go_home_and_the_others_are_reported():
    a, b, c, d = guest('a'), guest('b', state='stopped'), guest('c'), \
        guest('d')
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100),
                   'c3': (8, 8192, 100)},
                  {'c1': [d], 'c2': [a, b], 'c3': [c]}, c1=MAINT)
    record = drain_record(('a', 'c2'), ('b', 'c2'), ('c', 'c2'),
                          ('d', 'c3'), ('gone', 'c2'))
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
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
    a = guest('a')
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100)},
                  {'c2': [a]}, c1=MAINT)
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                                drained=drain_record(('a', 'c2'),
                                                     state='FAILED'))
    assert [m.guest.name for m in plan.moves] == ['a']
    assert 'ended FAILED' in plan.summary()


def test_guest_that_no_longer_fits_home_is_refused():
    a, b = guest('a', vcpus=6), guest('b', vcpus=4)
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (16, 16384, 200)},
                  {'c1': [b], 'c2': [a]}, c1=MAINT)
    with pytest.raises(PlanningRefused) as refused:
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             drained=drain_record(('a', 'c2')))
    message = str(refused.value)
    assert 'c1 would be over capacity in vCPU' in message
    assert 'arriving a need 6 vCPU' in message
    assert '4 vCPU' in message


def test_unmovable_guest_refused_unless_skipped():
    a = guest('a', state='paused')
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100)},
                  {'c2': [a]}, c1=MAINT)
    with pytest.raises(PlanningRefused, match='a \\(state paused'):
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             drained=drain_record(('a', 'c2')))
    plan = restore.plan_restore(
        'c1', cloud.hosts(), cloud.guests(), drained=drain_record(('a', 'c2')),
        options=RestoreOptions(skip_unmovable=True))
    assert plan.moves == ()
    assert 'skip_unmovable' in plan.with_outcome(Outcome.LEFT)[0].reason


def test_local_disk_rule_is_the_drains():
    a = guest('a', disk=20)
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100)},
                  {'c2': [a]}, c1=MAINT)
    plan = restore.plan_restore(
        'c1', cloud.hosts(), cloud.guests(), drained=drain_record(('a', 'c2')),
        options=RestoreOptions(live_migrate_local_disk=False))
    assert plan.moves[0].outcome is Outcome.COLD
    assert 'local root disk' in plan.moves[0].reason


# -- host maps --------------------------------------------------------------


def test_host_map_by_name_and_uuid():
    a, b, c = guest('a'), guest('b'), guest('c')
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100),
                   'c3': (8, 8192, 100)},
                  {'c1': [a], 'c2': [b, c]}, c1=MAINT)
    plan = restore.plan_restore(
        'c1', cloud.hosts(), cloud.guests(),
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
    a = guest('a')
    twins = [Guest('t1', 'twin', 'active', Resources(1, 512, 1)),
             Guest('t2', 'twin', 'active', Resources(1, 512, 1))]
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100),
                   'c3': (8, 8192, 100), 'c4': (8, 8192, 100)},
                  {'c1': [a] + twins}, c1=MAINT,
                  c4=dict(enabled=False, disabled_reason='reserved'))
    with pytest.raises(PlanningRefused) as refused:
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             host_map=host_map)
    assert expected in str(refused.value)
    assert str(refused.value).startswith('The host map cannot be used')


def test_host_map_may_not_contradict_the_drain():
    a = guest('a')
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100),
                   'c3': (8, 8192, 100)}, {'c2': [a]}, c1=MAINT)
    with pytest.raises(PlanningRefused, match='should go back to c1'):
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             drained=drain_record(('a', 'c2')),
                             host_map={'c3': ['a']})


def test_map_onto_the_node_in_maintenance_runs_after_enabling_it():
    a = guest('a')
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100)},
                  {'c2': [a]}, c1=MAINT)
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                                host_map={'c1': ['a']})
    assert simulate(cloud, plan)['uuid-a'] == 'c1'


def test_host_map_capacity_conflict_names_host_and_guests():
    a, b, c = guest('a', ram=4096), guest('b', ram=4096), guest('c',
                                                                ram=4096)
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100)},
                  {'c1': [a, b], 'c2': [c]})
    with pytest.raises(PlanningRefused) as refused:
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             host_map={'c1': ['a', 'b', 'c']})
    message = str(refused.value)
    assert 'c1 would be over capacity in RAM' in message
    assert 'arriving c need' in message
    assert 'Nothing was planned' in message


def test_swap_on_full_hosts_steps_aside_through_a_third_host():
    a, b = guest('a', vcpus=8), guest('b', vcpus=8)
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100),
                   'c3': (8, 8192, 100)},
                  {'c1': [a], 'c2': [b]})
    plan = restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
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
    a, b = guest('a', vcpus=8), guest('b', vcpus=8)
    cloud = Cloud({'c1': (8, 8192, 100), 'c2': (8, 8192, 100),
                   'c3': (4, 8192, 100)},
                  {'c1': [a], 'c2': [b]})
    with pytest.raises(PlanningRefused) as refused:
        restore.plan_restore('c1', cloud.hosts(), cloud.guests(),
                             host_map={'c1': ['b'], 'c2': ['a']})
    message = str(refused.value)
    assert 'no order of migrations' in message
    assert 'b (8 vCPU, 2048 MiB RAM, 10 GiB disk) waits for room on c1' \
        in message
    assert 'No other enabled host' in message


def test_order_avoids_a_dead_end():
    # x: 4 vCPU holding c; y: 2 holding a; z: 2 holding b.
    # Targets a->x, b->x, c->y: a must go first so c can leave x.
    a, b, c = (guest(n, vcpus=2) for n in 'abc')
    cloud = Cloud({'x': (4, 8192, 100), 'y': (2, 8192, 100),
                   'z': (2, 8192, 100)},
                  {'x': [c], 'y': [a], 'z': [b]})
    plan = restore.plan_restore('x', cloud.hosts(), cloud.guests(),
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
    caps = {'h%d' % i: (draw(st.integers(2, 8)), 8192, 100)
            for i in range(n_hosts)}
    placement, room = {h: [] for h in caps}, dict(
        (h, c[0]) for h, c in caps.items())
    n_guests = draw(st.integers(1, 6))
    for i in range(n_guests):
        size = draw(st.integers(1, 4))
        fitting = [h for h in sorted(caps) if room[h] >= size]
        if not fitting:
            break
        h = draw(st.sampled_from(fitting))
        room[h] -= size
        placement[h].append(guest('g%d' % i, vcpus=size, ram=1, disk=0))
    everyone = [g for gs in placement.values() for g in gs]
    host_map = {}
    for g in everyone:
        host_map.setdefault(draw(st.sampled_from(sorted(caps))),
                            []).append(g.name)
    return Cloud(caps, placement), host_map


def direct_order_exists(cloud, host_map):
    """Brute force: some order of direct moves stays within capacity."""
    hosts = cloud.hosts()
    target = {'uuid-' + n: h for h, names in host_map.items() for n in names}
    moves = [(g, h) for h, gs in cloud.placement.items() for g in gs
             if target[g.uuid] != h]
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
        plan = restore.plan_restore('h0', cloud.hosts(), cloud.guests(),
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
