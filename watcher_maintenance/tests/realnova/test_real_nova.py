"""host_drain and host_restore against real Nova 34 and Placement 16.

Watcher's API, decision engine and applier run in this process (as in
the sandbox's functional tests); Nova's API, conductor, scheduler,
Placement and one nova-compute per host (fake virt driver) run in a
child process on 127.0.0.1 (``watcher_maintenance/realnova``). After
every scenario the checks are read from Nova's own API: the services'
status and reason, and each server's host and status.
"""

import time

from openstack import exceptions as sdk_exc

from watcher_maintenance.realnova import testing

MAINTAINING = 'watcher_maintaining'
SPARE = {'status': 'disabled', 'disabled_reason': 'watcher_spare'}
SIZE = {'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 200}


def cluster(hosts, guests):
    return {'hosts': [dict(SIZE, **h) for h in hosts],
            'guests': [dict({'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 20},
                            **g) for g in guests]}


class RealNovaDrainTestCase(testing.RealNovaTestCase):

    def audit(self, expect='SUCCEEDED', strategy='host_drain', **parameters):
        parameters.setdefault('maintenance_node', 'compute-1')
        if parameters['maintenance_node'] is None:
            del parameters['maintenance_node']
        created = self.create_audit(parameters, strategy=strategy)
        audit = self.wait_audit(created['uuid'], timeout=60)
        self.assertEqual(expect, audit['state'], audit.get('status_message'))
        return audit

    def plan_and_actions(self, audit):
        plan = self.plan_of(audit['uuid'])
        self.assertIsNotNone(plan)
        return plan, self.actions_of(plan['uuid'])

    @staticmethod
    def moves(actions):
        return {a['input_parameters']['resource_name']:
                (a['input_parameters']['migration_type'],
                 a['input_parameters']['destination_node'])
                for a in actions if a['action_type'] == 'migrate'}

    def action_report(self, plan):
        return [(a['action_type'], a['input_parameters'].get('resource_name'),
                 a['state'], a.get('status_message'))
                for a in self.actions_of(plan['uuid'])]

    def execute(self, plan, expect='SUCCEEDED'):
        done = self.run_plan(plan['uuid'], timeout=300)
        self.assertEqual(expect, done['state'], self.action_report(plan))
        self.wait_settled()
        self.assertEqual([], self.overcommitted())
        return done

    def assert_service(self, host, status, reason=None):
        service = self.service(host)
        self.assertEqual((status, reason),
                         (service['status'], service['disabled_reason']),
                         host)
        self.assertEqual('up', service['state'], host)

    def assert_no_failed_migration(self):
        self.assertEqual([], [(m['instance_uuid'], m['status'])
                              for m in self.migrations()
                              if m['status'] in ('error', 'failed')])


class TestDrainOnRealNova(RealNovaDrainTestCase):

    def test_dispersed_drain_live_and_cold(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'},
             {'name': 'compute-3'}],
            [{'name': 'web-1', 'host': 'compute-1'},
             {'name': 'web-2', 'host': 'compute-1', 'vcpus': 4,
              'memory_mb': 4096},
             {'name': 'batch-1', 'host': 'compute-1', 'state': 'stopped'},
             {'name': 'db-1', 'host': 'compute-2', 'vcpus': 4,
              'memory_mb': 8192}]))
        audit = self.audit()
        plan, actions = self.plan_and_actions(audit)
        moves = self.moves(actions)
        self.assertEqual({'web-1': 'live', 'web-2': 'live',
                          'batch-1': 'cold'},
                         {name: kind for name, (kind, _) in moves.items()})
        # Dispersed: both other hosts receive guests.
        self.assertEqual({'compute-2', 'compute-3'},
                         {dest for _, dest in moves.values()})

        self.execute(plan)

        self.assertEqual([], self.servers_on('compute-1'))
        state = self.cluster_state()
        for name, (_, dest) in moves.items():
            self.assertEqual(dest, state[name][0], name)
        self.assertEqual('ACTIVE', state['web-1'][1])
        self.assertEqual('ACTIVE', state['web-2'][1])
        # A cold-migrated stopped guest is still stopped.
        self.assertEqual('SHUTOFF', state['batch-1'][1])
        self.assertEqual(('compute-2', 'ACTIVE'), state['db-1'])
        self.assert_service('compute-1', 'disabled', MAINTAINING)
        self.assert_service('compute-2', 'enabled')
        self.assert_service('compute-3', 'enabled')
        self.assert_no_failed_migration()

    def test_consolidation_onto_a_designated_spare(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'},
             dict(name='spare-1', **SPARE),
             {'name': 'broken-1', 'status': 'disabled',
              'disabled_reason': 'rma ticket 12'}],
            [{'name': 'vm-1', 'host': 'compute-1'},
             {'name': 'vm-2', 'host': 'compute-1'},
             {'name': 'off-1', 'host': 'compute-1', 'state': 'stopped'}]))
        audit = self.audit()
        plan, actions = self.plan_and_actions(audit)
        # The spare is enabled before the node is disabled, and both
        # before anything moves.
        self.assertEqual(
            [('spare-1', 'enabled'), ('compute-1', 'disabled')],
            [(a['input_parameters']['resource_name'],
              a['input_parameters']['state']) for a in actions[:2]])
        self.assertEqual({'spare-1'},
                         {d for _, d in self.moves(actions).values()})

        self.execute(plan)

        self.assertEqual(['off-1', 'vm-1', 'vm-2'],
                         self.servers_on('spare-1'))
        state = self.cluster_state()
        self.assertEqual('SHUTOFF', state['off-1'][1])
        self.assertEqual('ACTIVE', state['vm-1'][1])
        self.assert_service('spare-1', 'enabled')
        self.assert_service('compute-1', 'disabled', MAINTAINING)
        # A host disabled for another reason is never touched.
        self.assert_service('broken-1', 'disabled', 'rma ticket 12')
        self.assert_service('compute-2', 'enabled')
        self.assertEqual([], self.servers_on('broken-1'))
        self.assertEqual([], self.servers_on('compute-2'))

    def test_impossible_drain_is_refused_at_planning(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'}],
            [{'name': 'big-1', 'host': 'compute-1', 'vcpus': 8,
              'memory_mb': 8192},
             {'name': 'small-1', 'host': 'compute-2'}]))
        before = self.cluster_state()
        audit = self.audit(expect='FAILED')
        message = audit['status_message']
        self.assertIn('Cannot drain compute-1', message)
        self.assertIn('big-1 needs 8 vCPU', message)
        self.assertIn('6 vCPU (compute-2)', message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual(before, self.cluster_state())
        self.assert_service('compute-1', 'enabled')
        self.assert_service('compute-2', 'enabled')

    def test_a_guest_in_error_is_refused(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'}],
            [{'name': 'ok-1', 'host': 'compute-1'},
             {'name': 'broken-vm', 'host': 'compute-1', 'state': 'error'}]))
        before = self.cluster_state()
        self.assertEqual(('compute-1', 'ERROR'), before['broken-vm'])
        audit = self.audit(expect='FAILED')
        self.assertIn('broken-vm (state error', audit['status_message'])
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual(before, self.cluster_state())
        self.assert_service('compute-1', 'enabled')

    def test_a_destination_filled_behind_the_plans_back_stops_first(self):
        # Two waves of one migration each; the second destination is
        # filled by someone else after planning. The checkpoint before
        # the second wave reads Placement and stops the plan before Nova
        # is asked for the move.
        self.load_topology(cluster(
            [{'name': 'compute-1', 'vcpus': 16}, {'name': 'compute-2'},
             {'name': 'compute-3'}],
            [{'name': 'vm-1', 'host': 'compute-1', 'vcpus': 4,
              'memory_mb': 4096},
             {'name': 'vm-2', 'host': 'compute-1', 'vcpus': 4,
              'memory_mb': 4096},
             {'name': 'off-1', 'host': 'compute-1', 'vcpus': 4,
              'memory_mb': 4096, 'state': 'stopped'}]))
        audit = self.audit(max_parallel_migrations=1)
        plan, actions = self.plan_and_actions(audit)
        moves = self.moves(actions)
        self.assertEqual({'vm-1', 'vm-2', 'off-1'}, set(moves))
        ordered = [a['input_parameters']['resource_name'] for a in actions
                   if a['action_type'] == 'migrate']
        first, victim = ordered[0], ordered[1]
        # Fill the victim's destination so only the first guest's move
        # still fits where the plan sends it, if it goes there too.
        target = moves[victim][1]
        room = self.usage(target)
        free_vcpus = room['vcpus_capacity'] - room['vcpus']
        if moves[first][1] == target:
            free_vcpus -= 4
        filler = self.boot_server('filler-1', target,
                                  vcpus=int(free_vcpus) - 2,
                                  memory_mb=1024, disk_gb=10)
        self.assertEqual('ACTIVE', filler['status'])
        before = self.cluster_state()

        self.execute(plan, expect='FAILED')

        actions = self.actions_of(plan['uuid'])
        states = {a['input_parameters'].get('resource_name'): a['state']
                  for a in actions if a['action_type'] == 'migrate'}
        self.assertEqual('SUCCEEDED', states[first])
        self.assertEqual('SKIPPED', states[victim])
        [check] = [a for a in actions if a['state'] == 'FAILED']
        self.assertEqual('maintenance_checkpoint', check['action_type'])
        for phrase in ('Stopped before migrating %s to %s' % (victim, target),
                       '%s has too little free vCPU' % target,
                       'Run the audit again'):
            self.assertIn(phrase, check['status_message'])
        # Nova was never asked to move the victim.
        [victim_id] = [v['id'] for v in self.servers()
                       if v['name'] == victim]
        self.assertEqual([], [m for m in self.migrations()
                              if m['instance_uuid'] == victim_id])
        after = self.cluster_state()
        # Every server is still there, once, in the state it had...
        self.assertEqual(sorted(before), sorted(after))
        for name, (host, status) in before.items():
            self.assertEqual(status, after[name][1], name)
        # ...the victim where it was, the first guest where it was sent,
        # and nothing started after the failure.
        self.assertEqual('compute-1', after[victim][0])
        self.assertEqual(moves[first][1], after[first][0])
        for name in ordered[2:]:
            self.assertEqual('compute-1', after[name][0], name)
        self.assertEqual(target, after['filler-1'][0])
        self.assert_service('compute-1', 'disabled', MAINTAINING)

        # Once there is room again, a new audit finishes the drain.
        self.nova.request('DELETE', '/servers/%s' % filler['id'],
                          expect=204)
        self.wait_gone('filler-1')
        plan, _ = self.plan_and_actions(self.audit())
        self.execute(plan)
        self.assertEqual([], self.servers_on('compute-1'))
        final = self.cluster_state()
        for name, (_, status) in before.items():
            if name != 'filler-1':
                self.assertEqual(status, final[name][1], name)

    def test_a_guest_booted_onto_the_node_after_the_audit_is_caught(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'}],
            [{'name': 'vm-1', 'host': 'compute-1'}]))
        plan, _ = self.plan_and_actions(self.audit())
        # A tenant boots a server onto the node after the audit.
        self.boot_server('late-1', 'compute-1', vcpus=1, memory_mb=1024,
                         disk_gb=10)
        self.execute(plan, expect='FAILED')
        last = self.actions_of(plan['uuid'])[-1]
        self.assertEqual('maintenance_checkpoint', last['action_type'])
        self.assertEqual('FAILED', last['state'])
        for phrase in ('compute-1 is not empty', 'late-1',
                       'Run the audit again'):
            self.assertIn(phrase, last['status_message'])
        self.assertEqual(['late-1'], self.servers_on('compute-1'))

        # A new audit reads the node's guests from Nova and moves it too.
        plan, _ = self.plan_and_actions(self.audit())
        self.execute(plan)
        self.assertEqual([], self.servers_on('compute-1'))

    def test_two_nodes_drained_together(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'},
             {'name': 'compute-3'}],
            [{'name': 'vm-1', 'host': 'compute-1'},
             {'name': 'vm-2', 'host': 'compute-2'},
             {'name': 'off-2', 'host': 'compute-2', 'state': 'stopped'}]))
        audit = self.audit(maintenance_node=None,
                           maintenance_nodes=['compute-1', 'compute-2'])
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'vm-1': ('live', 'compute-3'),
                          'vm-2': ('live', 'compute-3'),
                          'off-2': ('cold', 'compute-3')},
                         self.moves(actions))
        self.execute(plan)
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual([], self.servers_on('compute-2'))
        self.assertEqual('SHUTOFF', self.cluster_state()['off-2'][1])
        for node in ('compute-1', 'compute-2'):
            self.assert_service(node, 'disabled', MAINTAINING)

    def wait_gone(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while any(s['name'] == name for s in self.servers()):
            self.assertLess(time.monotonic(), deadline,
                            '%s still exists' % name)
            time.sleep(0.2)

    def test_leaving_maintenance_brings_guests_home(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'},
             {'name': 'compute-3'}],
            [{'name': 'web-1', 'host': 'compute-1'},
             {'name': 'web-2', 'host': 'compute-1'},
             {'name': 'db-1', 'host': 'compute-1', 'vcpus': 4,
              'memory_mb': 8192, 'state': 'stopped'},
             {'name': 'other-1', 'host': 'compute-2'}]))
        plan, _ = self.plan_and_actions(self.audit())
        self.execute(plan)
        self.assertEqual([], self.servers_on('compute-1'))
        self.assert_service('compute-1', 'disabled', MAINTAINING)

        audit = self.audit(strategy='host_restore', return_guests='drained')
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual(('change_nova_service_state', 'enabled'),
                         (actions[0]['action_type'],
                          actions[0]['input_parameters']['state']))
        self.execute(plan)

        self.assertEqual(['db-1', 'web-1', 'web-2'],
                         self.servers_on('compute-1'))
        state = self.cluster_state()
        self.assertEqual('SHUTOFF', state['db-1'][1])
        self.assertEqual('ACTIVE', state['web-1'][1])
        self.assertEqual(('compute-2', 'ACTIVE'), state['other-1'])
        self.assert_service('compute-1', 'enabled')
        self.assert_no_failed_migration()


