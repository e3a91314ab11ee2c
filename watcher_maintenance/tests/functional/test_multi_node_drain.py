"""Several nodes drained together, through the real Watcher services."""

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud

FOUR = ('compute-1', 'compute-2', 'compute-3', 'compute-4')


class TestMultiNodeDrain(testing.SandboxTestCase):

    def drain(self, expect='SUCCEEDED', **parameters):
        audit = self.wait_audit(self.create_audit(parameters)['uuid'])
        self.assertEqual(expect, audit['state'], audit.get('status_message'))
        return audit

    def test_two_nodes_drain_together_and_none_receives_a_guest(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts(*FOUR)
            .guests_on('compute-1', 'a-1', 'a-2')
            .guests_on('compute-2', 'b-1', state='stopped')
            .guests_on('compute-3', 'c-1', vcpus=4).topology())
        audit = self.drain(maintenance_nodes=['compute-1', 'compute-2'])
        plan = self.plan_of(audit['uuid'])
        actions = self.actions_of(plan['uuid'])
        disabled = {a['input_parameters']['resource_name'] for a in actions
                    if a['action_type'] == 'change_nova_service_state'}
        self.assertEqual({'compute-1', 'compute-2'}, disabled)
        moves = {a['input_parameters']['resource_name']:
                 (a['input_parameters']['source_node'],
                  a['input_parameters']['destination_node'])
                 for a in actions if a['action_type'] == 'migrate'}
        self.assertEqual({'a-1', 'a-2', 'b-1'}, set(moves))
        self.assertEqual('compute-2', moves['b-1'][0])
        for source, destination in moves.values():
            self.assertIn(destination, ('compute-3', 'compute-4'))
        self.assertEqual(3, self.indicators_of(plan)['guests_to_move'])
        self.assertIn('compute-1, compute-2: 3 guest(s) to move',
                      audit['status_message'])
        ends = [a['input_parameters']['empty_node'] for a in actions
                if a['input_parameters'].get('empty_node')]
        self.assertEqual(['compute-1', 'compute-2'], sorted(ends))

        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual([], self.servers_on('compute-2'))
        for node in ('compute-1', 'compute-2'):
            self.assertEqual('watcher_maintaining',
                             self.service(node)['disabled_reason'])
        self.assert_no_overcommit()

    def test_a_list_given_as_json_text(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'a-1').guests_on('compute-2', 'b-1')
            .topology())
        audit = self.drain(maintenance_nodes='["compute-1", "compute-2"]')
        moves = [a['input_parameters']['destination_node']
                 for a in self.actions_of(self.plan_of(audit['uuid'])['uuid'])
                 if a['action_type'] == 'migrate']
        self.assertEqual(['compute-3', 'compute-3'], moves)

    def test_three_nodes_that_do_not_fit_are_refused_before_anything(self):
        cloud = Cloud(host=SMALL_HOST).hosts(*FOUR)
        for n in (1, 2, 3):
            cloud.guests_on('compute-%d' % n, 'g-%d-1' % n, 'g-%d-2' % n,
                            vcpus=4)
        self.load_topology(cloud.topology())
        audit = self.drain('FAILED', maintenance_nodes=[
            'compute-1', 'compute-2', 'compute-3'])
        message = audit['status_message']
        self.assertIn('Cannot drain compute-1, compute-2, compute-3',
                      message)
        self.assertIn('24 vCPU', message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        for n in (1, 2, 3):
            self.assertEqual('enabled',
                             self.service('compute-%d' % n)['status'])

    def test_both_or_neither_node_parameter_is_refused_in_words(self):
        self.load_topology(Cloud(host=SMALL_HOST)
                           .hosts('compute-1', 'compute-2').topology())
        both = self.drain('FAILED', maintenance_node='compute-1',
                          maintenance_nodes=['compute-2'])
        self.assertIn('Give either maintenance_node (one node) or '
                      'maintenance_nodes', both['status_message'])
        self.assertIn('not both', both['status_message'])
        # Neither: Watcher's API refuses it against the published schema.
        neither = self.audit_request({'placement': 'pack'})
        self.assertEqual(400, neither.status_code)
        self.assertIn('maintenance_node', neither.text)
        twice = self.drain('FAILED', maintenance_nodes=['compute-1',
                                                        'compute-1'])
        self.assertIn('compute-1 is listed more than once',
                      twice['status_message'])

    def test_anti_affinity_members_leaving_two_nodes_never_land_together(
            self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts(*FOUR).group('db', 'anti-affinity')
            .guests_on('compute-1', 'db-1', server_group='db')
            .guests_on('compute-2', 'db-2', server_group='db').topology())
        audit = self.drain(maintenance_nodes=['compute-1', 'compute-2'])
        plan = self.plan_of(audit['uuid'])
        destinations = [a['input_parameters']['destination_node']
                        for a in self.actions_of(plan['uuid'])
                        if a['action_type'] == 'migrate']
        self.assertEqual(2, len(set(destinations)), destinations)
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertNotEqual(self.host_of('db-1'), self.host_of('db-2'))

    def test_each_node_of_a_multi_node_drain_is_restored_on_its_own(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts(*FOUR)
            .guests_on('compute-1', 'a-1').guests_on('compute-2', 'b-1')
            .topology())
        audit = self.drain(maintenance_nodes=['compute-1', 'compute-2'])
        plan = self.plan_of(audit['uuid'])
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])

        restore = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1', 'return_guests': 'drained'},
            strategy='host_restore')['uuid'])
        self.assertEqual('SUCCEEDED', restore['state'],
                         restore.get('status_message'))
        plan = self.plan_of(restore['uuid'])
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual(['a-1'], self.servers_on('compute-1'))
        self.assertEqual([], self.servers_on('compute-2'))
        self.assertEqual('enabled', self.service('compute-1')['status'])
        self.assertEqual('disabled', self.service('compute-2')['status'])

    def test_two_nodes_leave_maintenance_together_with_their_guests(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2')
            .hosts('compute-3', vcpus=4).hosts('compute-4')
            .guests_on('compute-1', 'a-1', 'a-2')
            .guests_on('compute-2', 'b-1', state='stopped').topology())
        audit = self.drain(maintenance_nodes=['compute-1', 'compute-2'])
        self.assertEqual('SUCCEEDED', self.run_plan(
            self.plan_of(audit['uuid'])['uuid'])['state'])

        restore = self.wait_audit(self.create_audit(
            {'maintenance_nodes': ['compute-1', 'compute-2'],
             'return_guests': 'drained', 'max_parallel_migrations': 3},
            strategy='host_restore')['uuid'])
        self.assertEqual('SUCCEEDED', restore['state'],
                         restore.get('status_message'))
        self.assertIn('compute-1, compute-2', restore['status_message'])
        plan = self.plan_of(restore['uuid'])
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual(['a-1', 'a-2'], self.servers_on('compute-1'))
        self.assertEqual(['b-1'], self.servers_on('compute-2'))
        self.assertEqual('SHUTOFF', self.server('b-1')['status'])
        for node in ('compute-1', 'compute-2'):
            self.assertEqual('enabled', self.service(node)['status'])
        self.assert_no_overcommit()

    def test_a_host_map_goes_with_one_node(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2')
            .guests_on('compute-1', 'a-1').topology())
        restore = self.wait_audit(self.create_audit(
            {'maintenance_nodes': ['compute-1', 'compute-2'],
             'host_map': {'compute-2': ['a-1']}},
            strategy='host_restore')['uuid'])
        self.assertEqual('FAILED', restore['state'])
        self.assertIn('host_map goes with one node',
                      restore['status_message'])
