"""The maintenance planner on real Watcher services: order, pacing and
fail-fast, as executed by Watcher's applier against the sandbox Nova."""

import time

import fixtures

from watcher_maintenance.sandbox import nova as sandbox_nova
from watcher_maintenance.sandbox import testing

# Five guests with distinct sizes and names that sort differently.
GUESTS = [dict(name='a-tiny', host='compute-1', memory_mb=512),
          dict(name='b-huge', host='compute-1', memory_mb=8192),
          dict(name='c-mid', host='compute-1', memory_mb=2048),
          dict(name='d-big', host='compute-1', memory_mb=4096),
          dict(name='e-small', host='compute-1', memory_mb=1024)]
CLUSTER = dict(hosts=[dict(name='compute-%d' % i, memory_mb=65536)
                      for i in (1, 2, 3)], guests=GUESTS)


class TestMaintenancePlanner(testing.SandboxTestCase):

    TOPOLOGY = CLUSTER

    def plan_for(self, **parameters):
        parameters.setdefault('maintenance_node', 'compute-1')
        audit = self.wait_audit(self.create_audit(parameters)['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        plan = self.plan_of(audit['uuid'])
        return plan, self.actions_of(plan['uuid'])

    def executed_order(self):
        """Guest names in the order Nova received their migrations."""
        names = {s['id']: s['name'] for s in self.nova.servers.values()}
        return [names[m['server_uuid']]
                for _, m in sorted(self.nova.migrations.items())]

    def test_default_runs_one_at_a_time_largest_first(self):
        plan, actions = self.plan_for()
        by_uuid = {a['uuid']: a for a in actions}
        migrations = [a for a in actions if a['action_type'] == 'migrate']
        # A chain: every action waits for exactly the previous one, with
        # a checkpoint before each migration and the empty-node check last.
        for before, after in zip(actions, actions[1:]):
            self.assertEqual([before['uuid']], after['parents'])
        self.assertEqual(
            ['change_nova_service_state'] + ['maintenance_checkpoint',
                                             'migrate'] * 5
            + ['maintenance_checkpoint'],
            [a['action_type'] for a in actions])
        self.assertEqual('compute-1',
                         actions[-1]['input_parameters']['empty_node'])
        first_parent = by_uuid[migrations[0]['parents'][0]]
        self.assertEqual('maintenance_checkpoint', first_parent['action_type'])
        self.assertEqual('change_nova_service_state',
                         by_uuid[first_parent['parents'][0]]['action_type'])
        expected = ['b-huge', 'd-big', 'c-mid', 'e-small', 'a-tiny']
        self.assertEqual(expected, [a['input_parameters']['resource_name']
                                    for a in migrations])
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual(expected, self.executed_order())

    def test_order_by_name_and_smallest_first(self):
        plan, _ = self.plan_for(order='name')
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual(['a-tiny', 'b-huge', 'c-mid', 'd-big', 'e-small'],
                         self.executed_order())
        _, actions = self.plan_for(order='smallest_first',
                                   maintenance_node='compute-2')
        names = [a['input_parameters']['resource_name'] for a in actions
                 if a['action_type'] == 'migrate']
        self.assertEqual(names, sorted(
            names, key=lambda n: self.server(n)['flavor']['ram']))

    def test_parallel_waves_with_a_pause_between_them(self):
        plan, actions = self.plan_for(max_parallel_migrations=2,
                                      migration_pause=1)
        kinds = [a['action_type'] for a in actions]
        self.assertEqual(['change_nova_service_state',
                          'maintenance_checkpoint', 'migrate', 'migrate',
                          'maintenance_checkpoint', 'migrate', 'migrate',
                          'maintenance_checkpoint', 'migrate',
                          'maintenance_checkpoint'], kinds)
        sleeps = [a for a in actions
                  if a['action_type'] == 'maintenance_checkpoint']
        # No pause before the first wave; one second between waves; no
        # pause before the end check.
        self.assertEqual([0, 1, 1, 0], [a['input_parameters']['duration']
                                        for a in sleeps])
        wave_one = {a['uuid'] for a in actions[2:4]}
        self.assertEqual(wave_one, set(actions[4]['parents']))
        started = time.monotonic()
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        # Two one-second pauses really happened.
        self.assertGreaterEqual(time.monotonic() - started, 2)
        self.assertEqual([], self.servers_on('compute-1'))
        indicators = self.indicators_of(plan)
        self.assertGreater(indicators['estimated_drain_seconds'], 2)

    def test_nothing_starts_after_a_failed_migration(self):
        plan, actions = self.plan_for()
        # The second migration (d-big) fails after it started.
        self.inject_failure('d-big', testing.ERROR_AFTER_START)
        done = self.run_plan(plan['uuid'])
        self.assertEqual('FAILED', done['state'])
        states = {a['input_parameters'].get('resource_name'): a['state']
                  for a in self.actions_of(plan['uuid'])}
        self.assertEqual('SUCCEEDED', states['compute-1'])
        self.assertEqual('SUCCEEDED', states['b-huge'])
        self.assertEqual('FAILED', states['d-big'])
        details = {a['input_parameters'].get('resource_name'): a
                   for a in self.actions_of(plan['uuid'])}
        for later in ('c-mid', 'e-small', 'a-tiny'):
            self.assertEqual('SKIPPED', states[later], later)
            self.assertIn('Not started: migrate of d-big failed',
                          details[later]['status_message'])
            self.assertEqual('compute-1', self.host_of(later))
        # Nova saw exactly the two migrations that were started.
        self.assertEqual(['b-huge', 'd-big'], self.executed_order())
        # Nothing lost: the failed guest is still on its source, running.
        self.assertEqual('compute-1', self.host_of('d-big'))
        self.assertEqual('ACTIVE', self.server('d-big')['status'])
        self.assertEqual('disabled', self.service('compute-1')['status'])
        self.assert_no_overcommit()

    def test_nothing_moves_when_the_node_cannot_be_disabled(self):
        plan, _ = self.plan_for()

        # Nova refuses the service update (say, a policy change): the
        # node would stay schedulable, so no guest may start moving.
        def refuse(nova, service_id, body):
            raise sandbox_nova.NovaError(
                403, 'Policy does not allow this service update')

        self.useFixture(fixtures.MockPatchObject(
            sandbox_nova.SandboxNova, 'set_service', refuse))
        self.assertEqual('FAILED', self.run_plan(plan['uuid'])['state'])
        states = [(a['action_type'], a['state'])
                  for a in self.actions_of(plan['uuid'])]
        self.assertEqual(('change_nova_service_state', 'FAILED'), states[0])
        self.assertEqual({'SKIPPED'}, {state for kind, state in states
                                       if kind == 'migrate'})
        self.assertEqual([], self.executed_order())
        self.assertEqual(5, len(self.servers_on('compute-1')))
