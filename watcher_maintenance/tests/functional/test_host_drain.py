"""host_drain end to end: audit -> plan -> applier, on real Watcher services.

Each test loads a small cluster into the sandbox's Nova (which refuses
what real Nova refuses), runs the audit through Watcher's API and
decision engine, and, where a plan results, executes it with Watcher's
applier. Checks are read back from Nova: where each server is, in which
state, and the node's service status.
"""

from watcher_maintenance.sandbox import testing

SPARE = {'status': 'disabled', 'disabled_reason': 'watcher_spare'}


def cluster(hosts, guests, **extra):
    return dict(hosts=hosts, guests=guests, **extra)


def hosts(*names, **spec):
    return [dict(name=n, **spec) for n in names]


class HostDrainTestCase(testing.SandboxTestCase):

    def drain(self, expect='SUCCEEDED', scope=None, **parameters):
        parameters.setdefault('maintenance_node', 'compute-1')
        if scope is None:
            created = self.create_audit(parameters)
        else:
            created = self.scoped_audit(parameters, scope)
        audit = self.wait_audit(created['uuid'])
        self.assertEqual(expect, audit['state'], audit.get('status_message'))
        return audit

    def scoped_audit(self, parameters, scope):
        # Watcher's API takes a scope only through an audit template.
        template = self.admin_api.post('/audit_templates', {
            'name': 'scoped-%s' % self.id()[-40:],
            'goal': 'cluster_maintenance', 'strategy': 'host_drain',
            'scope': scope})
        self.assertEqual(201, template.status_code, template.text)
        self.nova_fixture.invalidate_model()
        resp = self.admin_api.post('/audits', {
            'audit_type': 'ONESHOT', 'parameters': parameters,
            'audit_template_uuid': template.json()['uuid']})
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def plan_and_actions(self, audit):
        plan = self.plan_of(audit['uuid'])
        self.assertIsNotNone(plan)
        return plan, self.actions_of(plan['uuid'])

    def migrations(self, actions):
        return {a['input_parameters']['resource_name']:
                (a['input_parameters']['migration_type'],
                 a['input_parameters']['destination_node'])
                for a in actions if a['action_type'] == 'migrate'}

    def execute(self, plan):
        done = self.run_plan(plan['uuid'])
        self.assertEqual('SUCCEEDED', done['state'],
                         [(a['action_type'], a['state'],
                           a.get('status_message'))
                          for a in self.actions_of(plan['uuid'])])
        self.assert_no_overcommit()
        return done

    def assert_in_maintenance(self, host):
        service = self.service(host)
        self.assertEqual('disabled', service['status'])
        self.assertEqual('watcher_maintaining', service['disabled_reason'])


