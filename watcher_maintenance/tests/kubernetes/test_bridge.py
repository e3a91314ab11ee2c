"""Cordon, drain and uncordon with real kubectl; the bridge does the rest.

What an operator notices: the Node's state and message annotations and
Events, ``kubectl drain`` waiting and then finishing, and what Nova
reports about guests and the nova-compute service.
"""

import dataclasses
from unittest import mock

from watcher_maintenance.kubernetes import handlers
from watcher_maintenance.kubernetes import settings as wm
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud
from watcher_maintenance.tests.kubernetes import harness

MAINTAINING = 'watcher_maintaining'
BUDGET_REFUSAL = "would violate the pod's disruption budget"


class TestDrainAndRestore(harness.BridgeTestCase):

    TOPOLOGY = (
        Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2', 'compute-3')
        .guests_on('compute-1', 'web-1', 'web-2')
        .guests_on('compute-2', 'db-1').topology())

    def test_drain_waits_for_the_guests_then_uncordon_restores(self):
        with self.controller():
            self.wait_for('the guard budget of compute-1',
                          lambda: self.guard_budget_exists('compute-1'))
            drain = self.kubectl_background(
                'drain', 'compute-1', '--timeout=%ds' % harness.TIMEOUT)

            self.wait_state('compute-1', 'Drained')
            output, _ = drain.communicate(timeout=harness.TIMEOUT)
            self.assertEqual(0, drain.returncode, output)
            # It asked before the guests were out and was refused.
            self.assertIn(BUDGET_REFUSAL, output)
            self.assertIn('node/compute-1 drained', output)
            self.assertEqual([], self.servers_on('compute-1'))
            self.assertEqual(('disabled', MAINTAINING), (
                self.service('compute-1')['status'],
                self.service('compute-1')['disabled_reason']))
            self.assertIn('holds no guest',
                          self.annotation('compute-1', wm.MESSAGE))
            self.assertIsNotNone(self.annotation('compute-1', wm.AUDIT))
            self.assertIsNotNone(
                self.annotation('compute-1', wm.ACTION_PLAN))
            reasons = [e[1] for e in self.events('compute-1')]
            self.assertIn('Pending', reasons)
            self.assertIn('Drained', reasons)
            self.assertFalse(self.guard_budget_exists('compute-1'))

            self.kubectl('uncordon', 'compute-1')
            self.wait_state('compute-1', 'Restored')
            self.assertEqual('enabled', self.service('compute-1')['status'])
            self.wait_for('the guard to hold compute-1 again',
                          lambda: self.guard_budget_exists('compute-1')
                          and self.guard_pod_exists('compute-1'))
        self.assert_no_overcommit()

    def test_approval_mode_waits_for_the_approve_annotation(self):
        approving = dataclasses.replace(handlers.SETTINGS,
                                        approval_required=True)
        with mock.patch.object(handlers, 'SETTINGS', approving), \
                self.controller():
            self.kubectl('cordon', 'compute-1')
            self.wait_state('compute-1', 'AwaitingApproval')
            message = self.annotation('compute-1', wm.MESSAGE)
            self.assertIn('approve=true', message)
            self.assertEqual(['web-1', 'web-2'],
                             self.servers_on('compute-1'))
            self.kubectl('annotate', 'node', 'compute-1',
                         wm.APPROVE + '=true')
            self.wait_state('compute-1', 'Drained')
        self.assertEqual([], self.servers_on('compute-1'))

    def test_someone_elses_disable_stays_on_uncordon(self):
        with self.controller():
            self.kubectl('cordon', 'compute-1')
            self.wait_state('compute-1', 'Drained')
            # Hardware work starts while the node is empty.
            self.set_service('compute-1', 'disabled', 'hardware ticket 42')
            self.kubectl('uncordon', 'compute-1')
            self.wait_state('compute-1', 'Restored')
            self.assertEqual(('disabled', 'hardware ticket 42'), (
                self.service('compute-1')['status'],
                self.service('compute-1')['disabled_reason']))
            message = self.annotation('compute-1', wm.MESSAGE)
            self.assertIn('stays disabled', message)
            self.assertIn('hardware ticket 42', message)
            self.assertIn(('Warning', 'Restored', message),
                          self.events('compute-1'))

    def test_restarted_controller_adopts_its_audit(self):
        with self.controller():
            self.kubectl('cordon', 'compute-1')
            audit = self.wait_for(
                'the drain audit of compute-1',
                lambda: self.annotation('compute-1', wm.AUDIT))
        # As if it had died after creating the audit but before writing
        # it down on the Node.
        self.kubectl('annotate', 'node', 'compute-1', wm.AUDIT + '-')
        with self.controller():
            self.wait_state('compute-1', 'Drained')
        self.assertEqual(audit, self.annotation('compute-1', wm.AUDIT))
        drains = [a for a in self.audits()
                  if a['name'].startswith('k8s-drain-compute-1-')]
        self.assertEqual([audit], [a['uuid'] for a in drains])
        self.assertEqual([], self.servers_on('compute-1'))


