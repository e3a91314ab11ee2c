"""Campaign speed: a 10-node drain, and a 1,000-host roll pre-check.

    python -m benchmarks.bench_campaign

Both are measured against the one-node drain, in the same process:

* ``host_drain`` with ``maintenance_nodes`` (ten nodes of 20 guests)
  against ``maintenance_node`` (one of them), on the 10,000-host model
  the speed benchmark uses. Target: under 1 s.
* ``planning.campaign.plan_campaign`` over 1,000 hosts of that model,
  batches of one, guests returned, against one one-node drain of the
  core on the same hosts. Target: under 30 s.

Writes ``doc/source/bench_campaign.inc`` (included by the benchmarks
page) and ``doc/source/_static/bench_campaign.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, 'doc', 'source')
HOSTS = 10000
NODES = 10
NODE_GUESTS = 20
ROLL_HOSTS = 1000
DRAIN_TARGET_S = 1.0
PRECHECK_TARGET_S = 30.0


def _median_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(log=print):
    from benchmarks import cluster
    from watcher_maintenance.cli import inventory
    from watcher_maintenance.planning import campaign
    from watcher_maintenance.planning import drain

    builder = cluster.ClusterBuilder(seed=1)
    builder.add_cloud(HOSTS)
    nodes = ['%s-%d' % (cluster.NODE_NAME, i) for i in range(NODES)]
    for name in nodes:
        node = builder.add_host(name, cores=128, memory_mb=20 * 32768 + 8192,
                                disk_gb=4000)
        builder.fill(node, NODE_GUESTS)
    drain_cls, _ = cluster.strategies()

    def one():
        cluster.time_execute(drain_cls, builder.model,
                             {'maintenance_node': nodes[0]})

    def ten():
        cluster.time_execute(drain_cls, builder.model,
                             {'maintenance_nodes': nodes})

    one(), ten()    # imports and first-run costs
    one_s, ten_s = _median_seconds(one, 5), _median_seconds(ten, 5)
    log('drain: one node %.0f ms, %d nodes %.0f ms' % (
        one_s * 1000, NODES, ten_s * 1000))

    # The pre-check reads Watcher's model as the data-model API lists it.
    rows = builder.model.to_list()
    hosts, guests = inventory.from_data_model(rows)
    # Hosts in service: a down host cannot be drained, as in a real roll.
    hosts = sorted((h for h in hosts if h.schedulable),
                   key=lambda h: h.name)[:ROLL_HOSTS]
    names = [h.name for h in hosts]
    listing = drain.HostList(hosts)

    def single():
        drain.plan_drain(names[0], guests[names[0]], listing)

    def precheck():
        campaign.plan_campaign(names, hosts, guests, return_guests=True)

    single_s = _median_seconds(single, 5)
    precheck_s = _median_seconds(precheck, 1)
    log('pre-check: %d hosts %.1f s (one-node drain %.1f ms)' % (
        ROLL_HOSTS, precheck_s, single_s * 1000))
    return {'hosts': HOSTS, 'nodes': NODES, 'node_guests': NODE_GUESTS,
            'one_node_ms': round(one_s * 1000, 1),
            'ten_nodes_ms': round(ten_s * 1000, 1),
            'roll_hosts': ROLL_HOSTS,
            'single_drain_ms': round(single_s * 1000, 2),
            'precheck_s': round(precheck_s, 2)}


TEMPLATE = '''\
Campaigns
---------

Measured by ``python -m benchmarks.bench_campaign`` (also run by
``tox -e bench``), each against the one-node drain in the same process.

Several nodes in one drain: ``host_drain`` on the {hosts:,}-host model,
{nodes} nodes of {node_guests} guests each (``maintenance_nodes``), against
one of them (``maintenance_node``); median of five runs.

{drain_table}

Target: under {drain_target:g} s: {drain_met}.

Roll pre-check: ``planning.campaign.plan_campaign`` over {roll_hosts:,}
hosts of that model (batches of one, guests returned), against one
one-node drain of the same hosts.

{roll_table}

Target: under {precheck_target:g} s: {precheck_met}.
'''


def render(result):
    from benchmarks import run as bench_run
    drain_table = bench_run._table(
        ('drain', 'ms', 'ratio to one node'),
        [('one node', '%.0f' % result['one_node_ms'], '1.00'),
         ('%d nodes' % result['nodes'], '%.0f' % result['ten_nodes_ms'],
          '%.2f' % (result['ten_nodes_ms'] / result['one_node_ms']))])
    roll_table = bench_run._table(
        ('planning', 'seconds', 'ratio to one drain'),
        [('one-node drain', '%.4f' % (result['single_drain_ms'] / 1000),
          '1'),
         ('%d-host pre-check' % result['roll_hosts'],
          '%.2f' % result['precheck_s'],
          '%.0f' % (result['precheck_s'] * 1000
                    / result['single_drain_ms']))])
    return TEMPLATE.format(
        drain_table=drain_table, roll_table=roll_table,
        drain_target=DRAIN_TARGET_S, precheck_target=PRECHECK_TARGET_S,
        drain_met='met' if result['ten_nodes_ms'] < DRAIN_TARGET_S * 1000
        else 'not met',
        precheck_met='met' if result['precheck_s'] < PRECHECK_TARGET_S
        else 'not met', **result)


def write(result):
    with open(os.path.join(DOC, '_static', 'bench_campaign.json'),
              'w') as out:
        json.dump(result, out, indent=1)
    with open(os.path.join(DOC, 'bench_campaign.inc'), 'w') as out:
        out.write(render(result))


def main():
    sys.path.insert(0, ROOT)
    import warnings
    warnings.simplefilter('ignore')
    write(run())
    print('wrote doc/source/bench_campaign.inc')
    return 0


if __name__ == '__main__':
    sys.exit(main())
