"""Unit tests of the drain planner (pure core, no Watcher)."""

import pytest

from watcher_maintenance.planning import drain
from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.drain import plan_drain
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources as R
from watcher_maintenance.planning.plan import Method
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused


def host(name, vcpus=16, ram=32768, disk=500, used=(0, 0, 0), **kw):
    return Host(name, R(vcpus, ram, disk), R(*used), **kw)


def guest(name, vcpus=2, ram=2048, disk=20, state='active', **kw):
    return Guest('uuid-' + name, name, state, R(vcpus, ram, disk), **kw)


def plan(guests, hosts, node='node', **options):
    all_hosts = [host(node, guest_count=len(guests))] + list(hosts)
    return plan_drain(node, guests, HostList(all_hosts),
                      DrainOptions(**options))


def destinations(result):
    return {d.guest.name: d.destination for d in result.decisions
            if d.outcome.moves}


def test_disables_node_first_then_moves_every_guest_live():
    result = plan([guest('a'), guest('b')], [host('h1'), host('h2')])
    assert [(c.host, c.enable, c.reason) for c in result.service_changes] == [
        ('node', False, 'watcher_maintaining')]
    assert {d.outcome for d in result.decisions} == {Outcome.LIVE}
    assert set(destinations(result).values()) <= {'h1', 'h2'}


def test_spread_balances_and_pack_fills():
    guests = [guest('a'), guest('b')]
    spread = destinations(plan(guests, [host('h1'), host('h2')]))
    assert sorted(spread.values()) == ['h1', 'h2']
    packed = destinations(plan(guests, [host('h1', used=(8, 16384, 0)),
                                        host('h2')], placement='pack'))
    assert set(packed.values()) == {'h1'}


def test_state_decides_the_action():
    guests = [guest('run'), guest('off', state='stopped')]
    result = plan(guests, [host('h1')])
    outcome = {d.guest.name: d.outcome for d in result.decisions}
    assert outcome == {'run': Outcome.LIVE, 'off': Outcome.COLD}

    cold = plan(guests, [host('h1')], disable_live_migration=True)
    assert {d.outcome for d in cold.decisions} == {Outcome.COLD}

    neither = plan(guests, [host('h1')], disable_live_migration=True,
                   disable_cold_migration=True)
    outcome = {d.guest.name: d.outcome for d in neither.decisions}
    assert outcome == {'run': Outcome.STOP, 'off': Outcome.LEFT}


def test_local_disk_guests_cold_migrate_when_asked():
    guests = [guest('local', local_disk=True), guest('bfv', disk=0)]
    result = plan(guests, [host('h1')], live_migrate_local_disk=False)
    outcome = {d.guest.name: d.outcome for d in result.decisions}
    assert outcome == {'local': Outcome.COLD, 'bfv': Outcome.LIVE}


@pytest.mark.parametrize('state', ['paused', 'suspended', 'error', 'rescued',
                                   'resized', 'building'])
def test_unmovable_guest_refuses_naming_it(state):
    with pytest.raises(PlanningRefused) as refusal:
        plan([guest('ok'), guest('stuck', state=state)], [host('h1')])
    message = str(refusal.value)
    assert 'stuck (state %s' % state in message
    assert 'skip_unmovable=true' in message
    assert 'ok' not in message.split(':')[1]


def test_skip_unmovable_leaves_them_and_moves_the_rest():
    result = plan([guest('ok'), guest('stuck', state='paused')],
                  [host('h1')], skip_unmovable=True)
    outcome = {d.guest.name: d.outcome for d in result.decisions}
    assert outcome == {'ok': Outcome.LIVE, 'stuck': Outcome.LEFT}
    assert 'stuck' in result.summary()


def test_excluded_guests_stay_and_are_reported():
    result = plan([guest('a'), guest('keep', excluded=True)], [host('h1')])
    outcome = {d.guest.name: d for d in result.decisions}
    assert outcome['keep'].outcome is Outcome.LEFT
    assert 'excluded by the audit scope' in outcome['keep'].reason
    assert result.evacuated_share == 0.5


def test_never_overbooks_in_any_dimension():
    # h1 has RAM and vCPU but no disk; h2 has disk.
    hosts = [host('h1', disk=10), host('h2', vcpus=4, ram=4096, disk=100)]
    result = plan([guest('a', vcpus=2, ram=2048, disk=50)], hosts)
    assert destinations(result) == {'a': 'h2'}