class TestDispersal(HostDrainTestCase):

    def test_drain_moves_every_guest_to_a_host_with_room(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2', 'compute-3', vcpus=8,
                  memory_mb=16384, disk_gb=200),
            [dict(name='web-{n}', count=3, host='compute-1', vcpus=2,
                  memory_mb=4096, disk_gb=20),
             dict(name='batch-1', host='compute-1', vcpus=2,
                  memory_mb=2048, disk_gb=20, state='stopped'),
             dict(name='db-1', host='compute-2', vcpus=4, memory_mb=8192,
                  disk_gb=40)]))
        audit = self.drain()
        plan, actions = self.plan_and_actions(audit)

        # The node is disabled before anything moves.
        self.assertEqual('change_nova_service_state',
                         actions[0]['action_type'])
        self.assertEqual({'state': 'disabled',
                          'disabled_reason': 'watcher_maintaining'},
                         {k: actions[0]['input_parameters'][k]
                          for k in ('state', 'disabled_reason')})
        moves = self.migrations(actions)
        self.assertEqual({'web-1', 'web-2', 'web-3', 'batch-1'}, set(moves))
        self.assertEqual('cold', moves['batch-1'][0])
        self.assertEqual({'live'}, {moves['web-%d' % i][0]
                                    for i in (1, 2, 3)})
        for _, destination in moves.values():
            self.assertIn(destination, ('compute-2', 'compute-3'))

        indicators = self.indicators_of(plan)
        self.assertEqual(4, indicators['guests_to_move'])
        self.assertEqual(3, indicators['live_migrations_count'])
        self.assertEqual(1, indicators['cold_migrations_count'])
        self.assertEqual(0, indicators['guests_left_count'])
        self.assertEqual(3 * 4096 + 2048, indicators['memory_to_move_mb'])
        self.assertEqual(100, plan['global_efficacy'][0]['value'])

        self.execute(plan)
        self.assertEqual([], self.servers_on('compute-1'))
        self.assert_in_maintenance('compute-1')
        for name, (_, destination) in moves.items():
            self.assertEqual(destination, self.host_of(name))
        # A stopped guest stays stopped after its cold migration.
        self.assertEqual('SHUTOFF', self.server('batch-1')['status'])
        self.assertEqual('ACTIVE', self.server('web-1')['status'])

    def test_capacity_counts_reserved_ratios_and_disk(self):
        # compute-2 has vCPU and RAM but its disk is reserved away;
        # compute-3 has room only thanks to its vCPU allocation ratio.
        self.load_topology(cluster(
            [dict(name='compute-1'),
             dict(name='compute-2', vcpus=8, memory_mb=16384, disk_gb=100,
                  reserved={'disk_gb': 90}),
             dict(name='compute-3', vcpus=2, memory_mb=16384, disk_gb=200,
                  allocation_ratio={'vcpu': 4.0})],
            [dict(name='vm-{n}', count=2, host='compute-1', vcpus=4,
                  memory_mb=2048, disk_gb=20)]))
        audit = self.drain()
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'vm-1': ('live', 'compute-3'),
                          'vm-2': ('live', 'compute-3')},
                         self.migrations(actions))
        self.execute(plan)

    def test_not_enough_capacity_fails_the_audit_with_reasons(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2', vcpus=8, memory_mb=8192),
            [dict(name='big-1', host='compute-1', vcpus=8, memory_mb=8192),
             dict(name='small-1', host='compute-2', vcpus=2,
                  memory_mb=2048)]))
        audit = self.drain(expect='FAILED')
        message = audit['status_message']
        self.assertIn('Cannot drain compute-1', message)
        self.assertIn('big-1 needs 8 vCPU', message)
        self.assertIn('6 vCPU (compute-2)', message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_unmovable_guest_fails_the_audit_naming_it(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2'),
            [dict(name='ok-1', host='compute-1'),
             dict(name='stuck-1', host='compute-1', state='paused')]))
        audit = self.drain(expect='FAILED')
        self.assertIn('stuck-1 (state paused', audit['status_message'])
        self.assertIsNone(self.plan_of(audit['uuid']))

    def test_skip_unmovable_leaves_them_and_says_so(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2'),
            [dict(name='ok-1', host='compute-1'),
             dict(name='stuck-1', host='compute-1', state='suspended')]))
        audit = self.drain(skip_unmovable=True)
        self.assertIn('stuck-1', audit['status_message'])
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'ok-1'}, set(self.migrations(actions)))
        self.assertEqual(1, self.indicators_of(plan)['guests_left_count'])
        self.assertEqual(50, plan['global_efficacy'][0]['value'])
        self.execute(plan)
        self.assertEqual(['stuck-1'], self.servers_on('compute-1'))

    def test_local_disk_guests_cold_migrate_when_live_is_unsafe(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2'),
            [dict(name='local-1', host='compute-1', disk_gb=20),
             dict(name='volume-1', host='compute-1', boot_from_volume=True)]))
        audit = self.drain(live_migrate_local_disk=False)
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'local-1': ('cold', 'compute-2'),
                          'volume-1': ('live', 'compute-2')},
                         self.migrations(actions))
        self.execute(plan)
        self.assertEqual('ACTIVE', self.server('local-1')['status'])

    def test_both_migrations_disabled_stops_active_guests(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2'),
            [dict(name='run-1', host='compute-1'),
             dict(name='off-1', host='compute-1', state='stopped')]))
        audit = self.drain(disable_live_migration=True,
                           disable_cold_migration=True)
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({}, self.migrations(actions))
        self.assertEqual([self.server('run-1')['id']],
                         [a['input_parameters']['resource_id']
                          for a in actions if a['action_type'] == 'stop'])
        indicators = self.indicators_of(plan)
        self.assertEqual(1, indicators['stopped_guests_count'])
        self.assertEqual(1, indicators['guests_left_count'])
        self.execute(plan)
        self.assertEqual('SHUTOFF', self.server('run-1')['status'])

    def test_zone_pinned_guest_stays_in_its_zone(self):
        self.load_topology(cluster(
            [dict(name='compute-1', availability_zone='az1'),
             dict(name='compute-2', availability_zone='az2',
                  vcpus=64, memory_mb=262144),
             dict(name='compute-3', availability_zone='az1')],
            [dict(name='pinned-1', host='compute-1', pinned_az='az1'),
             dict(name='free-1', host='compute-1')]))
        audit = self.drain()
        plan, actions = self.plan_and_actions(audit)
        moves = self.migrations(actions)
        self.assertEqual('compute-3', moves['pinned-1'][1])
        # The unpinned guest goes to the roomiest host (spread).
        self.assertEqual('compute-2', moves['free-1'][1])
        self.execute(plan)
        self.assertEqual('compute-3', self.host_of('pinned-1'))

    def test_pack_fills_the_fullest_host_that_has_room(self):
        self.load_topology(cluster(
            [dict(name='compute-1'),
             dict(name='compute-2', vcpus=16, memory_mb=32768),
             dict(name='compute-3', vcpus=16, memory_mb=32768)],
            [dict(name='vm-{n}', count=2, host='compute-1', vcpus=2,
                  memory_mb=4096),
             dict(name='busy-1', host='compute-3', vcpus=8,
                  memory_mb=16384)]))
        spread = self.migrations(self.plan_and_actions(self.drain())[1])
        self.assertEqual({'compute-2'}, {d for _, d in spread.values()})
        audit = self.drain(placement='pack')
        plan, actions = self.plan_and_actions(audit)
        packed = self.migrations(actions)
        self.assertEqual({'compute-3'}, {d for _, d in packed.values()})
        self.execute(plan)
        self.assertEqual(['busy-1', 'vm-1', 'vm-2'],
                         self.servers_on('compute-3'))

    def test_stopped_guests_stay_when_cold_migration_is_disabled(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2'),
            [dict(name='run-1', host='compute-1'),
             dict(name='off-1', host='compute-1', state='stopped')]))
        audit = self.drain(disable_cold_migration=True)
        self.assertIn('off-1 (stopped, and cold migration is disabled; '
                      'maintenance_policy=live)',
                      audit['status_message'])
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'run-1': ('live', 'compute-2')},
                         self.migrations(actions))
        self.execute(plan)
        self.assertEqual(['off-1'], self.servers_on('compute-1'))
        self.assertEqual('SHUTOFF', self.server('off-1')['status'])

    def test_same_cluster_gives_the_same_plan(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2', 'compute-3', 'compute-4'),
            [dict(name='vm-{n}', count=6, host='compute-1', vcpus=2,
                  memory_mb=3072)]))
        first = self.migrations(self.plan_and_actions(self.drain())[1])
        second = self.migrations(self.plan_and_actions(self.drain())[1])
        self.assertEqual(first, second)
        self.assertEqual(6, len(first))


