"""Server-group policies in the drain planner (pure core, no Watcher)."""

import itertools

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.drain import plan_drain
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Member
from watcher_maintenance.planning.inventory import Resources as R
from watcher_maintenance.planning.inventory import ServerGroup
from watcher_maintenance.planning.plan import Method
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused

NODE = 'node'
POLICIES = ('affinity', 'anti-affinity', 'soft-affinity',
            'soft-anti-affinity')


def host(name, vcpus=16, ram=32768, disk=500, **kw):
    return Host(name, R(vcpus, ram, disk), **kw)


def guest(name, vcpus=2, ram=2048, disk=20, state='active', **kw):
    return Guest('uuid-' + name, name, state, R(vcpus, ram, disk), **kw)


def group(name, policy, on_node=(), elsewhere=(), limit=1):
    """A group with members ``on_node`` (names) and ``elsewhere``
    ((name, host) pairs)."""
    members = [Member('uuid-' + n, NODE, n) for n in on_node]
    members += [Member('uuid-' + n, h, n) for n, h in elsewhere]
    return ServerGroup('gid-' + name, name, policy, tuple(members), limit)


def plan(guests, hosts, groups=(), **options):
    all_hosts = [host(NODE, guest_count=len(guests))] + list(hosts)
    return plan_drain(NODE, guests, HostList(all_hosts),
                      DrainOptions(**options), groups)


def destinations(result):
    return {d.guest.name: d.destination for d in result.decisions
            if d.outcome.moves}


def test_anti_affinity_pair_goes_to_two_hosts():
    # Spread alone would put both on the emptier big host.
    guests = [guest('db-1'), guest('db-2')]
    hosts = [host('big', vcpus=64, ram=262144), host('small')]
    assert set(destinations(plan(guests, hosts)).values()) == {'big'}
    result = plan(guests, hosts, [group('db', 'anti-affinity',
                                        ['db-1', 'db-2'])])
    assert sorted(destinations(result).values()) == ['big', 'small']
    assert all('keeps server group db (anti-affinity)' in d.reason
               for d in result.migrations)


def test_anti_affinity_avoids_host_with_a_member():
    result = plan([guest('db-1')], [host('h1'), host('h2', vcpus=64)],
                  [group('db', 'anti-affinity', ['db-1'],
                         [('db-2', 'h2')])])
    assert destinations(result) == {'db-1': 'h1'}


def test_max_server_per_host_allows_that_many():
    groups = [group('web', 'anti-affinity', ['w1', 'w2', 'w3'],
                    [('w4', 'h1')], limit=2)]
    result = plan([guest('w1'), guest('w2'), guest('w3')],
                  [host('h1'), host('h2')], groups)
    placed = list(destinations(result).values())
    # h1 holds w4 already: one more fits there, two on h2.
    assert sorted(placed) == ['h1', 'h2', 'h2']


def test_more_members_than_hosts_is_refused_naming_the_group():
    groups = [group('db', 'anti-affinity', ['db-1', 'db-2', 'db-3'])]
    with pytest.raises(PlanningRefused) as refused:
        plan([guest('db-1'), guest('db-2'), guest('db-3')],
             [host('h1'), host('h2')], groups)
    message = str(refused.value)
    assert 'server group db (anti-affinity)' in message
    assert 'db-1, db-2, db-3' in message
    assert 'only 2 allowed host(s)' in message


def test_member_elsewhere_counts_against_the_hosts():
    groups = [group('db', 'anti-affinity', ['db-1', 'db-2'],
                    [('db-3', 'h1')])]
    with pytest.raises(PlanningRefused) as refused:
        plan([guest('db-1'), guest('db-2')], [host('h1'), host('h2')],
             groups)
    assert 'h1 already hold(s) the maximum' in str(refused.value)


def test_backup_node_is_skipped_when_it_would_break_anti_affinity():
    groups = [group('db', 'anti-affinity', ['db-1', 'db-2'])]
    result = plan([guest('db-1'), guest('db-2')],
                  [host('backup'), host('h2')], groups,
                  backup_node='backup')
    assert result.method is Method.DISPERSAL
    assert sorted(destinations(result).values()) == ['backup', 'h2']
    assert any('Backup node backup cannot take every guest' in n and
               'server group db (anti-affinity) would have 2 members' in n
               for n in result.notes)


