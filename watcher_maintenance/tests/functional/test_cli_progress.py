"""``--wait`` shows each live migration's progress and the plan's ETA.

Real Watcher services drain a node whose live migrations take time in the
sandbox's Nova. The emulated migrations advance by one second of the
Nova clock each time the command reads a migration's counters, so every
migration is seen at several points on its way, whatever the machine's
load.
"""

import re

from watcher_maintenance.tests.functional import cli_harness
from watcher_maintenance.tests.functional import test_cli_roll
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


class SlowMigrations:
    """For a test case with ``self.clients``: run a command while live
    migrations take time, and check what it showed."""

    def run_slowly(self, name, *argv):
        """The command, with live migrations taking 4 s of Nova's clock
        per 4 GiB guest and the clock moving a second per reading."""
        self.load_topology(SLOW_NODE)
        clock = SteppedClock()
        self.nova.clock = clock
        self.set_migration_rate(GiB)
        clients = cli_harness.ClientManager(
            infra_optim=self.clients.infra_optim,
            compute=SteppingCompute(self.clients.compute, clock))
        self.nova_fixture.invalidate_model()
        return cli_harness.run(clients, name, *argv)

    def assert_followed(self, result, guests):
        lines = [line for line in result.err.splitlines()
                 if PROGRESS.search(line)]
        seen = {}
        for line in lines:
            match = PROGRESS.search(line)
            seen.setdefault(match['guest'], []).append(
                int(match['percent']))
        # Every guest was followed on its way: rising percentages,
        # strictly between 0 and 100 at some reading.
        self.assertEqual(set(guests), set(seen), result.err)
        for guest, percents in seen.items():
            self.assertEqual(sorted(percents), percents, guest)
            self.assertTrue(any(0 < p < 100 for p in percents),
                            (guest, percents))
        # Once a migration has been read twice, the plan has an ETA and
        # the migration a data rate.
        self.assertTrue([line for line in lines if ETA.search(line)],
                        result.err)
        self.assertTrue([line for line in lines
                         if re.search(r'at [\d.]+ [KMG]iB/s', line)],
                        result.err)


class TestWaitProgress(SlowMigrations, CliTestCase):

    def test_wait_shows_percentages_rates_and_an_eta(self):
        result = self.run_slowly('enter', 'compute-1', '--yes', '--wait')
        self.assert_exit(0, result)
        self.assertEqual([], self.servers_on('compute-1'))
        self.assert_followed(result, ['web-1', 'web-2'])


class TestRollProgress(SlowMigrations, test_cli_roll.RollTestCase):

    def test_roll_shows_them_for_each_plan(self):
        result = self.run_slowly('roll', 'compute-1', '--yes',
                                 '--return-guests', 'drained')
        self.assertEqual(0, result.code, result.text)
        self.assertEqual(['web-1', 'web-2'], self.servers_on('compute-1'))
        # The drain's migrations and the return's were both followed.
        self.assert_followed(result, ['web-1', 'web-2'])
        returns = [line for line in result.err.splitlines()
                   if re.search(r'web-\d compute-\d -> compute-1: ', line)]
        self.assertTrue(returns, result.err)
