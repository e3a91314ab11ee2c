"""Scenario 2: two decision engines and two appliers, audits at once.

Two drains that each fit alone but not together, and a restore, are
submitted at the same moment while the test itself holds the planning
lock (a MariaDB named lock): both decision engine processes must wait
for it. Once it is let go, the audits plan one at a time across the two
processes, the second drain counts the first one's moves, and every
plan either succeeds or is refused with a sentence, with no host over
capacity and every guest where Nova says.
"""

import datetime
import re
import threading

from watcher_maintenance.deployment import testing
from watcher_maintenance.names import MAINTAINING_REASON as MAINTAINING
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud

LOCK_LINE = re.compile(r'^(\S+ \S+) \d+ INFO \S+planning_lock \S+ '
                       r'[^\]]*\] (Maintenance planning lock taken|'
                       r'Releasing the maintenance planning lock)',
                       re.MULTILINE)


def guests(prefix, count):
    return ['%s-%d' % (prefix, n) for n in range(1, count + 1)]


class TestScaleOut(testing.DeploymentTestCase):

    DECISION_ENGINES = 2
    APPLIERS = 2
    # 4-vCPU hosts and 2-vCPU guests (Nova's default quotas allow 20
    # cores). compute-1 and compute-2 are full; compute-3 and compute-4
    # have room for one guest each: room for one drain, not two.
    # compute-5 is in maintenance, empty.
    TOPOLOGY = (Cloud(host=dict(SMALL_HOST, vcpus=4))
                .hosts('compute-1', 'compute-2', 'compute-3', 'compute-4')
                .hosts('compute-5', status='disabled',
                       disabled_reason=MAINTAINING)
                .guests_on('compute-1', *guests('a', 2))
                .guests_on('compute-2', *guests('b', 2))
                .guests_on('compute-3', *guests('c', 1))
                .guests_on('compute-4', *guests('d', 1))
                .topology())

    def lock_intervals(self):
        """(taken, released) datetimes per decision engine."""
        intervals = {}
        for n in range(1, self.DECISION_ENGINES + 1):
            name = 'decision-engine-%d' % n
            taken = None
            for stamp, what in LOCK_LINE.findall(
                    self.deployment.services[name].log()):
                when = datetime.datetime.fromisoformat(stamp)
                if what.startswith('Maintenance'):
                    taken = when
                elif taken is not None:
                    intervals.setdefault(name, []).append((taken, when))
                    taken = None
        return intervals

    def test_concurrent_audits_plan_one_at_a_time_across_processes(self):
        before = self.cluster_state()
        requests = [('host_drain', 'compute-1'), ('host_drain', 'compute-2'),
                    ('host_restore', 'compute-5')]

        # A third process (this one) holds the lock while the audits
        # arrive.
        held = self.deployment.database.connect(self.deployment.name)
        self.addCleanup(held.close)
        with held.cursor() as cursor:
            cursor.execute('SELECT GET_LOCK(%s, 10)',
                           (self.lock_name,))
            self.assertEqual((1,), cursor.fetchone())

        audits = [None] * len(requests)

        def create(index, strategy, node):
            audits[index] = self.create_audit(strategy, node)
        threads = [threading.Thread(target=create, args=(i, s, n))
                   for i, (s, n) in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertNotIn(None, audits)

        # Both decision engines got an audit and wait on the database.
        for n in (1, 2):
            self.deployment.services['decision-engine-%d' % n].wait_log(
                'Waiting up to \\d+ s for the maintenance planning lock')
        for uuid in audits:
            self.assertEqual('ONGOING', self.deployment.audit(uuid)['state'])
        with held.cursor() as cursor:
            cursor.execute('SELECT RELEASE_LOCK(%s)',
                           (self.lock_name,))

        finished = [self.deployment.wait_audit(uuid) for uuid in audits]
        outcome = {node: audit['state'] for (_, node), audit
                   in zip(requests, finished)}
        # Room for one drain: the other is refused, and says why.
        self.assertEqual(['FAILED', 'SUCCEEDED'],
                         sorted([outcome['compute-1'],
                                 outcome['compute-2']]))
        for audit in finished:
            self.assertIn(audit['state'], ('SUCCEEDED', 'FAILED'))
            if audit['state'] == 'FAILED':
                self.assertRegex(audit['status_message'] or '',
                                 r'compute-\d.*\.',
                                 'a refused audit says why, naming hosts')

        # The planning never overlapped, across the two processes.
        intervals = self.lock_intervals()
        self.assertEqual({'decision-engine-1', 'decision-engine-2'},
                         set(intervals))
        spans = sorted(span for spans in intervals.values()
                       for span in spans)
        self.assertEqual(len(requests), len(spans))
        for (_, released), (taken, _) in zip(spans, spans[1:]):
            self.assertLessEqual(released, taken, spans)

        # Every plan made is started at once, by either applier.
        plans = []
        for audit in finished:
            if audit['state'] == 'SUCCEEDED':
                made = self.deployment.plans_of(audit['uuid'])
                self.assertEqual(['RECOMMENDED'], [p['state'] for p in made])
                plans.append(made[0]['uuid'])
        starts = [threading.Thread(target=self.openstack, args=(
            'optimize', 'actionplan', 'start', plan)) for plan in plans]
        for thread in starts:
            thread.start()
        for thread in starts:
            thread.join()
        for plan in plans:
            done = self.deployment.wait_plan(plan)
            self.assertEqual('SUCCEEDED', done['state'],
                             self.action_report(plan))

        drained = [node for node in ('compute-1', 'compute-2')
                   if outcome[node] == 'SUCCEEDED']
        self.assertEqual([], self.servers_on(drained[0]))
        self.assertEqual('enabled', self.service('compute-5')['status'])
        self.assert_every_guest_accounted_for(before)
