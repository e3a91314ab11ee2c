"""Scenario 3: faults in a deployed Watcher, and what the operator sees.

* the applier is killed in the middle of a drain, then started again;
* a decision engine is killed while its audit is ONGOING;
* RabbitMQ goes away for a while during a drain (the bed's relay in
  front of the machine's RabbitMQ is cut: every service loses its
  connections and cannot make new ones, then it is restored).

After each: no guest lost, no host over capacity, the states and
messages tell the operator what happened, and what they run next works.
doc/source/deployment.rst records what each one showed.
"""

import re

from watcher_maintenance.deployment import bed
from watcher_maintenance.deployment import testing
from watcher_maintenance.names import MAINTAINING_REASON as MAINTAINING
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud

TOPOLOGY = (Cloud(host=SMALL_HOST)
            .hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', *('vm-%d' % n for n in range(1, 5)))
            .guests_on('compute-2', 'db-1')
            .topology())
WAITING = re.compile(r'Waiting up to \d+ s for the maintenance planning lock')
# Sent while the broker is away: oslo.messaging says so in every log.
BROKER_LOST = r'AMQP server on 127\.0\.0\.1:\d+ is unreachable'


class FaultTestCase(testing.DeploymentTestCase):

    TOPOLOGY = TOPOLOGY

    def start_drain(self, node='compute-1'):
        audit = self.create_audit('host_drain', node)
        done = self.deployment.wait_audit(audit)
        self.assertEqual('SUCCEEDED', done['state'], done['status_message'])
        plan = self.deployment.plans_of(audit)[0]['uuid']
        self.openstack('optimize', 'actionplan', 'start', plan)
        return plan

    def wait_migration_underway(self, plan):
        """Until a migrate action of the plan has started."""
        def started():
            return [a for a in self.deployment.actions_of(plan)
                    if a['action_type'] == 'migrate'
                    and a['state'] in ('ONGOING', 'SUCCEEDED')]
        return bed.wait_for('a migration of plan %s to start' % plan,
                            started, interval=0.1)

    def drain_again(self, node='compute-1'):
        """What the operator runs next: the same drain, which moves what
        is left."""
        self.wait_model_fresh()
        again = self.openstack('optimize', 'maintenance', 'enter', node,
                               '--yes', '--wait')
        self.assertIn('Drain of %s done' % node, again.stdout)
        self.assertEqual([], self.servers_on(node))
        self.assertEqual(('disabled', MAINTAINING),
                         (self.service(node)['status'],
                          self.service(node)['disabled_reason']))


class TestApplierKilled(FaultTestCase):

    def test_applier_killed_mid_plan_then_restarted(self):
        before = self.cluster_state()
        plan = self.start_drain()
        self.wait_migration_underway(plan)
        applier = self.deployment.services['applier-1']
        applier.kill()
        # No applier: the plan stays ONGOING in the database.
        self.assertEqual('ONGOING', self.deployment.get(
            '/action_plans/%s' % plan)['state'])

        # Started again, the applier cancels the plans it was running
        # (Watcher's applier sync), saying why.
        applier.start()
        self.deployment.wait_consumers(bed.APPLIER_TOPIC, 1)
        done = self.deployment.wait_plan(plan)
        self.assertEqual('CANCELLED', done['state'])
        self.assertIn('applier-1 was stopped while the action plan was '
                      'ongoing', done['status_message'])
        states = [a['state'] for a in self.deployment.actions_of(plan)]
        self.assertIn('CANCELLED', states)
        self.assertNotIn('ONGOING', states)
        self.assertNotIn('PENDING', states)

        # Nova finished the migration it had started on its own; nothing
        # is lost, nothing overbooked, the node stays out of service.
        self.assert_every_guest_accounted_for(before)
        self.assertEqual('disabled', self.service('compute-1')['status'])
        # The plugin's status command tells the operator the same.
        shown = self.openstack_json('optimize', 'maintenance', 'show',
                                    'compute-1')
        self.assertEqual('CANCELLED', shown['plan']['state'])
        self.assertIn('applier-1 was stopped',
                      shown['plan']['status_message'])
        self.assertEqual(self.servers_on('compute-1'),
                         sorted(g['guest'] for g in shown['guests']))
        self.assertNotEqual([], shown['guests'])
        self.drain_again()
        self.assert_every_guest_accounted_for(before)


class TestDecisionEngineKilled(FaultTestCase):

    DECISION_ENGINES = 2

    def test_decision_engine_killed_while_its_audit_is_ongoing(self):
        before = self.cluster_state()
        # The test holds the planning lock, so the audit stays ONGOING in
        # the decision engine that took it.
        held = self.deployment.database.connect(self.deployment.name)
        self.addCleanup(held.close)
        with held.cursor() as cursor:
            cursor.execute('SELECT GET_LOCK(%s, 10)',
                           (self.lock_name,))
        orphan = self.create_audit('host_drain', 'compute-1')
        engines = [self.deployment.services['decision-engine-%d' % n]
                   for n in (1, 2)]
        taken = bed.wait_for('a decision engine to take the audit', lambda: [
            e for e in engines if WAITING.search(e.log())])
        victim = taken[0]
        self.assertEqual('ONGOING',
                         self.deployment.audit(orphan)['state'])
        victim.kill()
        with held.cursor() as cursor:
            cursor.execute('SELECT RELEASE_LOCK(%s)',
                           (self.lock_name,))

        # The operator runs the drain again: the surviving decision
        # engine plans it (the dead one's connection, and any lock it
        # held, went with it) and the plan runs.
        self.drain_again()
        self.assert_every_guest_accounted_for(before)

        # Watcher moves only continuous audits off a failed decision
        # engine: the one-shot audit stays ONGOING, with no plan, until
        # the operator cancels it.
        self.assertEqual('ONGOING', self.deployment.audit(orphan)['state'])
        self.assertEqual([], self.deployment.plans_of(orphan))
        self.openstack('optimize', 'audit', 'update', orphan, 'replace',
                       'state=CANCELLED')
        self.assertEqual('CANCELLED',
                         self.deployment.audit(orphan)['state'])


class TestBrokerOutage(FaultTestCase):

    def test_rabbitmq_away_during_a_plan(self):
        before = self.cluster_state()
        plan = self.start_drain()
        self.wait_migration_underway(plan)
        self.deployment.broker.cut()
        for name in ('applier-1', 'decision-engine-1'):
            self.deployment.services[name].wait_log(BROKER_LOST)
        self.deployment.broker.restore()

        # The applier works from the database and Nova: the plan ends,
        # and every service reconnects.
        done = self.deployment.wait_plan(plan)
        self.assertEqual('SUCCEEDED', done['state'],
                         self.action_report(plan))
        self.assertEqual([], self.servers_on('compute-1'))
        self.assert_every_guest_accounted_for(before)
        self.deployment.wait_consumers(bed.DE_TOPIC, 1)
        self.deployment.wait_consumers(bed.APPLIER_TOPIC, 1)

        # The next operation goes through RabbitMQ again.
        self.wait_model_fresh()
        restored = self.openstack('optimize', 'maintenance', 'exit',
                                  'compute-1', '--yes', '--wait',
                                  '--return-guests', 'drained')
        self.assertIn('Restore of compute-1 done', restored.stdout)
        self.assertEqual(before, self.cluster_state())
