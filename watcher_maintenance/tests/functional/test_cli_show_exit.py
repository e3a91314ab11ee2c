"""``show`` and ``exit`` against real Watcher services and the sandbox Nova."""

import json

from watcher_maintenance.tests.functional import cli_harness
from watcher_maintenance.tests.functional import test_cli_enter as base


class TestShow(base.CliTestCase):

    def test_show_before_maintenance(self):
        self.load_topology(base.THREE_HOSTS)
        result = self.cli('show', 'compute-1')
        self.assert_exit(0, result)
        self.assertEqual('enabled, up',
                         self.table_row(result.out, 'nova-compute')[1])
        self.assertEqual('3', self.table_row(result.out, 'guests on node')[1])
        self.assertIn('none (no maintenance audit',
                      self.table_row(result.out, 'latest audit')[1])
        self.assertEqual(['web-1', 'shop', 'ACTIVE'],
                         self.table_row(result.out, 'web-1'))
        self.assertEqual(['batch-1', 'science', 'SHUTOFF'],
                         self.table_row(result.out, 'batch-1'))

    def test_show_after_a_drain_with_a_failure(self):
        self.load_topology(base.THREE_HOSTS)
        self.inject_failure('web-2', base.testing.ERROR_AFTER_START)
        self.assert_exit(1, self.cli('enter', 'compute-1', '--yes',
                                     '--wait'))
        result = self.cli('show', 'compute-1')
        self.assert_exit(0, result)
        self.assertEqual('disabled, up, reason: watcher_maintaining',
                         self.table_row(result.out, 'nova-compute')[1])
        self.assertIn('host_drain SUCCEEDED',
                      self.table_row(result.out, 'latest audit')[1])
        self.assertIn('FAILED', self.table_row(result.out, 'action plan')[1])
        # web-2 is both still on the node and FAILED in the results.
        still_on = self.servers_on('compute-1')
        self.assertIn('web-2', still_on)
        self.assertEqual(str(len(still_on)),
                         self.table_row(result.out, 'guests on node')[1])
        self.assertEqual('FAILED', self.result_row(result.out, 'web-2')[5])

    def result_row(self, text, name):
        rows = [line for line in text.splitlines()
                if line.startswith('│ %s ' % name)]
        # The guests table has 3 cells, the results table 7.
        for line in rows:
            cells = [c.strip() for c in line.strip('│').split('│')]
            if len(cells) == 7:
                return cells
        self.fail('No result row for %s in:\n%s' % (name, text))

    def test_show_json(self):
        self.load_topology(base.THREE_HOSTS)
        self.assert_exit(0, self.cli('enter', 'compute-1', '--yes', '--wait'))
        document = json.loads(self.cli('show', 'compute-1', '-f', 'json').out)
        self.assertEqual({'status': 'disabled', 'state': 'up',
                          'disabled_reason': 'watcher_maintaining'},
                         document['service'])
        self.assertEqual([], document['guests'])
        self.assertEqual('host_drain', document['audit']['strategy_name'])
        self.assertEqual('SUCCEEDED', document['plan']['state'])
        self.assertEqual({'web-1': 'done', 'web-2': 'done', 'batch-1': 'done'},
                         {r['guest']: r['result']
                          for r in document['results']})

    def test_show_without_nova_still_shows_watcher(self):
        self.load_topology(base.THREE_HOSTS)
        self.assert_exit(0, self.cli('enter', 'compute-1', '--yes', '--wait'))
        self.clients = cli_harness.ClientManager(
            infra_optim=self.clients.infra_optim, compute=None)
        result = self.cli('show', 'compute-1')
        self.assert_exit(0, result)
        self.assertIn('unknown', self.table_row(result.out,
                                                'nova-compute')[1])
        self.assertIn('SUCCEEDED', self.table_row(result.out,
                                                  'action plan')[1])
        self.assertEqual('done', self.result_row(result.out, 'web-1')[5])


class TestExit(base.CliTestCase):

    def test_enter_then_exit_brings_the_guests_home(self):
        self.load_topology(base.THREE_HOSTS)
        self.assert_exit(0, self.cli('enter', 'compute-1', '--yes', '--wait'))
        self.assertEqual([], self.servers_on('compute-1'))

        result = self.cli('exit', 'compute-1', '--return-guests', 'drained',
                          '--yes', '--wait')
        self.assert_exit(0, result)
        self.assertEqual(['batch-1', 'web-1', 'web-2'],
                         self.servers_on('compute-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])
        self.assertIn('enabled', self.table_row(result.out, '1'))
        for name in ('web-1', 'web-2', 'batch-1'):
            row = self.table_row(result.out, name)
            self.assertEqual(('compute-1', 'done'), (row[3], row[5]))
        self.assertIn('Restore of compute-1 done', result.out)

        shown = self.cli('show', 'compute-1')
        self.assertIn('host_restore SUCCEEDED',
                      self.table_row(shown.out, 'latest audit')[1])
        self.assertEqual('enabled, up',
                         self.table_row(shown.out, 'nova-compute')[1])

    def test_exit_without_return_only_enables_the_node(self):
        self.load_topology(base.THREE_HOSTS)
        self.assert_exit(0, self.cli('enter', 'compute-1', '--yes', '--wait'))
        result = self.cli('exit', 'compute-1', '--yes', '--wait')
        self.assert_exit(0, result)
        self.assertEqual('enabled', self.service('compute-1')['status'])
        self.assertEqual([], self.servers_on('compute-1'))

    def test_exit_refuses_a_node_someone_else_disabled_unless_forced(self):
        self.load_topology(base.THREE_HOSTS)
        self.set_service('compute-1', 'disabled', 'broken fan')
        result = self.cli('exit', 'compute-1', '--yes', '--wait')
        self.assert_exit(1, result)
        self.assertIn('FAILED', result.err)
        self.assertIn('broken fan', result.err)
        self.assertEqual('disabled', self.service('compute-1')['status'])

        result = self.cli('exit', 'compute-1', '--force', '--yes', '--wait')
        self.assert_exit(0, result)
        self.assertEqual('enabled', self.service('compute-1')['status'])
