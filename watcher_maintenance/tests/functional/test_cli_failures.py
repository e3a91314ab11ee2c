"""``enter`` when things go wrong: refusal, no confirmation, a failed
migration, a timeout. Each must exit non-zero and say what happened."""

import json

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.functional import test_cli_enter as base
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud

TOO_FULL = (
    Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2')
    .guests_on('compute-1', 'big-1', vcpus=8)
    .guests_on('compute-2', 'small-1', vcpus=2).topology())


class TestRefusals(base.CliTestCase):

    def assert_untouched(self):
        self.assertEqual(['batch-1', 'web-1', 'web-2'],
                         self.servers_on('compute-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_failed_audit_prints_its_reason_and_exits_non_zero(self):
        self.load_topology(TOO_FULL)
        result = self.cli('enter', 'compute-1', '--yes', '--wait')
        self.assert_exit(1, result)
        self.assertIn('FAILED', result.err)
        self.assertIn('Cannot drain compute-1', result.err)
        self.assertIn('big-1 needs 8 vCPU', result.err)
        self.assertNotIn('Action plan', result.out)
        self.assertEqual(['big-1'], self.servers_on('compute-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_failed_audit_in_json_still_gives_the_document(self):
        self.load_topology(TOO_FULL)
        result = self.cli('enter', 'compute-1', '--dry-run', '-f', 'json')
        self.assert_exit(1, result)
        document = json.loads(result.out)
        self.assertEqual('FAILED', document['audit']['state'])
        self.assertIn('big-1 needs 8 vCPU',
                      document['audit']['status_message'])
        self.assertIsNone(document['plan'])

    def test_parameter_watcher_rejects_is_reported(self):
        self.load_topology(base.THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--param', 'colour=blue',
                          '--yes')
        self.assert_exit(1, result)
        self.assertIn('Watcher refused the host_drain audit for compute-1',
                      result.err)
        self.assertIn('colour', result.err)
        self.assert_untouched()

    def test_without_a_terminal_it_refuses_to_start_without_yes(self):
        self.load_topology(base.THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--wait')
        self.assert_exit(3, result)
        self.assertIn('no terminal to confirm on', result.err)
        self.assertIn('--yes', result.err)
        # The plan was shown, not started.
        self.assertIn('Action plan', result.out)
        self.assert_untouched()

    def test_answering_no_leaves_the_plan_recommended(self):
        self.load_topology(base.THREE_HOSTS)
        result = self.cli('enter', 'compute-1',
                          stdin=base.cli_harness.Terminal('n\n'))
        self.assert_exit(3, result)
        self.assertIn('[y/N]', result.err)
        self.assertIn('Not started', result.err)
        self.assert_untouched()

    def test_answering_yes_starts_the_plan(self):
        self.load_topology(base.THREE_HOSTS)
        result = self.cli('enter', 'compute-1', '--wait',
                          stdin=base.cli_harness.Terminal('y\n'))
        self.assert_exit(0, result)
        self.assertEqual([], self.servers_on('compute-1'))


class TestFailureMidPlan(base.CliTestCase):

    def test_a_failed_migration_is_in_the_results_and_exits_non_zero(self):
        self.load_topology(base.THREE_HOSTS)
        self.inject_failure('web-1', testing.ERROR_AFTER_START)
        result = self.cli('enter', 'compute-1', '--yes', '--wait')
        self.assert_exit(1, result)

        guest, _, source, _, how, outcome, message = self.table_row(
            result.out, 'web-1')
        self.assertEqual(('compute-1', 'live', 'FAILED'),
                         (source, how, outcome))
        self.assertTrue(message, 'the failed guest needs an explanation')
        # Nova agrees: web-1 never left the node.
        self.assertEqual('compute-1', self.host_of('web-1'))
        self.assertIn('Drain of compute-1 did not complete', result.err)
        self.assertIn('FAILED', result.err)
        # No guest is reported as moved unless Nova has it elsewhere.
        for name in ('web-2', 'batch-1'):
            row = self.table_row(result.out, name)
            if row[5] == 'done':
                self.assertEqual(row[3], self.host_of(name))
            else:
                self.assertEqual('compute-1', self.host_of(name))

    def test_json_results_name_the_failed_guest(self):
        self.load_topology(base.THREE_HOSTS)
        self.inject_failure('batch-1', testing.API_ERROR)
        result = self.cli('enter', 'compute-1', '--yes', '--wait',
                          '-f', 'json')
        self.assert_exit(1, result)
        results = {r['guest']: r for r in json.loads(result.out)['results']}
        self.assertEqual('FAILED', results['batch-1']['result'])
        self.assertEqual('compute-1', self.host_of('batch-1'))


class TestTimeout(base.CliTestCase):

    # The applier runs in its own threads, so the plan is still going
    # when the command gives up.
    CAST_AS_CALL = False

    def test_timeout_gives_up_waiting_and_says_the_plan_goes_on(self):
        self.load_topology(base.THREE_HOSTS)
        # The pauses make the plan last over 10 s; the audit takes ~1 s.
        result = self.cli('enter', 'compute-1', '--yes', '--wait',
                          '--timeout', '5',
                          '--param', 'migration_pause=6')
        self.assert_exit(4, result)
        self.assertIn('Gave up after 5 s: action plan', result.err)
        self.assertIn('keeps running in Watcher', result.err)
        self.assertIn('openstack optimize actionplan cancel', result.err)
        # It did carry on without us.
        audit = self.latest_audit()
        done = self.wait_plan(self.plan_of(audit)['uuid'])
        self.assertEqual('SUCCEEDED', done['state'])
        self.assertEqual([], self.servers_on('compute-1'))
