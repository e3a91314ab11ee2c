"""Planning speed: host_drain against Watcher's host_maintenance.

Both strategies run ``do_execute`` on the same ``ModelRoot``, alternating
(A B, then B A, ...) in one process, so drifts in machine load hit both.
Upstream runs without a backup node: that is its capacity-blind path,
which leaves every placement to nova-scheduler at execution time.

Also measured: how host_drain's time grows with the number of guests on
the drained node, on the largest cloud; and what server groups cost,
with each guest of the node paired with a soft-anti-affinity partner on
another host, against the same drain without groups (target: within
``GROUP_TARGET``).

    python -m benchmarks.bench_speed [--quick]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time

from benchmarks import cluster
from watcher_maintenance import names

FULL_HOSTS = (100, 300, 1000, 3000, 10000)
QUICK_HOSTS = (100, 1000, 10000)
FULL_NODE_GUESTS = (10, 20, 50, 100, 200, 500)
QUICK_NODE_GUESTS = (20, 100, 500)
GROUP_NODE_GUESTS = (20, 500)
# Server groups may cost this much over the same drain without them.
GROUP_TARGET = 1.2


def _repeats(hosts, quick):
    if quick:
        return 3 if hosts >= 10000 else 5
    return 11 if hosts >= 10000 else 21


def check_plan(model, strategy, node_name):
    """The plan moves every guest to a named host with room for it."""
    node = model.get_node_by_name(node_name)
    free = {}
    instances = {i.uuid: i for i in model.get_node_instances(node)}
    moves = [a for a in strategy.solution.actions
             if a['action_type'] == names.MIGRATE]
    if len(moves) != len(instances):
        raise AssertionError('host_drain moved %d of %d guests' % (
            len(moves), len(instances)))
    nodes = {n.hostname: n for n in model.get_all_compute_nodes().values()}
    for action in moves:
        params = action['input_parameters']
        dest = nodes[params['destination_node']]
        if dest.hostname not in free:
            left = model.get_node_free_resources(dest)
            free[dest.hostname] = [left['vcpu'], left['memory'],
                                   left['disk']]
        instance = instances[params['resource_id']]
        room = free[dest.hostname]
        room[0] -= instance.vcpus
        room[1] -= instance.memory
        room[2] -= instance.disk
        if min(room) < 0:
            raise AssertionError('%s over capacity: %s' % (dest.hostname,
                                                           room))


def compare(model, guests, repeats, params=None):
    """Median times (ms) of both strategies on one model."""
    drain_cls, upstream_cls = cluster.strategies()
    params = params or {'maintenance_node': cluster.NODE_NAME}
    times = {drain_cls: [], upstream_cls: []}
    # One run each first: imports, plugin loading, and the plan check.
    _, strategy = cluster.time_execute(drain_cls, model, params)
    check_plan(model, strategy, cluster.NODE_NAME)
    cluster.time_execute(upstream_cls, model, params)
    gc.collect()
    gc.disable()
    try:
        for i in range(repeats):
            pair = (drain_cls, upstream_cls) if i % 2 == 0 else (
                upstream_cls, drain_cls)
            for cls in pair:
                elapsed, _ = cluster.time_execute(cls, model, params)
                times[cls].append(elapsed * 1000)
    finally:
        gc.enable()
    drain = statistics.median(times[drain_cls])
    upstream = statistics.median(times[upstream_cls])
    return {'guests': guests, 'repeats': repeats,
            'host_drain_ms': round(drain, 2),
            'host_maintenance_ms': round(upstream, 2),
            'ratio': round(drain / upstream, 3),
            'host_drain_all_ms': [round(t, 2) for t in times[drain_cls]],
            'host_maintenance_all_ms': [round(t, 2)
                                        for t in times[upstream_cls]]}


def compare_groups(builder, repeats):
    """Median times (ms) of host_drain with and without server groups,
    alternating in one process; groups are checked to be kept."""
    drain_cls, _ = cluster.strategies()
    params = {'maintenance_node': cluster.NODE_NAME}
    groups = cluster.partner_groups(builder)
    model = builder.model
    _, strategy = cluster.time_execute(drain_cls, model, params, groups)
    check_plan(model, strategy, cluster.NODE_NAME)
    partners = {g['members'][0]: g['members'][1] for g in groups}
    split = sum(
        1 for a in strategy.solution.actions
        if a['action_type'] == names.MIGRATE
        and a['input_parameters']['destination_node'] !=
        model.get_node_by_instance_uuid(
            partners[a['input_parameters']['resource_id']]).hostname)
    times = {True: [], False: []}
    for i in range(repeats):
        for with_groups in ((True, False) if i % 2 == 0 else (False, True)):
            # Each run starts from a collected heap, so that neither pays
            # for the other's garbage.
            gc.collect()
            gc.disable()
            try:
                elapsed, _ = cluster.time_execute(
                    drain_cls, model, params, groups if with_groups else ())
            finally:
                gc.enable()
            times[with_groups].append(elapsed * 1000)
    grouped = statistics.median(times[True])
    plain = statistics.median(times[False])
    return {'node_guests': len(groups), 'repeats': repeats,
            'with_groups_ms': round(grouped, 2),
            'without_groups_ms': round(plain, 2),
            'ratio': round(grouped / plain, 3),
            'within_target': grouped / plain <= GROUP_TARGET,
            'partners_apart': split}


def run(quick=False, log=print):
    sizes = QUICK_HOSTS if quick else FULL_HOSTS
    node_guests = QUICK_NODE_GUESTS if quick else FULL_NODE_GUESTS
    by_hosts, by_node_guests = [], []
    builder = None
    for hosts in sizes:
        builder = None
        gc.collect()
        start = time.perf_counter()
        builder = cluster.build_cloud(hosts)
        built = time.perf_counter() - start
        row = compare(builder.model, builder.guests, _repeats(hosts, quick))
        row.update(hosts=hosts, build_s=round(built, 1))
        by_hosts.append(row)
        log('hosts=%-6d guests=%-7d host_drain %8.1f ms  host_maintenance '
            '%8.1f ms  ratio %.2f' % (hosts, builder.guests,
                                      row['host_drain_ms'],
                                      row['host_maintenance_ms'],
                                      row['ratio']))
    # Guests on the drained node, on the largest cloud built above.
    for count in node_guests:
        cluster.replace_drain_node(builder, count)
        row = compare(builder.model, builder.guests, 3 if quick else 7)
        row.update(hosts=sizes[-1], node_guests=count)
        by_node_guests.append(row)
        log('node guests=%-4d (hosts=%d) host_drain %8.1f ms  '
            'host_maintenance %8.1f ms' % (count, sizes[-1],
                                           row['host_drain_ms'],
                                           row['host_maintenance_ms']))
    with_groups = []
    for count in GROUP_NODE_GUESTS:
        cluster.replace_drain_node(builder, count)
        row = compare_groups(builder, 5 if quick else 11)
        row.update(hosts=sizes[-1])
        with_groups.append(row)
        log('server groups, node guests=%-4d (hosts=%d) with %8.1f ms  '
            'without %8.1f ms  ratio %.2f%s' % (
                count, sizes[-1], row['with_groups_ms'],
                row['without_groups_ms'], row['ratio'],
                '' if row['within_target'] else '  OVER TARGET'))
    return {'by_hosts': by_hosts, 'by_node_guests': by_node_guests,
            'with_groups': with_groups, 'group_target': GROUP_TARGET}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='fewer sizes and repeats (about a minute)')
    args = parser.parse_args(argv)
    run(args.quick)
    return 0


if __name__ == '__main__':
    sys.exit(main())