def test_spare_host_is_not_used_to_stack_an_anti_affinity_group():
    spare = host('spare', enabled=False, disabled_reason='watcher_spare')
    groups = [group('db', 'anti-affinity', ['db-1', 'db-2'])]
    result = plan([guest('db-1'), guest('db-2')],
                  [spare, host('h1'), host('h2')], groups)
    assert result.method is Method.DISPERSAL
    assert 'spare' not in destinations(result).values()


def test_soft_anti_affinity_prefers_apart_but_never_refuses():
    guests = [guest('a'), guest('b')]
    hosts = [host('big', vcpus=64, ram=262144), host('small')]
    soft = [group('s', 'soft-anti-affinity', ['a', 'b'])]
    assert sorted(destinations(plan(guests, hosts, soft)).values()) == [
        'big', 'small']
    # One host: both still go.
    assert set(destinations(plan(guests, hosts[:1], soft)).values()) == {
        'big'}


def test_soft_affinity_prefers_the_members_host():
    result = plan([guest('a')], [host('h1', vcpus=64, ram=262144),
                                 host('h2')],
                  [group('s', 'soft-affinity', ['a'], [('b', 'h2')])])
    assert destinations(result) == {'a': 'h2'}


def test_affinity_single_member_joins_the_others():
    result = plan([guest('a')], [host('h1', vcpus=64, ram=262144),
                                 host('h2')],
                  [group('app', 'affinity', ['a'], [('b', 'h2')])])
    assert destinations(result) == {'a': 'h2'}


def test_affinity_member_whose_group_host_is_full_is_refused():
    with pytest.raises(PlanningRefused) as refused:
        plan([guest('a', vcpus=8)], [host('h1'), host('h2', vcpus=4)],
             [group('app', 'affinity', ['a'], [('b', 'h2')])])
    message = str(refused.value)
    assert 'server group app (affinity)' in message
    assert 'only there' in message


def test_affinity_pair_on_the_node_is_refused_with_what_to_do():
    groups = [group('app', 'affinity', ['a', 'b'])]
    with pytest.raises(PlanningRefused) as refused:
        plan([guest('a'), guest('b'), guest('c')], [host('h1')], groups)
    message = str(refused.value)
    assert 'server group app (affinity)' in message
    assert 'a, b' in message
    assert 'skip_unmovable=true' in message


def test_affinity_member_left_behind_blocks_the_other():
    groups = [group('app', 'affinity', ['a', 'b'])]
    with pytest.raises(PlanningRefused) as refused:
        plan([guest('a'), guest('b', excluded=True)], [host('h1')], groups)
    assert 'b stays on node' in str(refused.value)


def test_affinity_blocked_members_stay_with_skip_unmovable():
    groups = [group('app', 'affinity', ['a', 'b'])]
    result = plan([guest('a'), guest('b'), guest('c')], [host('h1')],
                  groups, skip_unmovable=True)
    assert destinations(result) == {'c': 'h1'}
    left = {d.guest.name: d.reason for d in result.with_outcome(Outcome.LEFT)}
    assert set(left) == {'a', 'b'}
    assert 'server group app (affinity)' in left['a']


def test_groups_of_guests_that_stay_are_ignored():
    groups = [group('db', 'anti-affinity', ['db-1', 'db-2'])]
    result = plan([guest('db-1', excluded=True), guest('db-2', excluded=True),
                   guest('x')], [host('h1')], groups)
    assert destinations(result) == {'x': 'h1'}


def test_groups_do_not_change_a_plan_without_members():
    guests = [guest('a'), guest('b', vcpus=4), guest('c', ram=8192)]
    hosts = [host('h1'), host('h2', vcpus=32), host('h3', ram=65536)]
    other = [group('x', 'anti-affinity', (), [('y', 'h1'), ('z', 'h2')])]
    assert plan(guests, hosts, other) == plan(guests, hosts)


# -- properties over random groups ---------------------------------------