def test_capacity_refusal_names_guest_need_and_best_free():
    hosts = [host('h1', vcpus=4, used=(0, 0, 0)),
             host('h2', vcpus=8, used=(6, 0, 0))]
    with pytest.raises(PlanningRefused) as refusal:
        plan([guest('big', vcpus=8, ram=1024, disk=10)], hosts)
    message = str(refusal.value)
    assert 'big needs 8 vCPU' in message
    assert 'the most any allowed host has free is 4 vCPU (h1)' in message


def test_combination_refusal_when_each_fits_alone():
    hosts = [host('h1', vcpus=4, ram=8192), host('h2', vcpus=4, ram=8192)]
    guests = [guest(n, vcpus=3, ram=1024) for n in 'abc']
    with pytest.raises(PlanningRefused) as refusal:
        plan(guests, hosts)
    assert 'no combination of destinations' in str(refusal.value)


def test_search_finds_placement_greedy_misses():
    # Spreading largest-first gets stuck here (found by random search);
    # a placement exists, so the backtracking search must find it.
    hosts = [host('h1', vcpus=8, ram=8192, disk=100),
             host('h2', vcpus=6, ram=6144, disk=100)]
    guests = [guest('a', vcpus=3, ram=3072, disk=1),
              guest('b', vcpus=1, ram=3072, disk=1),
              guest('c', vcpus=2, ram=5120, disk=1),
              guest('d', vcpus=4, ram=2048, disk=1)]
    result = plan(guests, hosts)
    load = {'h1': R(), 'h2': R()}
    for d in result.decisions:
        load[d.destination] = load[d.destination] + d.guest.needs
    assert load['h1'].fits_within(R(8, 8192, 100))
    assert load['h2'].fits_within(R(6, 6144, 100))
    assert len(result.migrations) == 4


def test_disabled_down_and_out_of_scope_hosts_are_never_destinations():
    hosts = [host('off', enabled=False, disabled_reason='broken'),
             host('down', up=False), host('out', in_scope=False),
             host('ok', vcpus=2, ram=2048)]
    result = plan([guest('a')], hosts)
    assert destinations(result) == {'a': 'ok'}
    with pytest.raises(PlanningRefused):
        plan([guest('a'), guest('b')], hosts)


def test_zone_pin_is_honoured():
    hosts = [host('h1', zone='az1'), host('h2', zone='az2')]
    result = plan([guest('a', pinned_zone='az2')], hosts)
    assert destinations(result) == {'a': 'h2'}
    with pytest.raises(PlanningRefused) as refusal:
        plan([guest('a', pinned_zone='az3')], hosts)
    assert 'pinned to az3' in str(refusal.value)


def test_backup_node_takes_everything_and_is_enabled_first():
    hosts = [host('h1'), host('backup', enabled=False, disabled_reason='x')]
    result = plan([guest('a'), guest('b')], hosts, backup_node='backup')
    assert result.method is Method.BACKUP_NODE
    assert set(destinations(result).values()) == {'backup'}
    assert [(c.host, c.enable) for c in result.service_changes] == [
        ('backup', True), ('node', False)]


def test_backup_node_without_room_falls_back_with_a_note():
    hosts = [host('h1'), host('backup', vcpus=2)]
    result = plan([guest('a'), guest('b')], hosts, backup_node='backup')
    assert result.method is Method.DISPERSAL
    assert any('backup cannot take every guest' in n for n in result.notes)


@pytest.mark.parametrize('backup,text', [
    ('node', 'is the node being drained'),
    ('ghost', 'The backup node ghost is not a compute host'),
])
def test_bad_backup_node_is_refused(backup, text):
    with pytest.raises(PlanningRefused) as refusal:
        plan([guest('a')], [host('h1')], backup_node=backup)
    assert text in str(refusal.value)


def test_unknown_node_is_refused():
    with pytest.raises(PlanningRefused) as refusal:
        plan_drain('ghost', [], HostList([host('h1')]))
    assert 'ghost is not a compute host' in str(refusal.value)


