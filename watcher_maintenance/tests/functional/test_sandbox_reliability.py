"""Reliability of a drain on real Watcher services and a faithful Nova.

What an operator must be able to rely on when things go wrong: a failed
migration loses nothing, bad input never produces a plan, plans made
one after another never overbook a host, and guests that vanish or move
under a plan are skipped cleanly.
"""

from watcher_maintenance.sandbox import testing
from watcher_maintenance.sandbox import topology
from watcher_maintenance.tests.builders import Cloud

NODE = 'compute-1'


def cluster():
    """Four hosts in two zones; compute-1 runs six guests of four sizes."""
    return topology.from_dict(
        Cloud(host=dict(disk_gb=400))
        .flavor('large', vcpus=4, memory_mb=8192, disk_gb=80)
        .flavor('medium', vcpus=2, memory_mb=4096, disk_gb=40)
        .flavor('small', vcpus=1, memory_mb=2048, disk_gb=20)
        .flavor('tiny', vcpus=1, memory_mb=1024, disk_gb=10)
        .hosts('compute-1', 'compute-2', availability_zone='az-1')
        .hosts('compute-3', 'compute-4', availability_zone='az-2')
        .guests_on(NODE, 'large-1', flavor='large')
        .guests_on(NODE, 'medium-1', flavor='medium')
        .guests_on(NODE, 'small-1', flavor='small', state='stopped')
        .guests_on(NODE, 'small-2', flavor='small')
        .guests_on(NODE, 'tiny-1', flavor='tiny')
        .guests_on(NODE, 'tiny-2', flavor='tiny', boot_from_volume=True)
        .guests_on('compute-2', 'other-1', flavor='medium')
        .guests_on('compute-3', 'other-2', flavor='medium').topology())