@st.composite
def grouped_clusters(draw):
    hosts = [Host('h%d' % i, R(draw(st.integers(2, 8)),
                               draw(st.integers(2, 8)) * 1024, 100),
                  enabled=draw(st.integers(0, 5)) > 0)
             for i in range(draw(st.integers(1, 4)))]
    guests = [guest('g%d' % i, vcpus=draw(st.integers(1, 3)),
                    ram=draw(st.integers(1, 3)) * 1024, disk=10,
                    state=draw(st.sampled_from(['active', 'stopped'])))
              for i in range(draw(st.integers(1, 6)))]
    # Every guest on the node, and a few servers elsewhere, join at most
    # one group, as in Nova.
    names = [g.name for g in guests] + ['o%d' % i for i in range(3)]
    where = {g.name: NODE for g in guests}
    where.update({n: draw(st.sampled_from([h.name for h in hosts]))
                  for n in names if n not in where})
    groups = []
    for i in range(draw(st.integers(0, 3))):
        members = [n for n in names if draw(st.integers(0, 2)) == 0
                   and not any(n in [m.name for m in g.members]
                               for g in groups)]
        if not members:
            continue
        groups.append(ServerGroup(
            'gid-%d' % i, 'grp-%d' % i, draw(st.sampled_from(POLICIES)),
            tuple(Member('uuid-' + n, where[n], n) for n in members),
            draw(st.sampled_from([1, 1, 2]))))
    return hosts, guests, groups


def nova_refusal(groups, location, uuid, destination):
    """What Nova's group filters say about one move, given ``location``
    (uuid -> host) of every member; an independent oracle."""
    for grp in groups:
        if uuid not in [m.uuid for m in grp.members]:
            continue
        others = [location[m.uuid] for m in grp.members
                  if m.uuid != uuid and location.get(m.uuid)]
        if grp.policy == 'anti-affinity' and \
                others.count(destination) >= grp.max_server_per_host:
            return grp.name
        if grp.policy == 'affinity' and set(others) - {destination}:
            return grp.name
    return None


def hard_groups_allow(hosts, guests, groups):
    """True when some assignment of the guests to the hosts passes
    Nova one move at a time (brute force, small clusters only)."""
    location = {m.uuid: m.host for g in groups for m in g.members}
    usable = [h for h in hosts if h.schedulable]
    for choice in itertools.product(usable, repeat=len(guests)):
        used = {h.name: R() for h in usable}
        loc = dict(location)
        ok = True
        for g, h in zip(guests, choice):
            used[h.name] = used[h.name] + g.needs
            if not used[h.name].fits_within(h.free) or \
                    nova_refusal(groups, loc, g.uuid, h.name):
                ok = False
                break
            loc[g.uuid] = h.name
        if ok:
            return True
    return False


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(grouped_clusters())
def test_no_plan_breaks_a_hard_policy_and_refusals_name_the_group(cluster):
    hosts, guests, groups = cluster
    try:
        result = plan(guests, hosts, groups)
    except PlanningRefused as refused:
        message = str(refused)
        try:
            plan(guests, hosts)
        except PlanningRefused:
            return      # capacity alone refuses: nothing to name
        # The groups made the difference: the sentence names one.
        hard = [g for g in groups if g.hard and
                any(m.host == NODE for m in g.members)]
        assert any('server group %s' % g.name in message for g in hard), \
            message
        # Only refused when Nova, one move at a time, allows nothing.
        assert not hard_groups_allow(hosts, guests, groups), message
        return
    # Replay the migrations in the plan's order, as Nova would see them.
    location = {m.uuid: m.host for g in groups for m in g.members}
    for decision in result.migrations:
        blocked = nova_refusal(groups, location, decision.guest.uuid,
                               decision.destination)
        assert blocked is None, (blocked, result.decisions)
        location[decision.guest.uuid] = decision.destination


@settings(max_examples=150, deadline=None)
@given(grouped_clusters())
def test_group_plans_never_overbook(cluster):
    hosts, guests, groups = cluster
    try:
        result = plan(guests, hosts, groups)
    except PlanningRefused:
        return
    load = {}
    for d in result.migrations:
        load[d.destination] = load.get(d.destination, R()) + d.guest.needs
    by_name = {h.name: h for h in hosts}
    for name, need in load.items():
        assert need.fits_within(by_name[name].free)
