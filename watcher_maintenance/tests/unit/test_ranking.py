"""The placer's bounded scan chooses what a comparison of every host
chooses, for every ranking, server-group preferences included
(``weighers.Ranking``)."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from watcher_maintenance.planning import constraints
from watcher_maintenance.planning import groups as server_groups
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning import weighers
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Member
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ServerGroup
from watcher_maintenance.planning.placement import Placer

NODE = 'node'
POLICIES = ('soft-anti-affinity', 'soft-affinity', 'anti-affinity')


@st.composite
def drains(draw):
    hosts = [Host('h%02d' % i, Resources(draw(st.sampled_from((8, 16))),
                                         draw(st.sampled_from((8192,
                                                               16384))),
                                         200),
                  Resources(draw(st.integers(0, 6)),
                            draw(st.integers(0, 6)) * 1024, 0))
             for i in range(draw(st.integers(2, 12)))]
    guests = [Guest('g%02d' % i, 'g%02d' % i, 'active',
                    Resources(draw(st.integers(1, 3)),
                              draw(st.integers(1, 3)) * 1024, 10))
              for i in range(draw(st.integers(1, 8)))]
    groups = []
    for i in range(draw(st.integers(0, 4))):
        members = draw(st.lists(st.sampled_from(guests), min_size=1,
                                max_size=3, unique=True))
        elsewhere = draw(st.lists(st.sampled_from(hosts), max_size=2))
        groups.append(ServerGroup(
            'sg%d' % i, 'sg%d' % i, draw(st.sampled_from(POLICIES)),
            tuple(Member(g.uuid, NODE, g.name) for g in members) +
            tuple(Member('other-%d-%d' % (i, j), h.name)
                  for j, h in enumerate(elsewhere)),
            draw(st.integers(1, 2))))
    placement = draw(st.sampled_from(weighers.PLACEMENTS))
    return hosts, guests, groups, placement


def full_scan(placer, guests, hosts):
    """The greedy pass the placer's bounded scan must match: each guest,
    largest first, to the host with the smallest key of all."""
    free = {h.name: h.free for h in hosts}
    if placer.groups is not None:
        placer.groups.reset()
    chosen = {}
    for guest in ordering.largest_first(guests):
        fitting = [h for h in hosts
                   if all(r.passes(h, guest, free[h.name])
                          for r in placer.static_rules + placer.dynamic_rules)]
        if not fitting:
            return None
        best = min(fitting, key=lambda h: placer.rank(h, guest, free[h.name]))
        chosen[guest.uuid] = best.name
        free[best.name] = free[best.name] - guest.needs
        if placer.groups is not None:
            placer.groups.take(best.name, guest)
    return chosen


@settings(max_examples=300, deadline=None)
@given(drains())
def test_bounded_scan_matches_a_full_comparison(drain):
    hosts, guests, groups, placement = drain
    state = server_groups.GroupState.for_drain(NODE, groups, guests)
    rules = constraints.destination_rules(NODE)
    rank = weighers.ranking_key(placement)
    if state is not None:
        rules += constraints.group_rules(state)
        rank = state.preferring(rank)
    placer = Placer(rules, rank, groups=state)
    if state is not None:
        state.reset()
    greedy, stuck = placer._greedy(ordering.largest_first(guests), hosts,
                                   {h.name: h.free for h in hosts})
    expected = full_scan(placer, guests, hosts)
    if expected is None:
        assert stuck
    else:
        assert not stuck
        assert greedy == expected