def test_designated_spare_is_chosen_by_least_leftover():
    hosts = [host('h1'),
             host('spare-big', vcpus=64, ram=262144, enabled=False,
                  disabled_reason='watcher_spare'),
             host('spare-fit', vcpus=8, ram=8192, enabled=False,
                  disabled_reason='watcher_spare'),
             host('spare-busy', vcpus=8, ram=8192, enabled=False,
                  disabled_reason='watcher_spare', guest_count=1,
                  used=(1, 512, 1)),
             host('reserved', vcpus=8, ram=8192, enabled=False,
                  disabled_reason='firmware')]
    result = plan([guest('a'), guest('b')], hosts)
    assert result.method is Method.SPARE_NODE
    assert set(destinations(result).values()) == {'spare-fit'}
    assert result.service_changes[0].host == 'spare-fit'
    assert result.service_changes[0].enable


def test_spares_can_be_turned_off_and_other_reasons_are_untouched():
    hosts = [host('h1'), host('spare', enabled=False,
                              disabled_reason='watcher_spare')]
    result = plan([guest('a')], hosts, use_spare_nodes=False)
    assert destinations(result) == {'a': 'h1'}
    assert [c.host for c in result.service_changes] == ['node']
    only_other = [host('other', enabled=False, disabled_reason='rma')]
    with pytest.raises(PlanningRefused):
        plan([guest('a')], only_other)


def test_empty_node_in_maintenance_gets_an_empty_plan():
    node = host('node', enabled=False, disabled_reason='watcher_maintaining')
    result = plan_drain('node', [], HostList([node, host('h1')]))
    assert result.decisions == () and result.service_changes == ()
    enabled = plan_drain('node', [], HostList([host('node'), host('h1')]))
    assert [c.enable for c in enabled.service_changes] == [False]


def test_node_disabled_for_another_reason_keeps_its_reason():
    node = host('node', enabled=False, disabled_reason='rma-1234')
    result = plan_drain('node', [guest('a')], HostList([node, host('h1')]))
    assert result.service_changes == ()
    assert 'rma-1234' in result.notes[0]
    assert destinations(result) == {'a': 'h1'}


def test_down_node_with_guests_is_refused():
    node = host('node', up=False)
    with pytest.raises(PlanningRefused) as refusal:
        plan_drain('node', [guest('a')], HostList([node, host('h1')]))
    assert 'evacuate' in str(refusal.value)


def test_plans_are_deterministic():
    hosts = [host('h%d' % i, used=(i, 1024 * i, i)) for i in range(8)]
    guests = [guest('g%d' % i, vcpus=1 + i % 3, ram=512 * (1 + i % 4))
              for i in range(12)]
    first = plan(guests, hosts)
    for _ in range(3):
        assert plan(list(reversed(guests)), list(reversed(hosts))) == first


def test_large_cloud_looks_at_few_hosts_then_widens():
    looked = []

    class Counting(HostList):
        def host(self, name):
            looked.append(name)
            return super().host(name)

    hosts = [host('node', guest_count=1)] + [
        host('h%04d' % i, vcpus=4, used=(4, 0, 0)) for i in range(500)]
    hosts.append(host('h9999'))
    result = plan_drain('node', [guest('a')], Counting(hosts))
    assert destinations(result) == {'a': 'h9999'}
    looked.clear()
    roomy = [host('node', guest_count=1)] + [
        host('h%04d' % i) for i in range(500)]
    plan_drain('node', [guest('a')], Counting(roomy))
    assert len(set(looked)) <= drain.FIRST_LOOK_HOSTS + 2


def test_spare_is_enabled_first_also_when_guests_are_in_groups():
    from watcher_maintenance.planning.inventory import Member
    from watcher_maintenance.planning.inventory import ServerGroup
    hosts = [host('h1', vcpus=1),
             host('spare', enabled=False, disabled_reason='watcher_spare')]
    group = ServerGroup(uuid='g', name='web', policy='soft-anti-affinity',
                        members=(Member('uuid-a', 'node', 'a'),))
    all_hosts = [host('node', guest_count=1)] + hosts
    result = plan_drain('node', [guest('a')], HostList(all_hosts),
                        DrainOptions(), server_groups=[group])
    assert result.method is Method.SPARE_NODE
    assert [(c.host, c.enable) for c in result.service_changes] == [
        ('spare', True), ('node', False)]
