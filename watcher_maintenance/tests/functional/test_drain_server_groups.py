"""host_drain honours Nova server groups, end to end on the sandbox.

The sandbox's Nova serves os-server-groups and refuses a move that
breaks a hard policy, as real Nova does; so a plan that ignored a group
would fail while it runs, not only in an assertion here.
"""

from watcher_maintenance.tests.functional import test_host_drain as base

BIG = dict(vcpus=32, memory_mb=65536, disk_gb=400)
SMALL = dict(vcpus=8, memory_mb=16384, disk_gb=200)


def small_big_small(guests, **group):
    """compute-1 and compute-3 small, compute-2 large; one group."""
    return dict(hosts=[dict(name='compute-1', **SMALL),
                       dict(name='compute-2', **BIG),
                       dict(name='compute-3', **SMALL)],
                server_groups=[group], guests=guests)


def member(name, host, group, **spec):
    return dict(name=name, host=host, server_group=group, vcpus=2,
                memory_mb=2048, disk_gb=20, **spec)


class TestDrainServerGroups(base.HostDrainTestCase):

    def test_anti_affinity_pair_on_the_node_goes_to_two_hosts(self):
        # Spread alone would send both to the much larger compute-2.
        self.load_topology(small_big_small(
            [member('db-1', 'compute-1', 'db'),
             member('db-2', 'compute-1', 'db')],
            name='db', policy='anti-affinity'))
        plan, actions = self.plan_and_actions(self.drain())
        moves = self.migrations(actions)
        self.assertEqual({'compute-2', 'compute-3'},
                         {dest for _, dest in moves.values()})
        self.execute(plan)
        self.assertNotEqual(self.host_of('db-1'), self.host_of('db-2'))
        self.assertEqual([], self.servers_on('compute-1'))

    def test_member_elsewhere_keeps_its_host_free_of_the_group(self):
        self.load_topology(small_big_small(
            [member('db-1', 'compute-1', 'db'),
             member('db-2', 'compute-2', 'db')],
            name='db', policy='anti-affinity'))
        plan, actions = self.plan_and_actions(self.drain())
        self.assertEqual({'db-1': ('live', 'compute-3')},
                         self.migrations(actions))
        self.execute(plan)
        self.assertEqual('compute-3', self.host_of('db-1'))

    def test_more_members_than_hosts_is_refused_naming_the_group(self):
        self.load_topology(dict(
            hosts=[dict(name='compute-%d' % i, **BIG) for i in (1, 2, 3)],
            server_groups=[dict(name='quorum', policy='anti-affinity')],
            guests=[member('q-1', 'compute-1', 'quorum'),
                    member('q-2', 'compute-1', 'quorum',
                           state='stopped'),
                    member('q-3', 'compute-2', 'quorum'),
                    member('q-4', 'compute-3', 'quorum')]))
        audit = self.drain(expect='FAILED')
        message = audit['status_message']
        self.assertIn('server group quorum (anti-affinity)', message)
        self.assertIn('q-1, q-2', message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        # Nothing moved.
        self.assertEqual('compute-1', self.host_of('q-1'))

    def test_max_server_per_host_is_honoured(self):
        self.load_topology(dict(
            hosts=[dict(name='compute-%d' % i, **BIG) for i in (1, 2, 3)],
            server_groups=[dict(name='web', policy='anti-affinity',
                                rules={'max_server_per_host': 2})],
            guests=[member('web-%d' % i, 'compute-1', 'web')
                    for i in (1, 2, 3, 4)]))
        plan, actions = self.plan_and_actions(self.drain())
        destinations = [d for _, d in self.migrations(actions).values()]
        self.assertEqual(2, destinations.count('compute-2'))
        self.assertEqual(2, destinations.count('compute-3'))
        self.execute(plan)

    def test_affinity_group_on_the_node_is_refused_with_its_reason(self):
        self.load_topology(dict(
            hosts=[dict(name='compute-%d' % i, **BIG) for i in (1, 2)],
            server_groups=[dict(name='app', policy='affinity')],
            guests=[member('app-1', 'compute-1', 'app'),
                    member('app-2', 'compute-1', 'app')]))
        audit = self.drain(expect='FAILED')
        message = audit['status_message']
        self.assertIn('server group app (affinity)', message)
        self.assertIn('app-1, app-2', message)
        self.assertIn('one at a time', message)

    def test_affinity_group_left_with_skip_unmovable(self):
        self.load_topology(dict(
            hosts=[dict(name='compute-%d' % i, **BIG) for i in (1, 2)],
            server_groups=[dict(name='app', policy='affinity')],
            guests=[member('app-1', 'compute-1', 'app'),
                    member('app-2', 'compute-1', 'app'),
                    dict(name='web-1', host='compute-1', vcpus=2,
                         memory_mb=2048, disk_gb=20)]))
        plan, actions = self.plan_and_actions(
            self.drain(skip_unmovable=True))
        self.assertEqual({'web-1': ('live', 'compute-2')},
                         self.migrations(actions))
        self.execute(plan)
        self.assertEqual(['app-1', 'app-2'],
                         sorted(self.servers_on('compute-1')))
