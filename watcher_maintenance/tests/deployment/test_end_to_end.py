"""Scenario 1: a drain and a restore on Watcher deployed as services.

watcher-api, a watcher-decision-engine and a watcher-applier run as
processes of their own, over RabbitMQ and MariaDB, and drive real Nova.
The drain goes through python-watcherclient's own ``openstack optimize``
commands; the restore through this project's ``openstack optimize
maintenance exit``.
"""

from watcher_maintenance.deployment import testing
from watcher_maintenance.names import MAINTAINING_REASON as MAINTAINING
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud


class TestDrainAndRestore(testing.DeploymentTestCase):

    TOPOLOGY = (Cloud(host=SMALL_HOST)
                .hosts('compute-1', 'compute-2', 'compute-3')
                .guests_on('compute-1', 'web-1', 'web-2')
                .guests_on('compute-1', 'batch-1', state='stopped')
                .guests_on('compute-2', 'db-1')
                .topology())

    def test_drain_with_watcherclient_then_restore_with_the_plugin(self):
        before = self.cluster_state()
        services = self.openstack_json('optimize', 'service', 'list')
        self.assertEqual(
            [('watcher-applier', 'applier-1', 'ACTIVE'),
             ('watcher-decision-engine', 'decision-engine-1', 'ACTIVE')],
            sorted((s['Name'], s['Host'], s['Status']) for s in services))

        # The drain, as Watcher's own documentation has an operator do it.
        audit = self.create_audit('host_drain', 'compute-1')
        done = self.deployment.wait_audit(audit)
        self.assertEqual('SUCCEEDED', done['state'], done['status_message'])
        plans = self.openstack_json('optimize', 'actionplan', 'list',
                                    '--audit', audit)
        self.assertEqual(['RECOMMENDED'], [p['State'] for p in plans])
        plan = plans[0]['UUID']
        self.openstack('optimize', 'actionplan', 'start', plan)
        self.deployment.wait_plan(plan)
        shown = self.openstack_json('optimize', 'actionplan', 'show', plan)
        self.assertEqual('SUCCEEDED', shown['State'],
                         self.action_report(plan))
        actions = self.openstack_json('optimize', 'action', 'list',
                                      '--action-plan', plan)
        self.assertEqual({'SUCCEEDED'}, {a['State'] for a in actions})
        self.assertIn('maintenance_checkpoint',
                      {a['Action'] for a in actions})

        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual(('disabled', MAINTAINING),
                         (self.service('compute-1')['status'],
                          self.service('compute-1')['disabled_reason']))
        self.assert_every_guest_accounted_for(before)

        # The checkpoint ran in the applier's process, read the plan's
        # actions from the shared database and passed.
        passed = 'Maintenance checkpoint of action plan %s passed' % plan
        self.assertIn(passed, self.deployment.services['applier-1'].log())
        for other in ('api', 'decision-engine-1'):
            self.assertNotIn(passed,
                             self.deployment.services[other].log())

        # The restore, with the plugin's command, once the decision
        # engine's model has caught up with Nova (see deployment.rst).
        self.wait_model_fresh()
        restored = self.openstack(
            'optimize', 'maintenance', 'exit', 'compute-1', '--yes',
            '--wait', '--return-guests', 'drained')
        self.assertIn('Restore of compute-1 done', restored.stdout)
        self.assertEqual(['batch-1', 'web-1', 'web-2'],
                         self.servers_on('compute-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])
        self.assertEqual(before, self.cluster_state())
        self.assertEqual([], self.overcommitted())