class DrainTestCase(testing.SandboxTestCase):

    def snapshot(self):
        """name -> (host, status) of every server."""
        return {s['name']: (s['OS-EXT-SRV-ATTR:host'], s['status'])
                for s in self.nova.servers.values()}

    def assert_each_guest_once(self, names):
        """Every named guest exists, listed on exactly one hypervisor."""
        listed = {}
        for hyp in self.nova.hypervisors.values():
            for entry in hyp['servers']:
                listed.setdefault(entry['name'], []).append(
                    hyp['hypervisor_hostname'])
        for name in names:
            self.assertEqual(1, len(listed.get(name, [])),
                             '%s is listed on %s' % (name,
                                                     listed.get(name)))

    def plan_for(self, parameters, **kwargs):
        audit = self.create_audit(parameters, **kwargs)
        audit = self.wait_audit(audit['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        plan = self.plan_of(audit['uuid'])
        self.assertIsNotNone(plan)
        self.assertEqual('RECOMMENDED', plan['state'])
        return plan

    def migrations(self, plan):
        return [a for a in self.actions_of(plan['uuid'])
                if a['action_type'] == 'migrate']

    def drain(self, node=NODE, **parameters):
        plan = self.plan_for(dict(parameters, maintenance_node=node))
        return self.run_plan(plan['uuid'])

    def assert_drained(self, node=NODE):
        self.assertEqual([], self.servers_on(node))
        svc = self.service(node)
        self.assertEqual('disabled', svc['status'])
        self.assertEqual('watcher_maintaining', svc['disabled_reason'])
        self.assert_no_overcommit()


class TestFailureMidPlan(DrainTestCase):
    """A migration fails halfway: nothing is lost, a rerun finishes."""

    def fail_third_migration(self, kind):
        self.load_topology(cluster())
        before = self.snapshot()
        plan = self.plan_for({'maintenance_node': NODE})
        moves = self.migrations(plan)
        self.assertEqual(6, len(moves))
        victim = moves[2]['input_parameters']['resource_name']
        self.inject_failure(victim, kind)

        result = self.run_plan(plan['uuid'])

        self.assertEqual('FAILED', result['state'])
        states = {a['input_parameters'].get('resource_name'): a['state']
                  for a in self.actions_of(plan['uuid'])}
        self.assertEqual('FAILED', states[victim])
        self.assert_each_guest_once(before)
        self.assertEqual(sorted(before), sorted(self.snapshot()))
        self.assertEqual(NODE, self.host_of(victim))
        for action in moves:
            name = action['input_parameters']['resource_name']
            # Every guest is on the node or where the plan sent it...
            planned = action['input_parameters']['destination_node']
            self.assertIn(self.host_of(name), (NODE, planned), name)
            if before[name][1] in ('ACTIVE', 'SHUTOFF'):
                # ...in the power state it had (cold moves included).
                self.assertIn(self.server(name)['status'],
                              (before[name][1], 'MIGRATING', 'RESIZE'), name)
        # ...and no host is over capacity.
        self.assert_no_overcommit()
        svc = self.service(NODE)
        self.assertEqual('disabled', svc['status'])
        self.assertEqual('watcher_maintaining', svc['disabled_reason'])
        return before, victim

    def assert_rerun_finishes(self, before):
        result = self.drain()
        self.assertEqual('SUCCEEDED', result['state'])
        self.assert_drained()
        self.assert_each_guest_once(before)
        for name, (host, status) in before.items():
            self.assertEqual(status, self.server(name)['status'], name)

    def test_error_after_start_then_second_audit_finishes(self):
        before, victim = self.fail_third_migration(
            testing.ERROR_AFTER_START)
        self.assertEqual(before[victim][1], self.server(victim)['status'])
        self.assert_rerun_finishes(before)

    def test_api_error_then_second_audit_finishes(self):
        before, _ = self.fail_third_migration(testing.API_ERROR)
        self.assert_rerun_finishes(before)

    def test_nothing_starts_after_a_failed_migration(self):
        # Watcher 17's taskflow engine runs a child action whatever its
        # parent's outcome (action_execution_rule ALWAYS); the maintenance
        # planner's checkpoints must stop the plan at the failure.
        self.load_topology(cluster())
        plan = self.plan_for({'maintenance_node': NODE})
        moves = self.migrations(plan)
        self.inject_failure(moves[2]['input_parameters']['resource_name'],
                            testing.ERROR_AFTER_START)
        self.assertEqual('FAILED', self.run_plan(plan['uuid'])['state'])
        for action in moves[2:]:
            self.assertEqual(NODE, self.host_of(
                action['input_parameters']['resource_name']))

    def test_migration_that_never_completes(self):
        _, victim = self.fail_third_migration(testing.NEVER_COMPLETES)
        # Still migrating on the node; its destination keeps the room
        # Nova claimed for it, and no host is over capacity.
        self.assertIn(self.server(victim)['status'], ('MIGRATING', 'RESIZE'))


class TestBadInput(DrainTestCase):
    """Bad input: a clear reason and no action plan."""

    def setUp(self):
        super().setUp()
        self.load_topology(cluster())

    def assert_refused(self, parameters, *words, **kwargs):
        audit = self.create_audit(parameters, **kwargs)
        audit = self.wait_audit(audit['uuid'])
        self.assertEqual('FAILED', audit['state'])
        message = audit.get('status_message') or ''
        for word in words:
            self.assertIn(word, message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual(6, len(self.servers_on(NODE)))
        self.assertEqual('enabled', self.service(NODE)['status'])
        return message

    def test_unknown_node(self):
        self.assert_refused({'maintenance_node': 'compute-42'}, 'compute-42')

    def test_backup_node_is_the_node(self):
        self.assert_refused({'maintenance_node': NODE, 'backup_node': NODE},
                            NODE, 'backup')

    def test_unknown_backup_node(self):
        self.assert_refused({'maintenance_node': NODE,
                             'backup_node': 'compute-42'}, 'compute-42')

    def test_wrong_parameter_types_are_refused_by_the_api(self):
        for parameters, name in (
                ({'maintenance_node': 7}, 'maintenance_node'),
                ({'maintenance_node': NODE, 'use_spare_nodes': 'yes'},
                 'use_spare_nodes'),
                ({'maintenance_node': NODE,
                  'max_parallel_migrations': 'two'},
                 'max_parallel_migrations'),
                ({'maintenance_node': NODE, 'placement': 'random'},
                 'random'),
                ({'maintenance_node': NODE, 'colour': 'red'}, 'colour'),
                ({}, 'maintenance_node')):
            resp = self.audit_request(parameters)
            self.assertEqual(400, resp.status_code, parameters)
            self.assertIn(name, resp.text)
        self.assertEqual([], self.admin_api.get('/audits').json()['audits'])
        self.assertEqual(
            [], self.admin_api.get('/action_plans').json()['action_plans'])

    def test_node_outside_the_audit_scope(self):
        scope = [{'compute': [{'availability_zones': [{'name': 'az-2'}]}]}]
        message = self.assert_refused({'maintenance_node': NODE}, NODE,
                                      scope=scope)
        self.assertIn('scope', message)

    def test_each_unmovable_state(self):
        for state in ('paused', 'suspended', 'error', 'rescued', 'resized',
                      'building'):
            spec = cluster()
            spec.guest('medium-1').state = state
            self.load_topology(spec)
            message = self.assert_refused({'maintenance_node': NODE},
                                          'medium-1')
            self.assertIn(state, message.lower())

    def test_unmovable_guest_left_when_asked(self):
        spec = cluster()
        spec.guest('medium-1').state = 'paused'
        self.load_topology(spec)
        result = self.drain(skip_unmovable=True)
        self.assertEqual('SUCCEEDED', result['state'])
        self.assertEqual(['medium-1'], self.servers_on(NODE))
        self.assertEqual('PAUSED', self.server('medium-1')['status'])
        self.assert_no_overcommit()


def tight_cluster():
    """Two nodes to drain whose guests together overfill the others.

    compute-3 and compute-4 have room for 10 GiB of RAM each, so either
    node's three 4 GiB guests fit, but not both nodes' six.
    """
    return topology.from_dict(
        Cloud(host=dict(memory_mb=16384, disk_gb=400))
        .flavor('medium', vcpus=2, memory_mb=4096, disk_gb=20)
        .hosts('compute-1', 'compute-2')
        .hosts('compute-3', 'compute-4', memory_mb=10240)
        .guests_on('compute-1', 'a-1', 'a-2', 'a-3', flavor='medium')
        .guests_on('compute-2', 'b-1', 'b-2', 'b-3', flavor='medium')
        .topology())


class TestTwoDrains(DrainTestCase):
    """Two nodes drained one after the other never overbook a host."""

    def test_second_audit_after_first_plan_ran(self):
        self.load_topology(tight_cluster())
        self.assertEqual('SUCCEEDED', self.drain('compute-1')['state'])
        self.assert_drained('compute-1')
        # One 4 GiB slot is left for compute-2's three guests: the audit
        # must say so rather than plan an overbooking move.
        audit = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-2'})['uuid'])
        self.assertEqual('FAILED', audit['state'])
        self.assertIn('compute-2', audit['status_message'])
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual(['b-1', 'b-2', 'b-3'], self.servers_on('compute-2'))
        self.assert_no_overcommit()
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual(6, len(self.nova.servers))

    def test_both_planned_first_then_executed_in_turn(self):
        self.load_topology(tight_cluster())
        first = self.plan_for({'maintenance_node': 'compute-1'})
        # The second audit counts the first plan's moves as made: one
        # slot is left for compute-2's three guests, so it is refused
        # before anything moves, and says which plan took the room.
        audit = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-2'})['uuid'])
        self.assertEqual('FAILED', audit['state'])
        self.assertIn('Cannot drain compute-2', audit['status_message'])
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual('SUCCEEDED', self.run_plan(first['uuid'])['state'])
        self.assert_drained('compute-1')
        self.assert_no_overcommit()
        self.assertEqual(['b-1', 'b-2', 'b-3'], self.servers_on('compute-2'))
        self.assertEqual(6, len(self.nova.servers))


class TestChangesUnderThePlan(DrainTestCase):
    """Guests deleted or moved between planning and execution."""

    def test_deleted_guest_is_skipped(self):
        self.load_topology(cluster())
        plan = self.plan_for({'maintenance_node': NODE})
        self.delete_server('small-2')
        result = self.run_plan(plan['uuid'])
        self.assertEqual('SUCCEEDED', result['state'])
        states = {a['input_parameters'].get('resource_name'): a['state']
                  for a in self.actions_of(plan['uuid'])}
        self.assertEqual('SKIPPED', states['small-2'])
        self.assert_drained()

    def test_guest_moved_by_someone_else_is_skipped(self):
        self.load_topology(cluster())
        plan = self.plan_for({'maintenance_node': NODE})
        self.move_server('tiny-1', 'compute-4')
        result = self.run_plan(plan['uuid'])
        self.assertEqual('SUCCEEDED', result['state'])
        states = {a['input_parameters'].get('resource_name'): a['state']
                  for a in self.actions_of(plan['uuid'])}
        self.assertEqual('SKIPPED', states['tiny-1'])
        self.assertEqual('compute-4', self.host_of('tiny-1'))
        self.assert_drained()


def grouped_cluster(policy):
    return topology.from_dict(
        Cloud(host=dict(disk_gb=400)).hosts('compute-1')
        .hosts('compute-2', vcpus=64, memory_mb=262144, disk_gb=4000)
        .hosts('compute-3').group('db', policy)
        .guests_on('compute-1', 'db-1', memory_mb=4096, server_group='db')
        .guests_on('compute-2' if policy == 'anti-affinity' else 'compute-1',
                   'db-2', memory_mb=4096, server_group='db')
        # compute-3 is three-quarters full: a strategy blind to the
        # group sends db-1 to compute-2, next to db-2.
        .guests_on('compute-3', 'filler-1', vcpus=12, memory_mb=24576,
                   disk_gb=300).topology())


class TestServerGroups(DrainTestCase):
    """Server-group policies Nova enforces are honoured by the plan."""

    def test_anti_affinity_members_never_share_a_host(self):
        # compute-2 has the most room, but db-2 runs there.
        self.load_topology(grouped_cluster('anti-affinity'))
        self.assertEqual('SUCCEEDED', self.drain()['state'])
        self.assertNotEqual(self.host_of('db-1'), self.host_of('db-2'))
        self.assert_drained()

    def test_affinity_group_is_refused_with_its_name(self):
        self.load_topology(grouped_cluster('affinity'))
        audit = self.wait_audit(self.create_audit(
            {'maintenance_node': NODE})['uuid'])
        self.assertEqual('FAILED', audit['state'])
        message = audit.get('status_message') or ''
        self.assertIn('server group db', message)
        self.assertIn('affinity', message)
        self.assertIsNone(self.plan_of(audit['uuid']))
        self.assertEqual(['db-1', 'db-2'], self.servers_on(NODE))
        self.assertEqual('enabled', self.service(NODE)['status'])