class TestRefusedDrain(harness.BridgeTestCase):

    TOPOLOGY = (
        Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2')
        .guests_on('compute-1', 'big-1', vcpus=8)
        .guests_on('compute-2', 'small-1', vcpus=2).topology())

    def test_refusal_fails_on_the_node_and_keeps_drain_held(self):
        with self.controller():
            self.kubectl('cordon', 'compute-1')
            self.wait_state('compute-1', 'Failed')
            message = self.annotation('compute-1', wm.MESSAGE)
            self.assertIn('Watcher refused to drain compute-1', message)
            self.assertIn('big-1 needs 8 vCPU', message)
            self.assertIn('kubectl drain stays held', message)
            self.assertIn(('Warning', 'Failed', message),
                          self.events('compute-1'))
            drain = self.kubectl('drain', 'compute-1', '--timeout=3s',
                                 check=False)
            self.assertNotEqual(0, drain.returncode)
            self.assertIn(BUDGET_REFUSAL, drain.stderr)
            self.assertTrue(self.guard_pod_exists('compute-1'))
            self.assertEqual(['big-1'], self.servers_on('compute-1'))
            self.assertEqual('enabled', self.service('compute-1')['status'])

            # The operator decides to let it through anyway.
            self.kubectl('annotate', 'node', 'compute-1',
                         wm.RELEASE_DRAIN + '=true')
            drain = self.kubectl('drain', 'compute-1',
                                 '--timeout=%ds' % harness.TIMEOUT)
            self.assertIn('node/compute-1 drained', drain.stdout)
            self.assertEqual('Failed', self.state('compute-1'))


class TestTwoNodes(harness.BridgeTestCase):

    TOPOLOGY = (
        Cloud(host=SMALL_HOST)
        .hosts('compute-1', 'compute-2', 'compute-3', 'compute-4')
        .guests_on('compute-1', 'web-1', 'web-2')
        .guests_on('compute-2', 'db-1', 'db-2').topology())

    def cordon_both_until_drained(self):
        self.kubectl('cordon', 'compute-1', 'compute-2')
        self.wait_state('compute-1', 'Drained')
        self.wait_state('compute-2', 'Drained')
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual([], self.servers_on('compute-2'))
        self.assert_no_overcommit()

    def test_two_nodes_cordoned_together_both_drain(self):
        with self.controller():
            self.cordon_both_until_drained()
        # Forced audits, each counting the other's moves: side by side,
        # none cancelled by Watcher, each node on an audit of its own.
        audits = self.audits()
        self.assertEqual([], [a['name'] for a in audits
                              if a['state'] == 'CANCELLED'])
        succeeded = {a['uuid']: a['parameters']['maintenance_node']
                     for a in audits if a['state'] == 'SUCCEEDED'}
        for node in ('compute-1', 'compute-2'):
            self.assertEqual(node, succeeded.get(
                self.annotation(node, wm.AUDIT)))
            self.assertNotIn('Failed',
                             [e[1] for e in self.events(node)])

    def test_without_force_the_second_node_queues_then_drains(self):
        queueing = dataclasses.replace(handlers.SETTINGS, force_audits=False)
        with mock.patch.object(handlers, 'SETTINGS', queueing), \
                self.controller():
            self.cordon_both_until_drained()
        # One of them waited for the other, and said what for.
        waits = [message for node in ('compute-1', 'compute-2')
                 for _, _, message in self.events(node)
                 if 'is running' in message or 'asking again' in message]
        self.assertTrue(waits, 'no node said it was waiting')
        for node in ('compute-1', 'compute-2'):
            self.assertNotIn('Failed', [e[1] for e in self.events(node)])
