"""Plan quality on small, tight clusters, against an exact search.

Each case is a node to drain (3 to 8 guests) and 2 to 5 other hosts
whose free capacity is only a little more than the guests need, in vCPU,
RAM and disk at once. Half the cases are built around a hidden solution
(so they are feasible, usually barely); the other half get random free
capacity near the total demand, and some of those have no solution.

Three planners face each case:

* ``host_drain``'s planning core (``plan_drain``), with ``spread`` and
  with ``pack``;
* nova-style sequential spreading: guests in the node's order, each to
  the host with the most free RAM that still has room (what upstream's
  capacity-blind host_maintenance leaves to nova-scheduler, one
  migration at a time, with no look-ahead);
* an exhaustive search over every assignment, which decides whether the
  case is feasible and finds the best possible balance.

Balance is measured after the drain, over the destination hosts:

* spread: the standard deviation of the hosts' free share (mean over
  vCPU, RAM and disk of free / capacity), in percentage points; lower
  is more even. Distance = planner's value - best possible value.
* pack: the number of hosts that receive guests; fewer is tighter.
  Distance = planner's count - fewest possible.

    python -m benchmarks.bench_quality [--quick] [--cases N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys

from watcher_maintenance.planning import drain
from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.plan import PlanningRefused

NODE = 'node'
# vCPU, RAM MiB, disk GiB
FLAVORS = ((1, 1024, 10), (1, 2048, 20), (2, 2048, 20), (2, 4096, 40),
           (4, 4096, 40), (4, 8192, 80), (8, 8192, 0), (8, 16384, 160))
HOST_TYPES = (Resources(16, 32768, 320), Resources(24, 24576, 240))


def _sub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def make_case(rng: random.Random):
    """One tight case: (guests, hosts) as plain tuples."""
    while True:
        n_guests = rng.randint(3, 8)
        n_hosts = rng.randint(2, 5)
        guests = [rng.choice(FLAVORS) for _ in range(n_guests)]
        caps = [tuple(vars(rng.choice(HOST_TYPES)).values())
                for _ in range(n_hosts)]
        if rng.random() < 0.5:
            # Plant a solution, then leave only a little slack.
            load = [[0, 0, 0] for _ in range(n_hosts)]
            for flavor in guests:
                target = load[rng.randrange(n_hosts)]
                for d in range(3):
                    target[d] += flavor[d]
            free = [tuple(min(c[d], load_h[d] + int(
                c[d] * rng.choice((0, 0, 0.02, 0.05)))) for d in range(3))
                for c, load_h in zip(caps, load)]
            if any(load_h[d] > c[d] for c, load_h in zip(caps, load)
                   for d in range(3)):
                continue
        else:
            need = [sum(f[d] for f in guests) for d in range(3)]
            scale = rng.uniform(0.95, 1.3)
            shares = [rng.random() + 0.2 for _ in range(n_hosts)]
            total = sum(shares)
            free = [tuple(min(c[d], int(need[d] * scale * s / total))
                          for d in range(3))
                    for c, s in zip(caps, shares)]
        return guests, list(zip(caps, free))


def free_share(cap, free):
    return sum(f / c if c > 0 else 0.0 for f, c in zip(free, cap)) / 3


def spread_metric(hosts, free_after):
    shares = [free_share(cap, free) for (cap, _), free in
              zip(hosts, free_after)]
    return statistics.pstdev(shares) * 100


def exhaustive(guests, hosts):
    """Every feasible assignment: (feasible, best spread, fewest hosts)."""
    order = sorted(range(len(guests)), key=lambda i: guests[i], reverse=True)
    free = [list(f) for _, f in hosts]
    used = [0] * len(hosts)
    best = {'spread': None, 'pack': None}

    def descend(k):
        if k == len(order):
            value = spread_metric(hosts, free)
            if best['spread'] is None or value < best['spread']:
                best['spread'] = value
            touched = sum(1 for u in used if u)
            if best['pack'] is None or touched < best['pack']:
                best['pack'] = touched
            return
        g = guests[order[k]]
        for h, room in enumerate(free):
            if g[0] <= room[0] and g[1] <= room[1] and g[2] <= room[2]:
                room[0] -= g[0]
                room[1] -= g[1]
                room[2] -= g[2]
                used[h] += 1
                descend(k + 1)
                used[h] -= 1
                room[0] += g[0]
                room[1] += g[1]
                room[2] += g[2]

    descend(0)
    return best['spread'] is not None, best['spread'], best['pack']


def nova_sequential(guests, hosts):
    """Guests one by one, each to the host with most free RAM and room."""
    free = [list(f) for _, f in hosts]
    placed = []
    for g in guests:
        fits = [h for h, room in enumerate(free)
                if all(g[d] <= room[d] for d in range(3))]
        if not fits:
            return None
        h = max(fits, key=lambda i: (free[i][1], -i))
        for d in range(3):
            free[h][d] -= g[d]
        placed.append(h)
    return placed


def host_drain(guests, hosts, placement):
    """host_drain's core; a host index per guest, or None if refused."""
    planner_hosts = [Host(NODE, Resources(*[sum(g[d] for g in guests)
                                            for d in range(3)]),
                          used=Resources(*[sum(g[d] for g in guests)
                                           for d in range(3)]))]
    for i, (cap, free) in enumerate(hosts):
        planner_hosts.append(Host('h%d' % i, Resources(*cap),
                                  used=Resources(*_sub(cap, free))))
    planner_guests = [Guest('g%d' % i, 'g%d' % i, 'active', Resources(*g))
                      for i, g in enumerate(guests)]
    options = DrainOptions(placement=placement, use_spare_nodes=False)
    try:
        plan = drain.plan_drain(NODE, planner_guests,
                                drain.HostList(planner_hosts), options)
    except PlanningRefused:
        return None
    where = {d.guest.uuid: int(d.destination[1:]) for d in plan.migrations}
    return [where['g%d' % i] for i in range(len(guests))]


