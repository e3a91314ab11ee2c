"""The pure rules behind plans that stay safe while the cloud changes."""

from watcher_maintenance.planning import recheck
from watcher_maintenance.planning import reservations
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import guest
from watcher_maintenance.tests.builders import host
from watcher_maintenance.tests.builders import server_group

# Guests of 2 vCPU, 2 GiB RAM and 10 GiB disk.
DISK = dict(disk_gb=10)


def move(name, destination='c2', outcome=Outcome.LIVE):
    return recheck.PlannedMove('uuid-' + name, name, outcome, 'c1',
                               destination)


def live(name, where='c1', status='ACTIVE', **needs):
    return recheck.LiveServer(guest(name, **DISK, **needs), where,
                              status)


def test_a_wave_that_still_fits_has_no_problem():
    moves = [move('a'), move('b')]
    servers = {'uuid-a': live('a'), 'uuid-b': live('b')}
    roomy = host('c2', used=(4, 0, 0), **SMALL_HOST)
    assert recheck.problems(moves, servers, {'c2': roomy}) == []


def test_the_wave_is_counted_together_on_a_destination():
    moves = [move('a'), move('b')]
    servers = {'uuid-a': live('a'), 'uuid-b': live('b')}
    tight = host('c2', used=(6, 0, 0), **SMALL_HOST)
    [problem] = recheck.problems(moves, servers, {'c2': tight})
    assert problem == ('c2 has too little free vCPU for a, b (they need '
                       '4 vCPU, 4096 MiB RAM, 20 GiB disk, it has 2 vCPU, '
                       '16384 MiB RAM, 200 GiB disk free)')


def test_a_disabled_or_vanished_destination_is_a_problem():
    servers = {'uuid-a': live('a')}
    disabled = host('c2', enabled=False, disabled_reason='firmware',
                    **SMALL_HOST)
    assert recheck.problems([move('a')], servers, {'c2': disabled}) == [
        'c2 is disabled (firmware) now, so a cannot go there']
    assert recheck.problems([move('a')], servers, {'c2': None}) == [
        'c2, the destination of a, is no longer a compute host']


def test_a_live_move_of_a_guest_no_longer_active_is_a_problem():
    c2 = host('c2', **SMALL_HOST)
    servers = {'uuid-a': live('a', status='PAUSED')}
    assert recheck.problems([move('a')], servers, {'c2': c2}) == [
        'a is PAUSED, and a live migration needs it ACTIVE']
    cold = move('a', outcome=Outcome.COLD)
    servers = {'uuid-a': live('a', status='SHUTOFF')}
    assert recheck.problems([cold], servers, {'c2': c2}) == []


def test_guests_gone_or_moved_away_are_skipped_not_stopped():
    servers = {'uuid-a': None, 'uuid-b': live('b', where='c9')}
    full = host('c2', used=(8, 0, 0), **SMALL_HOST)
    assert recheck.problems([move('a'), move('b')], servers,
                            {'c2': full}) == []


def test_server_groups_are_checked_where_members_are_now():
    group = server_group('db', 'anti-affinity', ('a', 'c1'), ('other', 'c2'))
    [problem] = recheck.problems([move('a')], {'uuid-a': live('a')},
                                 {'c2': host('c2', **SMALL_HOST)}, [group])
    assert 'server group db (anti-affinity)' in problem
    assert 'c2' in problem


def test_the_sentence_says_what_to_do():
    text = recheck.sentence([move('a')],
                            ['c2 is down now, so a cannot go there'])
    assert text.startswith('Stopped before migrating a to c2: ')
    assert 'Run the audit again' in text


def test_an_empty_node_or_one_with_strays():
    assert recheck.strays({'u-s': 'stays'}, ['u-s'], 'c1') is None
    text = recheck.strays({'u-s': 'stays', 'u-x': 'late'}, ['u-s'], 'c1')
    assert text.startswith('c1 is not empty: Nova still has late on it')
    assert 'Run the audit again' in text


def pending(plan, name, source, destination, vcpus=2):
    return reservations.PendingMove(plan, guest(name, vcpus=vcpus, **DISK),
                                    source, destination)


def test_other_plans_moves_count_on_their_destinations():
    hosts = HostList([host('c1', **SMALL_HOST),
                      host('c2', used=(2, 0, 0), **SMALL_HOST),
                      host('c3', **SMALL_HOST)])
    seen = reservations.ReservedHosts(hosts, reservations.Reservations(
        (pending('p1', 'a', 'c1', 'c2', vcpus=4),)))
    assert seen.host('c2').free.vcpus == 2
    assert seen.host('c2').guest_count == 1
    # The source keeps the guest's needs until it really leaves.
    assert seen.host('c1').free.vcpus == 8
    assert seen.host('c9') is None


def test_a_node_another_plan_drains_is_no_destination_but_ours_is_ours():
    hosts = HostList([host('c1', **SMALL_HOST), host('c2', **SMALL_HOST)])
    others = reservations.Reservations(draining=(('c1', 'p1'),))
    seen = reservations.ReservedHosts(hosts, others)
    assert not seen.host('c1').schedulable
    assert seen.host('c1').disabled_reason == 'being drained by plan p1'
    mine = reservations.ReservedHosts(hosts, others, own=['c1'])
    assert mine.host('c1').schedulable


def test_what_was_counted_is_said():
    others = reservations.Reservations(
        (pending('p1', 'a', 'c1', 'c5'), pending('p1', 'b', 'c1', 'c5')),
        (('c1', 'p1'),))
    assert others.describe() == (
        'Other plans not yet done: 2 guest(s) of plan p1 counted on c5; '
        'c1 is being drained by plan p1 and takes no guest.')
    assert reservations.Reservations().describe() == ''


def test_a_move_the_model_already_shows_done_is_not_counted_twice():
    moves = [(guest('a', **DISK), 'c1', 'c2'),
             (guest('b', **DISK), 'c1', 'c3')]
    where = {'uuid-a': 'c2', 'uuid-b': 'c1'}
    assert [m.guest.name for m in reservations.pending_moves(
        'p1', moves, where.get)] == ['b']