class TestNovaBehaviour(RealNovaDrainTestCase):
    """What real Nova does that an emulator has to get right.

    These pin down the facts ``doc/source/real_nova.rst`` relies on.
    """

    def test_refusals_of_a_disabled_destination(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2', 'status':
                                     'disabled', 'disabled_reason': 'x'}],
            [{'name': 'run-1', 'host': 'compute-1'},
             {'name': 'off-1', 'host': 'compute-1', 'state': 'stopped'}]))
        live = {'os-migrateLive': {'host': 'compute-2',
                                   'block_migration': 'auto'}}
        # Before 2.34 the API checks the destination: 400, no valid host.
        old = self.server_action('run-1', dict(
            live, **{'os-migrateLive': dict(live['os-migrateLive'],
                                            force=False)}),
            microversion='2.30')
        self.assertEqual(400, old.status_code, old.text)
        self.assertIn('No valid host was found', old.text)
        # openstacksdk, which Watcher uses, sends live migrations at 2.30
        # whatever [nova] api_version says: Watcher gets the 400 at once.
        with self.assertRaises(sdk_exc.HttpException) as caught:
            self.nova_fixture._connection.compute.live_migrate_server(
                self.server('run-1')['id'], host='compute-2',
                block_migration='auto')
        self.assertEqual(400, caught.exception.status_code)
        # From 2.34 on it is accepted and fails in the conductor.
        new = self.server_action('run-1', live)
        self.assertEqual(202, new.status_code, new.text)
        # A cold migration to a disabled host is accepted too.
        cold = self.server_action('off-1', {'migrate': {'host':
                                                        'compute-2'}})
        self.assertEqual(202, cold.status_code, cold.text)
        self.wait_settled()
        # Both fail later: the servers stay where they were, as they were.
        self.assertEqual({'run-1': ('compute-1', 'ACTIVE'),
                          'off-1': ('compute-1', 'SHUTOFF')},
                         self.cluster_state())
        self.assertEqual(
            {('live-migration', 'error'), ('migration', 'error')},
            {(m['migration_type'], m['status']) for m in self.migrations()})

    def test_cold_migrating_a_stopped_server_keeps_it_stopped(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'}],
            [{'name': 'off-1', 'host': 'compute-1', 'state': 'stopped'}]))
        resp = self.server_action('off-1', {'migrate': {'host':
                                                        'compute-2'}})
        self.assertEqual(202, resp.status_code, resp.text)
        self.wait_settled()
        self.assertEqual({'off-1': ('compute-2', 'VERIFY_RESIZE')},
                         self.cluster_state())
        resp = self.server_action('off-1', {'confirmResize': None})
        self.assertEqual(204, resp.status_code, resp.text)
        # The confirmation itself is asynchronous: the 204 comes first,
        # the status changes when nova-compute has confirmed.
        deadline = time.monotonic() + 30
        while self.server('off-1')['status'] == 'VERIFY_RESIZE':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertEqual({'off-1': ('compute-2', 'SHUTOFF')},
                         self.cluster_state())


