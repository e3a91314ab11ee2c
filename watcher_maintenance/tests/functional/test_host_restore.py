"""host_restore through real Watcher services against the sandbox's Nova.

Each test goes from ``POST /audits`` to the executed action plan and
checks what an operator would see: where the servers run, the state of
the nova-compute services, the audit's state and message.
"""

import json

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests import builders
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud

RESTORE = 'host_restore'
MAINTAINING = 'watcher_maintaining'


class TestHostRestore(testing.SandboxTestCase):

    def restore(self, parameters):
        audit = self.create_audit(parameters, strategy=RESTORE)
        return self.wait_audit(audit['uuid'])

    def assert_refused(self, audit, *phrases):
        self.assertEqual('FAILED', audit['state'], audit.get('status_message'))
        for phrase in phrases:
            self.assertIn(phrase, audit['status_message'])
        self.assertIsNone(self.plan_of(audit['uuid']))

    def run_audit_plan(self, audit):
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        plan = self.plan_of(audit['uuid'])
        actions = self.actions_of(plan['uuid'])
        done = self.run_plan(plan['uuid'])
        self.assertEqual('SUCCEEDED', done['state'], [
            (a['action_type'], a['input_parameters'], a['state'])
            for a in self.actions_of(plan['uuid'])])
        self.assert_no_overcommit()
        return plan, actions

    def test_drain_then_restore_brings_every_guest_home(self):
        self.load_topology(builders.drain_and_return().topology())
        drain = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1'})['uuid'])
        self.run_audit_plan(drain)
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual(MAINTAINING,
                         self.service('compute-1')['disabled_reason'])

        audit = self.restore({'maintenance_node': 'compute-1',
                              'return_guests': 'drained'})
        plan, actions = self.run_audit_plan(audit)

        # The node is enabled before anything moves onto it.
        self.assertEqual('change_nova_service_state',
                         actions[0]['action_type'])
        self.assertEqual('enabled', actions[0]['input_parameters']['state'])
        migrations = {a['input_parameters']['resource_name']:
                      a['input_parameters'] for a in actions[1:]
                      if a['action_type'] == 'migrate'}
        self.assertEqual({'web-1', 'web-2', 'db-1'}, set(migrations))
        self.assertEqual('cold', migrations['db-1']['migration_type'])
        self.assertEqual('live', migrations['web-1']['migration_type'])
        self.assertEqual(3, self.indicators_of(plan)['guests_to_move'])

        self.assertEqual(['db-1', 'web-1', 'web-2'],
                         self.servers_on('compute-1'))
        self.assertEqual('SHUTOFF', self.server('db-1')['status'])
        self.assertEqual('compute-2', self.host_of('other-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_guests_deleted_or_moved_since_the_drain_are_left(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'vm-1', 'vm-2', 'vm-3').topology())
        drain = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1', 'backup_node': 'compute-2'}
        )['uuid'])
        self.run_audit_plan(drain)
        self.delete_server('vm-1')
        self.move_server('vm-2', 'compute-3')

        audit = self.restore({'maintenance_node': 'compute-1',
                              'return_guests': 'drained'})
        self.assertIn('deleted since the drain: vm-1',
                      audit['status_message'])
        self.assertIn('left: vm-2 (moved since the drain: now on compute-3',
                      audit['status_message'])
        self.run_audit_plan(audit)
        self.assertEqual(['vm-3'], self.servers_on('compute-1'))
        self.assertEqual('compute-3', self.host_of('vm-2'))
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_drained_without_any_drain_on_record_is_refused(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', **builders.MAINTAINING)
            .hosts('compute-2').topology())
        audit = self.restore({'maintenance_node': 'compute-1',
                              'return_guests': 'drained'})
        self.assert_refused(audit, 'no record of an executed host_drain',
                            'return_guests=none')
        self.assertEqual('disabled', self.service('compute-1')['status'])

    def load_full_hosts_to_swap(self):
        # compute-1 and compute-2 are full; a and b trade places, so one
        # of them must wait on compute-3 (the node leaving maintenance).
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2')
            .hosts('compute-3', **builders.MAINTAINING)
            .guests_on('compute-1', 'a', 'x', vcpus=4)
            .guests_on('compute-2', 'b', 'y', vcpus=4)
            .guests_on('compute-3', 'c').topology())
        return {'compute-1': [self.server('b')['id'], 'x'],
                'compute-2': ['a', 'y'],
                'compute-3': ['c']}

    def test_swap_with_parallel_migrations_waits_for_the_room(self):
        host_map = self.load_full_hosts_to_swap()
        audit = self.restore({'maintenance_node': 'compute-3',
                              'host_map': host_map,
                              'max_parallel_migrations': 4})
        plan, actions = self.run_audit_plan(audit)
        self.assertEqual({'compute-1': ['b', 'x'], 'compute-2': ['a', 'y'],
                          'compute-3': ['c']},
                         {h: self.servers_on(h) for h in host_map})
        # Each of the three moves needs room the one before it frees, so
        # each runs alone, after a checkpoint, whatever the parallelism.
        by_uuid = {a['uuid']: a for a in actions}
        migrations = [a for a in actions if a['action_type'] == 'migrate']
        self.assertEqual(3, len(migrations))
        for later in migrations[1:]:
            self.assertEqual(['maintenance_checkpoint'], [
                by_uuid[p]['action_type'] for p in later['parents']])

    def test_host_map_is_realised_exactly_with_a_swap(self):
        host_map = self.load_full_hosts_to_swap()
        audit = self.restore({'maintenance_node': 'compute-3',
                              'host_map': host_map})
        self.assertIn('via compute-3', audit['status_message'])
        plan, actions = self.run_audit_plan(audit)

        moves = [(a['input_parameters']['resource_name'],
                  a['input_parameters']['destination_node'])
                 for a in actions if a['action_type'] == 'migrate']
        self.assertEqual(3, len(moves))
        stepped_aside = [name for name, host in moves if host == 'compute-3']
        self.assertEqual(1, len(stepped_aside), moves)
        self.assertIn(stepped_aside[0], ('a', 'b'))
        self.assertEqual({'compute-1': ['b', 'x'], 'compute-2': ['a', 'y'],
                          'compute-3': ['c']},
                         {h: self.servers_on(h) for h in host_map})
        self.assertEqual('enabled', self.service('compute-3')['status'])
        self.assertEqual(2, self.indicators_of(plan)['guests_to_move'])
        self.assertEqual(3, self.indicators_of(plan)['live_migrations_count'])

    def test_host_map_given_as_json_text(self):
        # What "-p host_map=..." gives from a shell, in the seed's format.
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', 'compute-2')
            .guests_on('compute-1', 'vm-1').topology())
        audit = self.restore({'maintenance_node': 'compute-1',
                              'host_map': json.dumps(
                                  {'compute-2': ['vm-1']})})
        self.run_audit_plan(audit)
        self.assertEqual('compute-2', self.host_of('vm-1'))

    def test_capacity_conflict_is_refused_at_planning(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', **builders.MAINTAINING)
            .hosts('compute-2')
            .guests_on('compute-2', 'big-1', 'big-2', vcpus=3,
                       memory_mb=10240)
            .guests_on('compute-1', 'small-1').topology())
        audit = self.restore({'maintenance_node': 'compute-1',
                              'host_map': {'compute-1': ['big-1', 'big-2']}})
        self.assert_refused(
            audit, 'compute-1 would be over capacity in RAM',
            'arriving big-1, big-2 need 6 vCPU, 20480 MiB RAM')
        self.assertEqual(['big-1', 'big-2'], self.servers_on('compute-2'))
        self.assertEqual('disabled', self.service('compute-1')['status'])

    def test_unknown_guest_in_host_map_is_refused(self):
        self.load_topology(
            Cloud(host=SMALL_HOST).hosts('compute-1', **builders.MAINTAINING)
            .hosts('compute-2').guests_on('compute-2', 'vm-1').topology())
        audit = self.restore({'maintenance_node': 'compute-1',
                              'host_map': {'compute-1': ['vm-1', 'vm-9']}})
        self.assert_refused(audit, 'guest vm-9 does not exist')
        self.assertEqual('compute-2', self.host_of('vm-1'))

    def test_node_disabled_for_another_reason_is_not_re_enabled(self):
        self.load_topology(
            Cloud(host=SMALL_HOST)
            .hosts('compute-1', status='disabled',
                   disabled_reason='RAM errors, ticket 4711')
            .hosts('compute-2').topology())
        audit = self.restore({'maintenance_node': 'compute-1'})
        self.assert_refused(audit, '"RAM errors, ticket 4711"', 'force=true')
        self.assertEqual('disabled', self.service('compute-1')['status'])
        self.assertEqual('RAM errors, ticket 4711',
                         self.service('compute-1')['disabled_reason'])

        forced = self.restore({'maintenance_node': 'compute-1',
                               'force': True})
        self.run_audit_plan(forced)
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_down_node_is_refused(self):
        self.load_topology(
            Cloud(host=SMALL_HOST)
            .hosts('compute-1', state='down', **builders.MAINTAINING)
            .hosts('compute-2').topology())
        audit = self.restore({'maintenance_node': 'compute-1',
                              'force': True})
        self.assert_refused(audit, 'compute-1 is down')
        self.assertEqual('disabled', self.service('compute-1')['status'])