class TestConsolidation(HostDrainTestCase):

    def test_everything_goes_to_a_designated_spare_enabled_first(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2') + [
                dict(name='spare-1', **SPARE),
                dict(name='broken-1', status='disabled',
                     disabled_reason='rma ticket 12')],
            [dict(name='vm-{n}', count=3, host='compute-1'),
             dict(name='off-1', host='compute-1', state='stopped')]))
        audit = self.drain()
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual(
            [('change_nova_service_state', 'spare-1', 'enabled'),
             ('change_nova_service_state', 'compute-1', 'disabled')],
            [(a['action_type'], a['input_parameters']['resource_name'],
              a['input_parameters']['state']) for a in actions[:2]])
        self.assertEqual({'spare-1'}, {d for _, d in
                                       self.migrations(actions).values()})
        self.execute(plan)
        self.assertEqual(4, len(self.servers_on('spare-1')))
        self.assertEqual('enabled', self.service('spare-1')['status'])
        # A host disabled for another reason is never touched.
        self.assertEqual('disabled', self.service('broken-1')['status'])
        self.assertEqual('rma ticket 12',
                         self.service('broken-1')['disabled_reason'])
        self.assertEqual([], self.servers_on('broken-1'))

    def test_use_spare_nodes_false_disperses(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2') + [dict(name='spare-1',
                                                    **SPARE)],
            [dict(name='vm-1', host='compute-1')]))
        audit = self.drain(use_spare_nodes=False)
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'vm-1': ('live', 'compute-2')},
                         self.migrations(actions))
        self.execute(plan)
        self.assertEqual('disabled', self.service('spare-1')['status'])

    def test_backup_node_with_room_takes_everything(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2', 'compute-3'),
            [dict(name='vm-{n}', count=2, host='compute-1')]))
        audit = self.drain(backup_node='compute-3')
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'vm-1': ('live', 'compute-3'),
                          'vm-2': ('live', 'compute-3')},
                         self.migrations(actions))
        self.execute(plan)
        self.assertEqual(2, len(self.servers_on('compute-3')))

    def test_disabled_backup_node_is_enabled_before_the_drain(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2') + [
                dict(name='compute-3', status='disabled',
                     disabled_reason='reserved for maintenance')],
            [dict(name='vm-{n}', count=2, host='compute-1')]))
        audit = self.drain(backup_node='compute-3')
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual(('compute-3', 'enabled'),
                         (actions[0]['input_parameters']['resource_name'],
                          actions[0]['input_parameters']['state']))
        self.execute(plan)
        self.assertEqual(['vm-1', 'vm-2'], self.servers_on('compute-3'))
        self.assertEqual('enabled', self.service('compute-3')['status'])

    def test_backup_node_without_room_falls_back_and_says_why(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2') + [
                dict(name='compute-3', vcpus=1, memory_mb=1024)],
            [dict(name='vm-{n}', count=2, host='compute-1')]))
        audit = self.drain(backup_node='compute-3')
        self.assertIn('Backup node compute-3 cannot take every guest',
                      audit['status_message'])
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual({'compute-2'}, {d for _, d in
                                         self.migrations(actions).values()})

    def test_bad_backup_nodes_are_refused(self):
        self.load_topology(cluster(hosts('compute-1', 'compute-2'),
                                   [dict(name='vm-1', host='compute-1')]))
        same = self.drain(expect='FAILED', backup_node='compute-1')
        self.assertIn('is the node being drained', same['status_message'])
        ghost = self.drain(expect='FAILED', backup_node='compute-9')
        self.assertIn('backup node compute-9 is not a compute host',
                      ghost['status_message'])