class TestMigrationProgressOnRealNova(RealNovaDrainTestCase):
    """Nova's memory counters of a live migration, with the bed's fake
    driver copying guest memory at a set rate."""

    GiB = 1024 ** 3

    def test_counters_advance_while_the_migration_runs(self):
        self.load_topology(cluster(
            [{'name': 'compute-1'}, {'name': 'compute-2'}],
            [{'name': 'big-1', 'host': 'compute-1', 'memory_mb': 4096}]),
            live_migration_rate=self.GiB)       # about 4 s
        uuid = self.server('big-1')['id']
        compute = self.nova_fixture._connection.compute
        compute.live_migrate_server(uuid, host='compute-2',
                                    block_migration='auto')
        # Read Nova's counters until one reading is part-way; the cap
        # only turns a hang into a failure.
        # Nova shows a counter as null until it is at least 1.
        readings, deadline = [], time.monotonic() + 120
        while not any(r[1] and r[2] for r in readings):
            self.assertLess(time.monotonic(), deadline, readings)
            for m in compute.server_migrations(uuid):
                if m.memory_total_bytes:
                    readings.append((m.memory_total_bytes,
                                     m.memory_processed_bytes,
                                     m.memory_remaining_bytes))
        for total, processed, remaining in readings:
            self.assertEqual((4 * self.GiB, total), (
                total, (processed or 0) + (remaining or 0)))
        self.wait_settled()
        self.assertEqual({'big-1': ('compute-2', 'ACTIVE')},
                         self.cluster_state())
