"""``openstack optimize maintenance enter`` against real Watcher services.

The command runs from its entry point with python-watcherclient and
openstacksdk clients on the sandbox's Watcher API and Nova; checks are
what the operator sees (exit code, tables, messages) and what Nova then
reports.
"""

import json

import yaml

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.functional import cli_harness
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud

MAINTAINING = 'watcher_maintaining'


THREE_HOSTS = (
    Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2', 'compute-3')
    .guests_on('compute-1', 'web-1', 'web-2', project_id='shop')
    .guests_on('compute-1', 'batch-1', state='stopped',
               project_id='science')
    .guests_on('compute-2', 'db-1', vcpus=4, memory_mb=8192).topology())


class CliTestCase(testing.SandboxTestCase):

    def setUp(self):
        super().setUp()
        self.clients = cli_harness.ClientManager(
            infra_optim=cli_harness.watcher(self.api_fixture.endpoint),
            compute=cli_harness.compute(self.nova_fixture.nova_url))

    def cli(self, name, *argv, **kwargs):
        # Watcher learns of moves from Nova's notifications, which the
        # sandbox does not send: rebuild its model as a new audit would
        # see it in a real cloud.
        self.nova_fixture.invalidate_model()
        return cli_harness.run(self.clients, name, *argv, **kwargs)

    def latest_audit(self):
        """UUID of the newest audit."""
        audits = self._get('/audits?sort_key=created_at')['audits']
        return audits[-1]['uuid']

    def assert_exit(self, code, result):
        self.assertEqual(code, result.code, result.text)

    def table_row(self, text, first_cell):
        """Cells of the table row whose first cell is ``first_cell``."""
        for line in text.splitlines():
            cells = [c.strip() for c in line.strip().strip('│┃|').split('│')]
            if cells and cells[0] == first_cell:
                return cells
        self.fail('No table row for %s in:\n%s' % (first_cell, text))


class TestEnter(CliTestCase):

    def test_enter_wait_drains_the_node_and_reports_each_guest(self):
        self.load_topology(THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--yes', '--wait')
        self.assert_exit(0, result)

        # Nova: the node is empty and disabled by the drain.
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual(MAINTAINING,
                         self.service('compute-1')['disabled_reason'])
        self.assert_no_overcommit()

        # The plan table and the efficacy indicators came first.
        self.assertIn('Action plan', result.out)
        self.assertIn('nova-compute', self.table_row(result.out, '1'))
        self.assertIn('disabled (watcher_maintaining)',
                      self.table_row(result.out, '1'))
        self.assertEqual('3', self.table_row(result.out,
                                             'guests_to_move')[1])
        self.assertEqual('100', self.table_row(
            result.out, 'evacuated_guests_ratio')[1])

        # Per-guest results: project, from, to (where Nova has it now),
        # live/cold, result.
        for name in ('web-1', 'web-2', 'batch-1'):
            guest, project, source, dest, how, outcome, _ = self.table_row(
                result.out, name)
            self.assertEqual('compute-1', source)
            self.assertEqual(self.host_of(name), dest)
            self.assertEqual('done', outcome)
        self.assertEqual('shop', self.table_row(result.out, 'web-1')[1])
        self.assertEqual('science', self.table_row(result.out, 'batch-1')[1])
        self.assertEqual('cold', self.table_row(result.out, 'batch-1')[4])
        self.assertEqual('live', self.table_row(result.out, 'web-2')[4])
        self.assertIn('Drain of compute-1 done', result.out)
        # The progress bar ran on the error stream and reached the end.
        self.assertIn('plan SUCCEEDED', result.err)

    def test_dry_run_shows_the_plan_and_starts_nothing(self):
        self.load_topology(THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--dry-run')
        self.assert_exit(0, result)
        self.assertIn('Dry run', result.out)
        for name in ('web-1', 'web-2', 'batch-1'):
            row = self.row_for_guest(result.out, name)
            self.assertEqual('migrate', row[1])
            self.assertEqual('compute-1', row[3])
        # Nothing moved, the node is still enabled, the plan waits.
        self.assertEqual(['batch-1', 'web-1', 'web-2'],
                         self.servers_on('compute-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])
        audit = self.latest_audit()
        self.assertEqual('RECOMMENDED', self.plan_of(audit)['state'])

    def row_for_guest(self, text, name):
        for line in text.splitlines():
            cells = [c.strip() for c in line.strip().strip('│').split('│')]
            if len(cells) > 2 and cells[2] == name:
                return cells
        self.fail('No plan row for %s in:\n%s' % (name, text))

    def test_json_output_is_one_document_for_scripts(self):
        self.load_topology(THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--dry-run', '-f', 'json')
        self.assert_exit(0, result)
        document = json.loads(result.out)
        self.assertEqual('SUCCEEDED', document['audit']['state'])
        self.assertEqual('RECOMMENDED', document['plan']['state'])
        targets = {row['target']: row for row in document['actions']
                   if row['action'] in ('migrate', 'nova-compute')}
        self.assertEqual({'compute-1', 'web-1', 'web-2', 'batch-1'},
                         set(targets))
        self.assertEqual('cold', targets['batch-1']['how'])
        indicators = {i['name']: i['value'] for i in document['indicators']}
        self.assertEqual(3, indicators['guests_to_move'])
        # Sentences stay out of the document.
        self.assertIn('Dry run', result.err)

    def test_yaml_output_after_wait_lists_results(self):
        self.load_topology(THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--yes', '--wait',
                          '-f', 'yaml')
        self.assert_exit(0, result)
        document = yaml.safe_load(result.out)
        self.assertEqual('SUCCEEDED', document['plan']['state'])
        self.assertEqual({'web-1', 'web-2', 'batch-1'},
                         {r['guest'] for r in document['results']})
        self.assertEqual({'done'}, {r['result'] for r in document['results']})

    def test_param_and_backup_node_reach_the_strategy(self):
        self.load_topology(THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--backup-node', 'compute-3',
                          '--param', 'max_parallel_migrations=2',
                          '--yes', '--wait', '-f', 'json')
        self.assert_exit(0, result)
        document = json.loads(result.out)
        self.assertEqual({'compute-3'},
                         {r['to'] for r in document['results']})
        self.assertEqual(2, document['parameters']['max_parallel_migrations'])
        self.assertEqual(['batch-1', 'web-1', 'web-2'],
                         self.servers_on('compute-3'))