class TestScopeAndState(HostDrainTestCase):

    def test_excluded_guests_and_hosts_are_respected(self):
        self.load_topology(cluster(
            hosts('compute-1', 'compute-2') + [
                dict(name='compute-3', vcpus=64, memory_mb=262144)],
            [dict(name='vm-1', host='compute-1'),
             dict(name='pet-1', host='compute-1')]))
        pet = self.server('pet-1')['id']
        scope = [{'compute': [{'exclude': [
            {'instances': [{'uuid': pet}]},
            {'compute_nodes': [{'name': 'compute-3'}]}]}]}]
        audit = self.drain(scope=scope)
        plan, actions = self.plan_and_actions(audit)
        # compute-3 has the most room but is outside the scope.
        self.assertEqual({'vm-1': ('live', 'compute-2')},
                         self.migrations(actions))
        self.assertEqual(1, self.indicators_of(plan)['guests_left_count'])
        self.assertIn('pet-1 (excluded by the audit scope)',
                      audit['status_message'])
        self.execute(plan)
        self.assertEqual('compute-1', self.host_of('pet-1'))

    def test_empty_node_already_in_maintenance_gets_an_empty_plan(self):
        self.load_topology(cluster(
            [dict(name='compute-1', status='disabled',
                  disabled_reason='watcher_maintaining'),
             dict(name='compute-2')], []))
        audit = self.drain()
        plan, actions = self.plan_and_actions(audit)
        self.assertEqual([], actions)
        self.assertEqual('SUCCEEDED', plan['state'])

    def test_unknown_node_is_refused(self):
        self.load_topology(cluster(hosts('compute-1', 'compute-2'), []))
        audit = self.drain(expect='FAILED', maintenance_node='compute-7')
        self.assertIn('compute-7 is not a compute host',
                      audit['status_message'])

    def test_strategy_publishes_its_parameters(self):
        spec = self._get('/strategies/host_drain')['parameters_spec']
        # The node, or several nodes: one of the two is required.
        self.assertEqual([{'required': ['maintenance_node']},
                          {'required': ['maintenance_nodes']}],
                         spec['anyOf'])
        for name in ('maintenance_node', 'maintenance_nodes',
                     'backup_node', 'use_spare_nodes', 'placement',
                     'disable_live_migration', 'disable_cold_migration',
                     'live_migrate_local_disk', 'skip_unmovable',
                     'max_parallel_migrations', 'migration_pause', 'order'):
            self.assertIn(name, spec['properties'])
        goal = self._get('/goals/cluster_maintenance')
        self.assertEqual('Cluster Maintenance', goal['display_name'])

    def test_wrong_parameter_types_are_refused_by_the_api(self):
        self.load_topology(cluster(hosts('compute-1', 'compute-2'), []))
        for bad in ({'maintenance_node': 3},
                    {'maintenance_node': 'compute-1', 'placement': 'tight'},
                    {'maintenance_node': 'compute-1',
                     'max_parallel_migrations': 0},
                    {'maintenance_node': 'compute-1', 'maintenace': 'x'}):
            resp = self.audit_request(bad)
            self.assertEqual(400, resp.status_code, bad)