def evaluate(guests, hosts, placed):
    """Free capacity after a placement; raises if any host is overfull."""
    free = [list(f) for _, f in hosts]
    for g, h in zip(guests, placed):
        for d in range(3):
            free[h][d] -= g[d]
    if any(v < 0 for room in free for v in room):
        raise AssertionError('overcommitted placement: %s' % free)
    return free, len(set(placed))


def run(cases=5000, seed=5, log=print):
    rng = random.Random(seed)
    names = ('host_drain spread', 'host_drain pack', 'nova sequential')
    solved = dict.fromkeys(names, 0)
    spread_gap = {n: [] for n in ('host_drain spread', 'nova sequential')}
    pack_gap = []
    feasible = infeasible = 0
    false_plans = 0
    for _ in range(cases):
        guests, hosts = make_case(rng)
        ok, best_spread, best_pack = exhaustive(guests, hosts)
        plans = {'host_drain spread': host_drain(guests, hosts, 'spread'),
                 'host_drain pack': host_drain(guests, hosts, 'pack'),
                 'nova sequential': nova_sequential(guests, hosts)}
        if not ok:
            infeasible += 1
            false_plans += sum(1 for p in plans.values() if p is not None)
            continue
        feasible += 1
        for name, placed in plans.items():
            if placed is None:
                continue
            solved[name] += 1
            free, touched = evaluate(guests, hosts, placed)
            if name in spread_gap:
                spread_gap[name].append(spread_metric(hosts, free) -
                                        best_spread)
            else:
                pack_gap.append(touched - best_pack)
    result = {'cases': cases, 'feasible': feasible,
              'infeasible': infeasible, 'plans_on_infeasible': false_plans,
              'solved': {n: solved[n] for n in names},
              'solved_share': {n: round(solved[n] / feasible, 4)
                               for n in names},
              'spread_gap_pp': {
                  n: {'mean': round(statistics.fmean(v), 2),
                      'median': round(statistics.median(v), 2),
                      'optimal_share': round(
                          sum(1 for x in v if x < 1e-9) / len(v), 3)}
                  for n, v in spread_gap.items() if v},
              'pack_gap_hosts': {
                  'mean': round(statistics.fmean(pack_gap), 3),
                  'optimal_share': round(
                      sum(1 for x in pack_gap if x == 0) / len(pack_gap), 3)}
              if pack_gap else {}}
    log('cases %d: %d feasible, %d infeasible (plans made on infeasible '
        'cases: %d)' % (cases, feasible, infeasible, false_plans))
    for n in names:
        log('  %-18s solved %5d / %d = %.2f%%' % (
            n, solved[n], feasible, 100.0 * solved[n] / feasible))
    for n, v in result['spread_gap_pp'].items():
        log('  %-18s spread gap: mean %.2f pp, median %.2f pp, optimal in '
            '%.1f%%' % (n, v['mean'], v['median'],
                        100 * v['optimal_share']))
    if pack_gap:
        log('  host_drain pack    extra hosts: mean %.3f, optimal in %.1f%%'
            % (result['pack_gap_hosts']['mean'],
               100 * result['pack_gap_hosts']['optimal_share']))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='1,000 cases instead of 5,000')
    parser.add_argument('--cases', type=int)
    parser.add_argument('--seed', type=int, default=5)
    args = parser.parse_args(argv)
    cases = args.cases or (1000 if args.quick else 5000)
    run(cases, args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
