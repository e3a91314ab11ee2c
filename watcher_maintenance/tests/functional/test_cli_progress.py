"""``--wait`` shows each live migration's progress and the plan's ETA.

Real Watcher services drain a node whose live migrations take time in the
sandbox's Nova. The emulated migrations advance by one second of the
Nova clock each time the command reads a migration's counters, so every
migration is seen at several points on its way, whatever the machine's
load.
"""

import re

from watcher_maintenance.tests.functional import cli_harness
from watcher_maintenance.tests.functional.test_cli_enter import CliTestCase
from watcher_maintenance.tests.functional.test_host_restore import cluster

GiB = 1024 ** 3

SLOW_NODE = cluster(
    [{'name': 'compute-1'}, {'name': 'compute-2'}, {'name': 'compute-3'}],
    [{'name': 'web-{n}', 'count': 2, 'host': 'compute-1',
      'memory_mb': 4096, 'project_id': 'shop'}])

PROGRESS = re.compile(
    r'(?P<guest>web-\d) compute-1 -> compute-\d: (?P<percent>\d+)% of '
    r'4\.0 GiB at (?:[\d.]+ [KMG]?i?B|\?)/s')
ETA = re.compile(r'plan ETA (\d+ (?:s|min|h))')


class SteppedClock:
    """Nova's clock: one second per reading of a migration's counters."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class SteppingCompute:
    """The command's compute client; each ``server_migrations`` call
    first moves Nova's clock a second on."""

    def __init__(self, compute, clock):
        self._compute = compute
        self._clock = clock

    def server_migrations(self, *args, **kwargs):
        self._clock.now += 1.0
        return self._compute.server_migrations(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._compute, name)


class TestWaitProgress(CliTestCase):

    def test_wait_shows_percentages_rates_and_an_eta(self):
        self.load_topology(SLOW_NODE)
        clock = SteppedClock()
        self.nova.clock = clock
        self.set_migration_rate(GiB)         # 4 s per 4 GiB guest
        clients = cli_harness.ClientManager(
            infra_optim=self.clients.infra_optim,
            compute=SteppingCompute(self.clients.compute, clock))
        self.nova_fixture.invalidate_model()
        result = cli_harness.run(clients, 'enter', 'compute-1', '--yes',
                                 '--wait')
        self.assert_exit(0, result)
        self.assertEqual([], self.servers_on('compute-1'))

        lines = [line for line in result.err.splitlines()
                 if PROGRESS.search(line)]
        seen = {}
        for line in lines:
            match = PROGRESS.search(line)
            seen.setdefault(match['guest'], []).append(
                int(match['percent']))
        # Both guests were followed on their way: rising percentages,
        # strictly between 0 and 100 at some reading.
        self.assertEqual({'web-1', 'web-2'}, set(seen), result.err)
        for guest, percents in seen.items():
            self.assertEqual(sorted(percents), percents, guest)
            self.assertTrue(any(0 < p < 100 for p in percents),
                            (guest, percents))
        # Once a migration has been read twice, the plan has an ETA.
        self.assertTrue([line for line in lines if ETA.search(line)],
                        result.err)
        # Data rates are shown once a migration has been read twice.
        self.assertTrue([line for line in lines
                         if re.search(r'at [\d.]+ [KMG]iB/s', line)],
                        result.err)
