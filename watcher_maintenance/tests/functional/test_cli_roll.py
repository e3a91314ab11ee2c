"""``openstack optimize maintenance roll`` against real Watcher services.

A campaign runs its audits one after another inside one command. Watcher
learns of moves from Nova's notifications, which the sandbox does not
send, so the tests rebuild Watcher's model before each audit the command
creates, as a real cloud's notifications would keep it.
"""

import json
import pathlib
import sys

import fixtures

from watcher_maintenance.cli import roll
from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud
from watcher_maintenance.tests.functional import cli_harness


def six_hosts():
    """compute-1 to -6 with one guest each (vm-1 to vm-6), and an empty
    compute-7."""
    cloud = Cloud(host=SMALL_HOST)
    for n in range(1, 8):
        cloud.hosts('compute-%d' % n)
    for n in range(1, 7):
        cloud.guests_on('compute-%d' % n, 'vm-%d' % n)
    return cloud.topology()


SIX_HOSTS = six_hosts()


class RollTestCase(testing.SandboxTestCase):

    def setUp(self):
        super().setUp()
        watcher = cli_harness.watcher(self.api_fixture.endpoint)
        create = watcher.audit.create

        def create_on_a_fresh_model(**fields):
            self.nova_fixture.invalidate_model()
            return create(**fields)

        watcher.audit.create = create_on_a_fresh_model
        self.clients = cli_harness.ClientManager(
            infra_optim=watcher,
            compute=cli_harness.compute(self.nova_fixture.nova_url))
        self.calls = pathlib.Path(self.useFixture(
            fixtures.TempDir()).path) / 'calls'

    def recorder(self, fail_on=None):
        """An --exec command that appends its host to a file (and fails
        for ``fail_on`` while a marker file exists)."""
        script = ('import pathlib, sys; host = sys.argv[1]; '
                  'calls = pathlib.Path(sys.argv[2]); '
                  'fail = pathlib.Path(sys.argv[2] + ".fail"); '
                  'calls.open("a").write(host + "\\n"); '
                  'sys.exit(3 if fail.exists() and host == %r else 0)'
                  % fail_on)
        return '%s -c %s {host} %s' % (sys.executable,
                                       json.dumps(script), self.calls)

    def roll(self, *argv):
        self.nova_fixture.invalidate_model()
        return cli_harness.run(self.clients, 'roll', *argv)

    def exec_calls(self):
        if not self.calls.exists():
            return []
        return self.calls.read_text().split()


class TestRoll(RollTestCase):

    def test_six_hosts_two_at_a_time_with_a_command_per_host(self):
        self.load_topology(SIX_HOSTS)
        hosts = ['compute-%d' % n for n in range(1, 7)]
        result = self.roll(*hosts, '--max-unavailable', '2', '--exec',
                           self.recorder(), '--return-guests', 'drained',
                           '--yes', '-f', 'json')
        self.assertEqual(0, result.code, result.text)
        document = json.loads(result.out)
        self.assertEqual([['compute-1', 'compute-2'],
                          ['compute-3', 'compute-4'],
                          ['compute-5', 'compute-6']],
                         [b['hosts'].split(', ')
                          for b in document['batches']])
        self.assertEqual(hosts, self.exec_calls())
        self.assertIn('6/6 host(s) done', result.err)
        rows = {r['host']: r for r in document['hosts']}
        for name in hosts:
            self.assertEqual('done', rows[name]['result'])
            self.assertEqual(1, rows[name]['guests moved'])
            self.assertEqual('enabled', self.service(name)['status'])
        # Every guest went back home when its host left maintenance.
        for n in range(1, 7):
            self.assertEqual('compute-%d' % n, self.host_of('vm-%d' % n))
        self.assert_no_overcommit()

    def test_a_failed_command_stops_and_the_same_command_carries_on(self):
        self.load_topology(SIX_HOSTS)
        hosts = ['compute-%d' % n for n in range(1, 5)]
        marker = pathlib.Path(str(self.calls) + '.fail')
        marker.write_text('')
        command = self.recorder(fail_on='compute-3')
        first = self.roll(*hosts, '--exec', command, '--yes')
        self.assertEqual(1, first.code, first.text)
        self.assertIn('exited with 3', first.err)
        self.assertIn('run the same command again', first.err)
        self.assertEqual(['compute-1', 'compute-2', 'compute-3'],
                         self.exec_calls())
        # Done hosts are back; the failed one stays in maintenance.
        self.assertEqual('enabled', self.service('compute-2')['status'])
        self.assertEqual('watcher_maintaining',
                         self.service('compute-3')['disabled_reason'])
        self.assertEqual([], self.servers_on('compute-3'))

        marker.unlink()
        second = self.roll(*hosts, '--exec', command, '--yes')
        self.assertEqual(0, second.code, second.text)
        self.assertIn('2 host(s) done earlier (compute-1, compute-2)',
                      second.out)
        # Only the hosts not done are maintained again.
        self.assertEqual(['compute-1', 'compute-2', 'compute-3',
                          'compute-3', 'compute-4'], self.exec_calls())
        for name in hosts:
            self.assertEqual('enabled', self.service(name)['status'])
        self.assert_no_overcommit()

    def test_a_campaign_that_cannot_fit_is_refused_before_anything(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'big-1', vcpus=8)
            .guests_on('compute-2', 'big-2', vcpus=8)
            .guests_on('compute-3', 'big-3', vcpus=8).topology())
        result = self.roll('compute-1', 'compute-2', '--exec',
                           self.recorder(), '--yes')
        self.assertEqual(1, result.code, result.text)
        self.assertIn('Nothing was started. The campaign cannot fit: '
                      'cannot drain compute-1', result.err)
        self.assertEqual([], self.exec_calls())
        self.assertEqual('enabled', self.service('compute-1')['status'])
        self.assertEqual([], self.admin_api.get(
            '/audits').json()['audits'])

    def test_dry_run_shows_the_batches_and_starts_nothing(self):
        self.load_topology(SIX_HOSTS)
        result = self.roll('compute-1', 'compute-2', 'compute-3',
                           '--max-unavailable', '2', '--dry-run')
        self.assertEqual(0, result.code, result.text)
        self.assertIn('Campaign %s' % roll.campaign_id(
            ['compute-1', 'compute-2', 'compute-3']), result.out)
        self.assertIn('compute-1, compute-2', result.out)
        self.assertIn('compute-1, compute-2: 2 guest(s) to move', result.out)
        self.assertEqual([], self.admin_api.get(
            '/audits').json()['audits'])

    def test_hosts_of_a_zone(self):
        self.load_topology(
            Cloud(host=SMALL_HOST)
            .hosts('compute-1', availability_zone='az-1')
            .hosts('compute-2', availability_zone='az-2')
            .hosts('compute-3', availability_zone='az-1')
            .hosts('compute-4', availability_zone='az-2')
            .guests_on('compute-1', 'vm-1').topology())
        result = self.roll('--zone', 'az-1', '--dry-run', '-f', 'json')
        self.assertEqual(0, result.code, result.text)
        self.assertEqual(['compute-1', 'compute-3'], [
            b['hosts'] for b in json.loads(result.out)['batches']])
        unknown = self.roll('--zone', 'az-9', '--dry-run')
        self.assertEqual(1, unknown.code)
        self.assertIn('No compute host is in availability zone az-9',
                      unknown.err)

    def test_hosts_are_named_one_way_only(self):
        self.load_topology(SIX_HOSTS)
        result = self.roll('compute-1', '--zone', 'nova', '--dry-run')
        self.assertEqual(1, result.code)
        self.assertIn('Name the hosts to maintain in one way', result.err)
