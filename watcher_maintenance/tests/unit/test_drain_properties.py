"""Property tests of the drain planner over random clusters."""

import dataclasses
import itertools

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.drain import plan_drain
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.plan import PlanningRefused

NODE = 'node'
REASONS = (None, 'watcher_spare', 'watcher_maintaining', 'rma')


@st.composite
def clusters(draw, max_hosts=5, max_guests=7, spares=True):
    hosts = []
    for i in range(draw(st.integers(1, max_hosts))):
        cap = Resources(draw(st.integers(1, 8)), draw(st.integers(1, 8)) * 512,
                        draw(st.integers(0, 8)) * 10)
        used = Resources(draw(st.integers(0, int(cap.vcpus))),
                         draw(st.integers(0, int(cap.memory_mb) // 512)) * 512,
                         draw(st.integers(0, int(cap.disk_gb) // 10)) * 10)
        enabled = draw(st.booleans()) if i else True
        reason = None if enabled else draw(st.sampled_from(
            REASONS if spares else ('rma',)))
        hosts.append(Host(
            'h%d' % i, cap, used, enabled=enabled, disabled_reason=reason,
            up=draw(st.booleans()) if i else True,
            in_scope=draw(st.booleans()) if i else True,
            zone=draw(st.sampled_from(['az1', 'az2'])),
            guest_count=0 if used == Resources() else 1))
    guests = [Guest('u%d' % i, 'g%d' % i,
                    draw(st.sampled_from(['active', 'active', 'stopped'])),
                    Resources(draw(st.integers(1, 4)),
                              draw(st.integers(1, 4)) * 512,
                              draw(st.integers(0, 3)) * 10),
                    pinned_zone=draw(st.sampled_from([None, None, 'az1',
                                                      'az2'])),
                    excluded=draw(st.integers(0, 9)) == 0)
              for i in range(draw(st.integers(0, max_guests)))]
    node = Host(NODE, Resources(64, 65536, 1000), up=True,
                guest_count=len(guests))
    return node, hosts, guests


def allowed(host, guest):
    return (host.enabled and host.up and host.in_scope
            and (not guest.pinned_zone or guest.pinned_zone == host.zone))


def exhaustive_placement_exists(hosts, guests):
    options = [[h for h in hosts if allowed(h, g)] for g in guests]
    for choice in itertools.product(*options):
        load = {h.name: h.used for h in hosts}
        for host, guest in zip(choice, guests):
            load[host.name] = load[host.name] + guest.needs
        if all(load[h.name].fits_within(h.capacity) for h in hosts):
            return True
    return False


def check_invariants(plan, node, hosts, guests):
    by_name = {h.name: h for h in hosts}
    assert sorted(d.guest.uuid for d in plan.decisions) == sorted(
        g.uuid for g in guests), 'every guest gets exactly one outcome'
    enabled_first = {c.host for c in plan.service_changes if c.enable}
    load = {h.name: h.used for h in hosts}
    for decision in plan.decisions:
        if not decision.outcome.moves:
            continue
        target = by_name[decision.destination]
        assert decision.destination != node.name
        assert not decision.guest.excluded
        assert target.up and target.in_scope
        assert target.enabled or target.name in enabled_first
        if not target.enabled:
            # Only a designated spare is ever enabled by the plan.
            assert target.disabled_reason == 'watcher_spare'
        assert target.disabled_reason != 'watcher_maintaining' or \
            target.enabled
        if decision.guest.pinned_zone:
            assert target.zone == decision.guest.pinned_zone
        load[target.name] = load[target.name] + decision.guest.needs
    for name, used in load.items():
        assert used.fits_within(by_name[name].capacity), \
            '%s is overbooked' % name


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_plans_never_overbook_or_use_forbidden_hosts(cluster):
    node, hosts, guests = cluster
    try:
        plan = plan_drain(NODE, guests, HostList([node] + hosts),
                          DrainOptions())
    except PlanningRefused as refusal:
        assert str(refusal)
        return
    check_invariants(plan, node, hosts, guests)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(clusters(spares=False))
def test_placement_found_iff_exhaustive_search_finds_one(cluster):
    node, hosts, guests = cluster
    movable = [g for g in guests if not g.excluded]
    exists = exhaustive_placement_exists(hosts, movable)
    try:
        plan = plan_drain(NODE, guests, HostList([node] + hosts),
                          DrainOptions(use_spare_nodes=False))
    except PlanningRefused as refusal:
        assert not exists, 'refused a drain that can be placed: %s' % refusal
        return
    assert exists or not movable
    check_invariants(plan, node, hosts, guests)
    assert len(plan.migrations) == len(movable)


@st.composite
def tight_clusters(draw):
    """Few schedulable hosts, guests that nearly fill them: where greedy
    placement gets stuck and the search has to work."""
    hosts = [Host('h%d' % i, Resources(c, c * 1024, 100))
             for i, c in enumerate(draw(st.lists(
                 st.sampled_from([4, 6, 8]), min_size=2, max_size=3)))]
    guests = [Guest('u%d' % i, 'g%d' % i, 'active',
                    Resources(draw(st.integers(1, 5)),
                              draw(st.integers(1, 5)) * 1024, 1))
              for i in range(draw(st.integers(3, 6)))]
    node = Host(NODE, Resources(64, 65536, 1000), guest_count=len(guests))
    return node, hosts, guests


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(tight_clusters())
def test_tight_clusters_are_solved_whenever_possible(cluster):
    node, hosts, guests = cluster
    exists = exhaustive_placement_exists(hosts, guests)
    try:
        plan = plan_drain(NODE, guests, HostList([node] + hosts),
                          DrainOptions(use_spare_nodes=False))
    except PlanningRefused as refusal:
        assert not exists, 'refused a drain that can be placed: %s' % refusal
        return
    assert exists
    check_invariants(plan, node, hosts, guests)


@st.composite
def multi_node_clusters(draw):
    """A tight cluster, two nodes drained together, and one more host of
    the cluster drained with them (its own load leaving too)."""
    node, hosts, guests = draw(tight_clusters())
    second = Host('node-b', Resources(64, 65536, 1000))
    sources = [draw(st.sampled_from([NODE, 'node-b'])) for _ in guests]
    guests = [dataclasses.replace(g, host=s) for g, s in zip(guests, sources)]
    drained = draw(st.sampled_from([None] + [h.name for h in hosts]))
    return node, second, hosts, guests, drained


@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(multi_node_clusters())
def test_several_nodes_are_placed_together_whenever_possible(cluster):
    node, second, hosts, guests, drained = cluster
    names = [NODE, 'node-b'] + ([drained] if drained else [])
    destinations = [h for h in hosts if h.name not in names]
    exists = exhaustive_placement_exists(destinations, guests)
    try:
        plan = plan_drain(names, guests,
                          HostList([node, second] + hosts),
                          DrainOptions(use_spare_nodes=False))
    except PlanningRefused as refusal:
        assert not exists, 'refused a drain that can be placed: %s' % refusal
        return
    assert exists or not guests
    assert {c.host for c in plan.service_changes if not c.enable} == \
        set(names)
    for decision in plan.migrations:
        assert decision.destination not in names, 'moved onto a drained node'
        assert plan.source_of(decision) == decision.guest.host
    check_invariants(plan, node, destinations, guests)
