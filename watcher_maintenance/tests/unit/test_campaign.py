"""A rolling campaign played through the drain planner before it starts."""

import pytest

from watcher_maintenance.planning import campaign
from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.plan import PlanningRefused


def cloud(spec):
    """{host: [guest vCPUs]} on 8-vCPU hosts -> (hosts, guests)."""
    hosts, guests = [], {}
    for name, sizes in spec.items():
        on_node = [Guest('%s-%d' % (name, i), '%s-%d' % (name, i), 'active',
                         Resources(v, 1024 * v, 10))
                   for i, v in enumerate(sizes)]
        used = Resources(sum(sizes), 1024 * sum(sizes), 10 * len(sizes))
        hosts.append(Host(name, Resources(8, 8192, 200), used,
                          guest_count=len(sizes)))
        guests[name] = on_node
    return hosts, guests


def test_batches_follow_the_listed_order_where_they_fit():
    hosts, guests = cloud({'c1': [2], 'c2': [2], 'c3': [2], 'c4': [2],
                           'c5': []})
    plan = campaign.plan_campaign(['c1', 'c2', 'c3', 'c4'], hosts, guests,
                                  max_unavailable=2)
    assert [b.nodes for b in plan.batches] == [('c1', 'c2'), ('c3', 'c4')]
    assert not plan.reordered
    for batch in plan.batches:
        for decision in batch.plan.migrations:
            assert decision.destination not in batch.nodes


def test_guests_left_where_a_batch_put_them_count_for_the_next():
    # c1's 6-vCPU guest fits only on c2 once c2 has been emptied, and
    # its guests stay where they went (no return).
    hosts, guests = cloud({'c1': [6], 'c2': [4, 2], 'c3': [4], 'c4': [4]})
    plan = campaign.plan_campaign(['c1', 'c2'], hosts, guests)
    assert [b.nodes for b in plan.batches] == [('c2',), ('c1',)]
    assert plan.reordered
    [move] = plan.batches[1].plan.migrations
    assert move.destination == 'c2'


def test_a_batch_shrinks_to_what_fits_at_once():
    # Three 4-vCPU guests cannot leave c1, c2 and c3 at once (c4 has
    # room for one); two can, with c3 still in service.
    hosts, guests = cloud({'c1': [4], 'c2': [4], 'c3': [4], 'c4': [4]})
    plan = campaign.plan_campaign(['c1', 'c2', 'c3'], hosts, guests,
                                  max_unavailable=3, return_guests=True)
    assert [b.nodes for b in plan.batches] == [('c1', 'c2'), ('c3',)]


def test_a_node_that_fits_in_no_batch_is_refused_up_front():
    # No host ever has room for c2's 8-vCPU guest.
    hosts, guests = cloud({'c1': [2], 'c2': [8], 'c3': [1]})
    with pytest.raises(PlanningRefused) as refused:
        campaign.plan_campaign(['c1', 'c2'], hosts, guests,
                               options=DrainOptions(use_spare_nodes=False),
                               return_guests=True)
    message = refused.value.message
    assert message.startswith('The campaign cannot fit: after c1, ')
    assert 'c2' in message and '8 vCPU' in message


def test_unknown_nodes_and_bad_sizes_are_refused_in_words():
    hosts, guests = cloud({'c1': [2], 'c2': []})
    with pytest.raises(PlanningRefused, match='c9 is not a compute host'):
        campaign.plan_campaign(['c1', 'c9'], hosts, guests)
    with pytest.raises(PlanningRefused, match='at least 1'):
        campaign.plan_campaign(['c1'], hosts, guests, max_unavailable=0)
    with pytest.raises(PlanningRefused, match='listed more than once'):
        campaign.plan_campaign(['c1', 'c1'], hosts, guests)
