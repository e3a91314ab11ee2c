"""``watcher-maintenance sandbox serve``, used as a person would use it.

The served sandbox runs in its own process; the tests read its exports,
then run the real ``openstack`` command (python-openstackclient with
python-watcherclient and this package's commands) against it, and read
Nova back over HTTP.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import fixtures
import requests
import testtools

from watcher_maintenance.sandbox import serve

BIN = pathlib.Path(sys.executable).parent
# Upper bound for one command on a loaded machine; they wait on state.
TIMEOUT = 300


class Served:
    """A ``sandbox serve`` process, ready when it printed its exports."""

    def __init__(self):
        self.process = subprocess.Popen(
            [str(BIN / 'watcher-maintenance'), 'sandbox', 'serve'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.env = dict(os.environ)
        for line in self.process.stdout:
            if line.startswith('export '):
                name, _, value = line[len('export '):].strip().partition('=')
                self.env[name] = value
            if line.startswith(serve.READY):
                break
        else:
            raise AssertionError('sandbox serve ended before it was ready')
        self.nova = self.env['OS_COMPUTE_ENDPOINT_OVERRIDE']

    def openstack(self, *argv, **kwargs):
        return subprocess.run([str(BIN / 'openstack'), *argv], env=self.env,
                              capture_output=True, text=True,
                              timeout=TIMEOUT, **kwargs)

    def servers_on(self, host):
        body = requests.get(self.nova + '/servers/detail',
                            params={'all_tenants': 1, 'host': host},
                            timeout=60).json()
        return sorted(s['name'] for s in body['servers']
                      if s['OS-EXT-SRV-ATTR:host'] == host)

    def service(self, host):
        body = requests.get(self.nova + '/os-services',
                            params={'host': host, 'binary': 'nova-compute'},
                            timeout=60).json()
        return body['services'][0]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=TIMEOUT)


class TestSandboxServe(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if shutil.which('openstack', path=str(BIN)) is None:
            self.skipTest('python-openstackclient is not installed')
        self.served = Served()
        self.addCleanup(self.served.stop)

    def test_openstack_commands_work_against_the_served_sandbox(self):
        goals = self.served.openstack('optimize', 'goal', 'list')
        self.assertEqual(0, goals.returncode, goals.stderr)
        self.assertIn('cluster_maintenance', goals.stdout)

        self.assertNotEqual([], self.served.servers_on('compute-03'))
        entered = self.served.openstack('optimize', 'maintenance', 'enter',
                                        'compute-03', '--yes', '--wait')
        self.assertEqual(0, entered.returncode, entered.stderr)
        self.assertIn('Drain of compute-03 done', entered.stdout)
        self.assertEqual([], self.served.servers_on('compute-03'))
        self.assertEqual('watcher_maintaining',
                         self.served.service('compute-03')['disabled_reason'])

        self.assertEqual(0, self.served.stop())

    def test_a_killed_roll_carries_on_when_run_again(self):
        calls = pathlib.Path(self.useFixture(
            fixtures.TempDir()).path) / 'calls'
        # The maintenance command records its host; for compute-02 it
        # then waits to be killed.
        script = ('import pathlib, sys, time; '
                  'pathlib.Path(sys.argv[2]).open("a").write(sys.argv[1] '
                  '+ "\\n"); time.sleep(600 if sys.argv[1] == "compute-02" '
                  'and not pathlib.Path(sys.argv[2] + ".resumed").exists() '
                  'else 0)')
        command = '%s -c \'%s\' {host} %s' % (sys.executable, script, calls)
        argv = ['optimize', 'maintenance', 'roll', 'compute-01',
                'compute-02', 'compute-05', '--exec', command, '--yes']
        first = subprocess.Popen([str(BIN / 'openstack'), *argv],
                                 env=self.served.env,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 start_new_session=True)
        deadline = time.monotonic() + TIMEOUT
        while 'compute-02' not in (calls.read_text() if calls.exists()
                                   else ''):
            self.assertIsNone(first.poll(), 'roll ended early')
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        # The operator's laptop dies in the middle of compute-02.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=TIMEOUT)
        self.assertEqual('enabled',
                         self.served.service('compute-01')['status'])
        self.assertEqual('watcher_maintaining',
                         self.served.service('compute-02')['disabled_reason'])

        pathlib.Path(str(calls) + '.resumed').write_text('')
        second = self.served.openstack(*argv)
        self.assertEqual(0, second.returncode, second.stderr)
        self.assertIn('1 host(s) done earlier (compute-01)', second.stdout)
        self.assertEqual(['compute-01', 'compute-02', 'compute-02',
                          'compute-05'], calls.read_text().split())
        for host in ('compute-01', 'compute-02', 'compute-05'):
            self.assertEqual('enabled', self.served.service(host)['status'])
