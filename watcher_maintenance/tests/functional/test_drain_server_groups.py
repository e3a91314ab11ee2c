"""host_drain honours Nova server groups, end to end on the sandbox.

The sandbox's Nova serves os-server-groups and refuses a move that
breaks a hard policy, as real Nova does; so a plan that ignored a group
would fail while it runs, not only in an assertion here.
"""

from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud
from watcher_maintenance.tests.functional import test_host_drain as base

BIG = dict(vcpus=32, memory_mb=65536, disk_gb=400)


def small_big_small():
    """compute-1 and compute-3 small, compute-2 large."""
    return (Cloud().hosts('compute-1', **SMALL_HOST)
            .hosts('compute-2', **BIG).hosts('compute-3', **SMALL_HOST))


class TestDrainServerGroups(base.HostDrainTestCase):

    def test_anti_affinity_pair_on_the_node_goes_to_two_hosts(self):
        # Spread alone would send both to the much larger compute-2.
        self.load_topology(
            small_big_small().group('db', 'anti-affinity')
            .guests_on('compute-1', 'db-1', 'db-2', server_group='db')
            .topology())
        plan, actions = self.plan_and_actions(self.drain())
        moves = self.moves(actions)
        self.assertEqual({'compute-2', 'compute-3'},
                         {dest for _, dest in moves.values()})
        self.execute(plan)
        self.assertNotEqual(self.host_of('db-1'), self.host_of('db-2'))
        self.assertEqual([], self.servers_on('compute-1'))

    def test_member_elsewhere_keeps_its_host_free_of_the_group(self):
        self.load_topology(
            small_big_small().group('db', 'anti-affinity')
            .guests_on('compute-1', 'db-1', server_group='db')
            .guests_on('compute-2', 'db-2', server_group='db').topology())
        plan, actions = self.plan_and_actions(self.drain())
        self.assertEqual({'db-1': ('live', 'compute-3')},
                         self.moves(actions))
        self.execute(plan)
        self.assertEqual('compute-3', self.host_of('db-1'))

    def test_more_members_than_hosts_is_refused_naming_the_group(self):
        self.load_topology(
            Cloud(host=BIG).hosts('compute-1', 'compute-2', 'compute-3')
            .group('quorum', 'anti-affinity')
            .guests_on('compute-1', 'q-1', server_group='quorum')
            .guests_on('compute-1', 'q-2', server_group='quorum',
                       state='stopped')
            .guests_on('compute-2', 'q-3', server_group='quorum')
            .guests_on('compute-3', 'q-4', server_group='quorum')
            .topology())
        audit = self.drain(expect='FAILED')
        message = audit['status_message']
        self.assertIn('server group quorum (anti-affinity)', message)
        self.assertIn('q-1, q-2', message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        # Nothing moved.
        self.assertEqual('compute-1', self.host_of('q-1'))

    def test_max_server_per_host_is_honoured(self):
        self.load_topology(
            Cloud(host=BIG).hosts('compute-1', 'compute-2', 'compute-3')
            .group('web', 'anti-affinity', max_server_per_host=2)
            .guests_on('compute-1', 'web-1', 'web-2', 'web-3', 'web-4',
                       server_group='web').topology())
        plan, actions = self.plan_and_actions(self.drain())
        destinations = [d for _, d in self.moves(actions).values()]
        self.assertEqual(2, destinations.count('compute-2'))
        self.assertEqual(2, destinations.count('compute-3'))
        self.execute(plan)

    def test_affinity_group_on_the_node_is_refused_with_its_reason(self):
        self.load_topology(
            Cloud(host=BIG).hosts('compute-1', 'compute-2')
            .group('app', 'affinity')
            .guests_on('compute-1', 'app-1', 'app-2', server_group='app')
            .topology())
        audit = self.drain(expect='FAILED')
        message = audit['status_message']
        self.assertIn('server group app (affinity)', message)
        self.assertIn('app-1, app-2', message)
        self.assertIn('one at a time', message)

    def test_affinity_group_left_with_skip_unmovable(self):
        self.load_topology(
            Cloud(host=BIG).hosts('compute-1', 'compute-2')
            .group('app', 'affinity')
            .guests_on('compute-1', 'app-1', 'app-2', server_group='app')
            .guests_on('compute-1', 'web-1').topology())
        plan, actions = self.plan_and_actions(
            self.drain(skip_unmovable=True))
        self.assertEqual({'web-1': ('live', 'compute-2')},
                         self.moves(actions))
        self.execute(plan)
        self.assertEqual(['app-1', 'app-2'],
                         sorted(self.servers_on('compute-1')))
