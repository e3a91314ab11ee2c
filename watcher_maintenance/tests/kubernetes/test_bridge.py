"""Cordon, drain and uncordon with real kubectl; the bridge does the rest.

What an operator notices: the Node's state and message annotations and
Events, ``kubectl drain`` waiting and then finishing, and what Nova
reports about guests and the nova-compute service.
"""

from watcher_maintenance.kubernetes import settings as wm
from watcher_maintenance.tests.functional.test_host_restore import cluster
from watcher_maintenance.tests.kubernetes import harness

MAINTAINING = 'watcher_maintaining'
BUDGET_REFUSAL = "would violate the pod's disruption budget"


class TestDrainAndRestore(harness.BridgeTestCase):

    TOPOLOGY = cluster(
        [{'name': 'compute-1'}, {'name': 'compute-2'},
         {'name': 'compute-3'}],
        [{'name': 'web-{n}', 'count': 2, 'host': 'compute-1'},
         {'name': 'db-1', 'host': 'compute-2'}])

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
