"""Tenants' ``maintenance_policy``, through real Watcher services.

A node with one server of each policy (and a stopped one) is drained and
restored with ``return_guests=drained``; positions and power states are
read back from the sandbox's Nova.
"""

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.functional import test_host_restore
from watcher_maintenance.tests.functional.test_host_restore import cluster


def policy(name):
    return {'metadata': {'maintenance_policy': name}}


EACH_POLICY = cluster(
    [{'name': 'compute-%d' % n, 'vcpus': 16} for n in (1, 2, 3)],
    [dict({'name': 'live-1', 'host': 'compute-1'}, **policy('live')),
     dict({'name': 'cold-1', 'host': 'compute-1'}, **policy('cold')),
     dict({'name': 'stop-1', 'host': 'compute-1'}, **policy('stop')),
     dict({'name': 'skip-1', 'host': 'compute-1'}, **policy('Skip')),
     # No metadata: live, the default. Stopped: it moves cold and stays
     # stopped.
     {'name': 'off-1', 'host': 'compute-1', 'state': 'stopped'}])


class TestMaintenancePolicy(testing.SandboxTestCase):

    # The restore tests' helpers (audit, refusal, run and check a plan).
    restore = test_host_restore.TestHostRestore.restore
    assert_refused = test_host_restore.TestHostRestore.assert_refused
    run_audit_plan = test_host_restore.TestHostRestore.run_audit_plan

    def name_of(self, uuid):
        with self.nova.lock:
            return self.nova.servers[uuid]['name']

    def where(self, *names):
        return {name: (self.host_of(name), self.server(name)['status'])
                for name in names}

    def test_each_policy_through_drain_and_restore(self):
        self.load_topology(EACH_POLICY)
        drain = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1'})['uuid'])
        plan, actions = self.run_audit_plan(drain)

        by_guest = {}
        for action in actions:
            params = action['input_parameters']
            if action['action_type'] == 'migrate':
                by_guest[params['resource_name']] = params['migration_type']
            elif action['action_type'] == 'stop':
                by_guest[self.name_of(params['resource_id'])] = 'stop'
        self.assertEqual({'live-1': 'live', 'cold-1': 'cold',
                          'stop-1': 'stop', 'off-1': 'cold'}, by_guest)
        # The audit says why, naming the policies.
        self.assertIn('skip-1', drain['status_message'])
        self.assertIn('maintenance_policy=skip', drain['status_message'])
        indicators = self.indicators_of(plan)
        self.assertEqual((2, 1, 1, 1), (
            indicators['policy_live_count'], indicators['policy_cold_count'],
            indicators['policy_stop_count'], indicators['policy_skip_count']))

        # After the drain: only stop-1 (stopped) and skip-1 (running) are
        # on the node, and the plan's end check allowed them.
        self.assertEqual(['skip-1', 'stop-1'], self.servers_on('compute-1'))
        after = self.where('live-1', 'cold-1', 'stop-1', 'skip-1', 'off-1')
        self.assertEqual('ACTIVE', after['live-1'][1])
        self.assertEqual('ACTIVE', after['cold-1'][1])   # started on arrival
        self.assertEqual(('compute-1', 'SHUTOFF'), after['stop-1'])
        self.assertEqual(('compute-1', 'ACTIVE'), after['skip-1'])
        self.assertEqual('SHUTOFF', after['off-1'][1])
        for name in ('live-1', 'cold-1', 'off-1'):
            self.assertNotEqual('compute-1', after[name][0], name)

        audit = self.restore({'maintenance_node': 'compute-1',
                              'return_guests': 'drained'})
        _, actions = self.run_audit_plan(audit)
        kinds = [(a['action_type'], a['input_parameters'].get(
            'migration_type') or a['input_parameters'].get('resource_name'))
            for a in actions if a['action_type'] in (
                'migrate', 'maintenance_start')]
        self.assertEqual(sorted([('migrate', 'live'), ('migrate', 'cold'),
                                 ('migrate', 'cold'),
                                 ('maintenance_start', 'stop-1')]),
                         sorted(kinds))
        # The start runs last, once every guest is back.
        self.assertEqual('maintenance_start', kinds[-1][0])

        # Every guest is home, in the power state it had before the drain.
        self.assertEqual({
            'live-1': ('compute-1', 'ACTIVE'),
            'cold-1': ('compute-1', 'ACTIVE'),
            'stop-1': ('compute-1', 'ACTIVE'),
            'skip-1': ('compute-1', 'ACTIVE'),
            'off-1': ('compute-1', 'SHUTOFF'),
        }, self.where('live-1', 'cold-1', 'stop-1', 'skip-1', 'off-1'))

    def test_an_unknown_policy_is_refused_naming_the_server(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'}],
            [dict({'name': 'web-1', 'host': 'compute-1'}, **policy('fast')),
             {'name': 'web-2', 'host': 'compute-1'}]))
        audit = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1'})['uuid'])
        self.assert_refused(audit, 'server web-1 has maintenance_policy=fast',
                            'live (the default), cold, stop or skip')
        self.assertEqual(['web-1', 'web-2'], self.servers_on('compute-1'))
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_the_operators_switch_wins_over_live(self):
        self.load_topology(EACH_POLICY)
        drain = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1',
             'disable_cold_migration': True})['uuid'])
        plan, actions = self.run_audit_plan(drain)
        migrations = {a['input_parameters']['resource_name']:
                      a['input_parameters']['migration_type']
                      for a in actions if a['action_type'] == 'migrate'}
        # cold-1 must not live-migrate and cold is off: stopped in place;
        # off-1 is stopped and cold is off: left.
        self.assertEqual({'live-1': 'live'}, migrations)
        self.assertEqual(('compute-1', 'SHUTOFF'), (
            self.host_of('cold-1'), self.server('cold-1')['status']))
