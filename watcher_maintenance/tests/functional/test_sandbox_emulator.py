"""The sandbox's Nova through Watcher's own Nova helper (openstacksdk).

Each test calls Nova the way Watcher's applier does, so a refusal here
is what Watcher sees from a real cloud.
"""

import ast
import inspect
import time
import unittest

import requests
from openstack import exceptions as sdk_exc
from watcher.common import nova_helper

from watcher_maintenance.sandbox import nova as sandbox_nova
from watcher_maintenance.sandbox import testing
from watcher_maintenance.sandbox import topology

CLUSTER = {
    'flavors': {
        'small': {'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 20},
        'big': {'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 80},
    },
    'defaults': {'host': {'vcpus': 16, 'memory_mb': 32768,
                          'disk_gb': 400}},
    'hosts': [
        {'name': 'compute-1', 'availability_zone': 'az-1'},
        {'name': 'compute-2', 'availability_zone': 'az-1'},
        {'name': 'compute-3', 'availability_zone': 'az-2',
         'memory_mb': 65536},
        {'name': 'compute-4', 'availability_zone': 'az-1',
         'status': 'disabled', 'disabled_reason': 'broken disk'},
        {'name': 'compute-5', 'availability_zone': 'az-1', 'state': 'down'},
        {'name': 'compute-6', 'availability_zone': 'az-1', 'vcpus': 8,
         'memory_mb': 16384, 'disk_gb': 100,
         'reserved': {'memory_mb': 4096}},
    ],
    'server_groups': [
        {'name': 'db', 'policy': 'anti-affinity'},
        {'name': 'pair', 'policy': 'affinity'},
    ],
    'guests': [
        {'name': 'web-{n}', 'count': 2, 'host': 'compute-1',
         'flavor': 'small'},
        {'name': 'off-1', 'host': 'compute-1', 'flavor': 'small',
         'state': 'stopped'},
        {'name': 'pinned-1', 'host': 'compute-1', 'flavor': 'small',
         'pinned_az': 'az-1'},
        {'name': 'db-1', 'host': 'compute-1', 'flavor': 'small',
         'server_group': 'db'},
        {'name': 'db-2', 'host': 'compute-2', 'flavor': 'small',
         'server_group': 'db'},
        {'name': 'pair-{n}', 'count': 2, 'host': 'compute-1',
         'flavor': 'small', 'server_group': 'pair'},
        {'name': 'paused-1', 'host': 'compute-1', 'flavor': 'small',
         'state': 'paused'},
        {'name': 'filler-1', 'host': 'compute-6', 'flavor': 'big'},
    ],
}


class TestSandboxNova(testing.SandboxTestCase):

    START_DECISION_ENGINE = False
    START_APPLIER = False

    def setUp(self):
        super().setUp()
        self.load_topology(topology.from_dict(CLUSTER))
        self.helper = nova_helper.NovaHelper()
        self.compute = self.helper.connection.compute

    def uuid(self, name):
        return self.server(name)['id']

    def assertRefused(self, name, host, code=400, live=True, text=None):
        source = self.host_of(name)
        call = (self.compute.live_migrate_server if live
                else self.compute.migrate_server)
        kwargs = {'host': host}
        if live:
            kwargs['block_migration'] = 'auto'
        with self.assertRaises(sdk_exc.HttpException) as caught:
            call(self.uuid(name), **kwargs)
        self.assertEqual(code, caught.exception.status_code)
        if text:
            self.assertIn(text, str(caught.exception))
        self.assertEqual(source, self.host_of(name))
        return str(caught.exception)

    def assertFailsLater(self, name, host, text, microversion=(2, 96),
                         live=False):
        """Nova accepts the migration, then it fails; nothing moves."""
        before = self.server(name)
        body = ({'os-migrateLive': {'host': host, 'block_migration': 'auto'}}
                if live else {'migrate': {'host': host}})
        with self.nova.lock:
            code, _ = self.nova.server_action(before['id'], body,
                                              microversion=microversion)
        self.assertEqual(202, code)
        after = self.server(name)
        self.assertEqual((before['OS-EXT-SRV-ATTR:host'], before['status']),
                         (after['OS-EXT-SRV-ATTR:host'], after['status']))
        record = [m for m in self.nova.migrations.values()
                  if m['server_uuid'] == before['id']][-1]
        self.assertEqual('error', record['status'])
        self.assertIn(text, record['error_reason'])

    def test_enabling_a_service_forgets_its_disabled_reason(self):
        # As Nova 34 does; host_restore and the CLI read the reason.
        self.assertTrue(self.helper.enable_service_nova_compute('compute-4'))
        service = self.service('compute-4')
        self.assertEqual(('enabled', None),
                         (service['status'], service['disabled_reason']))
        self.assertTrue(self.helper.disable_service_nova_compute(
            'compute-4', reason='watcher_maintaining'))
        self.assertEqual('watcher_maintaining',
                         self.service('compute-4')['disabled_reason'])

    def test_live_migration_to_a_host_with_room_moves_the_server(self):
        self.assertTrue(self.helper.live_migrate_instance(
            self.uuid('web-1'), 'compute-2'))
        self.assertEqual('compute-2', self.host_of('web-1'))
        self.assertEqual('ACTIVE', self.server('web-1')['status'])
        # db-2 and web-1, 2 vCPU each.
        self.assertEqual(4, self.usage('compute-2')['vcpus'])

    def test_refuses_the_source_host(self):
        self.assertRefused('web-1', 'compute-1', text="can't be the same")

    def test_refuses_unknown_disabled_and_down_hosts(self):
        self.assertRefused('web-1', 'compute-99', text='could not be found')
        self.assertRefused('web-1', 'compute-4', text='disabled')
        self.assertRefused('web-1', 'compute-5', text='down')
        # openstacksdk sends live migrations at microversion 2.30, where
        # Nova checks the destination before answering; from 2.34 on, and
        # for cold migrations, Nova answers 202 and the migration fails.
        self.assertFailsLater('off-1', 'compute-4', 'disabled')
        self.assertFailsLater('web-1', 'compute-5', 'down', live=True)
        self.assertFailsLater('web-1', 'compute-6', 'not enough',
                              microversion=(2, 34), live=True)

    def test_refuses_a_host_without_room(self):
        # compute-6: (16384 - 4096) MiB usable, 16384 held by filler-1.
        message = self.assertRefused('web-1', 'compute-6',
                                     text='not enough')
        self.assertIn('RAM', message)

    def test_room_counts_reserved_and_allocation_ratio(self):
        self.load_topology(topology.from_dict({
            'hosts': [
                {'name': 'a', 'vcpus': 4, 'memory_mb': 8192,
                 'disk_gb': 100},
                {'name': 'b', 'vcpus': 2, 'memory_mb': 8192,
                 'disk_gb': 100, 'allocation_ratio': {'vcpu': 2.0},
                 'reserved': {'disk_gb': 60}},
            ],
            'guests': [
                {'name': 'g-{n}', 'count': 2, 'host': 'a', 'vcpus': 2,
                 'memory_mb': 1024, 'disk_gb': 20},
                {'name': 'fat-disk', 'host': 'a', 'vcpus': 0,
                 'memory_mb': 512, 'disk_gb': 30},
            ],
        }))
        # b: 2 vCPU * 2.0 = 4 usable, (100 - 60) = 40 GiB usable.
        self.helper.live_migrate_instance(self.uuid('g-1'), 'b')
        self.helper.live_migrate_instance(self.uuid('g-2'), 'b')
        self.assertEqual('b', self.host_of('g-2'))
        message = self.assertRefused('fat-disk', 'b', text='disk')
        self.assertIn('not enough disk', message)

    def test_refuses_a_host_outside_the_pinned_zone(self):
        self.assertRefused('pinned-1', 'compute-3', text='az-1')
        # Unpinned guests may change zones.
        self.helper.live_migrate_instance(self.uuid('web-2'), 'compute-3')
        self.assertEqual('compute-3', self.host_of('web-2'))

    def test_refuses_anti_affinity_and_affinity_violations(self):
        self.assertRefused('db-1', 'compute-2', text='Server group db')
        self.assertRefused('pair-1', 'compute-2', text='Server group pair')

    def test_refuses_states_nova_cannot_move(self):
        self.assertRefused('paused-1', 'compute-2', code=409, live=False)
        self.assertRefused('off-1', 'compute-2', code=409, live=True)

    def test_scheduler_picks_the_allowed_host_with_most_free_ram(self):
        # compute-3 has the most free RAM but is outside pinned-1's zone;
        # compute-4 is disabled and compute-5 down.
        self.compute.live_migrate_server(self.uuid('web-1'), host=None,
                                         block_migration='auto')
        self.assertEqual('compute-3', self.host_of('web-1'))
        self.compute.live_migrate_server(self.uuid('pinned-1'), host=None,
                                         block_migration='auto')
        self.assertEqual('compute-2', self.host_of('pinned-1'))

    def test_scheduler_says_no_valid_host(self):
        for host in ('compute-2', 'compute-3', 'compute-6'):
            self.set_service(host, 'disabled', 'test')
        with self.assertRaises(sdk_exc.HttpException) as caught:
            self.compute.live_migrate_server(self.uuid('web-1'), host=None,
                                             block_migration='auto')
        self.assertEqual(400, caught.exception.status_code)
        self.assertIn('No valid host was found', str(caught.exception))

    def test_cold_migration_keeps_a_stopped_server_stopped(self):
        self.assertTrue(self.helper.watcher_non_live_migrate_instance(
            self.uuid('off-1'), 'compute-2'))
        server = self.server('off-1')
        self.assertEqual('compute-2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('SHUTOFF', server['status'])
        self.assertEqual(4, server['OS-EXT-STS:power_state'])

    def test_cold_migration_of_an_active_server_ends_active(self):
        self.assertTrue(self.helper.watcher_non_live_migrate_instance(
            self.uuid('web-1'), 'compute-2'))
        self.assertEqual('ACTIVE', self.server('web-1')['status'])

    def test_unconfirmed_cold_migration_holds_room_on_both_hosts(self):
        self.compute.migrate_server(self.uuid('web-1'), host='compute-2')
        self.assertEqual('VERIFY_RESIZE', self.server('web-1')['status'])
        # compute-1 ran 8 guests of 2 vCPU; web-1 is held on both hosts
        # until the resize is confirmed, as Placement does.
        self.assertEqual(4, self.usage('compute-2')['vcpus'])
        self.assertEqual(16, self.usage('compute-1')['vcpus'])
        self.compute.confirm_server_resize(self.uuid('web-1'))
        self.assertEqual(14, self.usage('compute-1')['vcpus'])
        self.assertEqual(4, self.usage('compute-2')['vcpus'])

    def test_server_groups_are_listed_with_paging(self):
        groups = list(self.compute.server_groups(all_projects=True))
        self.assertEqual(['db', 'pair'], sorted(g.name for g in groups))
        db = [g for g in groups if g.name == 'db'][0]
        self.assertEqual('anti-affinity', db.policy)
        self.assertEqual(sorted([self.uuid('db-1'), self.uuid('db-2')]),
                         sorted(db.member_ids))
        page = self.admin_nova_get('/os-server-groups?all_projects=True'
                                   '&limit=1&offset=1')
        self.assertEqual(['pair'], [g['name'] for g in page])

    def admin_nova_get(self, path):
        url = self.nova_fixture.nova_url + '/v2.1' + path
        return requests.get(url).json()['server_groups']

    def test_injected_api_error(self):
        self.inject_failure('web-1', testing.API_ERROR)
        with self.assertRaises(sdk_exc.HttpException) as caught:
            self.compute.live_migrate_server(
                self.uuid('web-1'), host='compute-2', block_migration='auto')
        self.assertEqual(500, caught.exception.status_code)
        self.assertEqual('compute-1', self.host_of('web-1'))
        # One-shot: the next attempt succeeds.
        self.assertTrue(self.helper.live_migrate_instance(
            self.uuid('web-1'), 'compute-2'))

    def test_injected_migration_that_never_completes(self):
        self.inject_failure('web-1', testing.NEVER_COMPLETES)
        self.assertFalse(self.helper.live_migrate_instance(
            self.uuid('web-1'), 'compute-2'))
        server = self.server('web-1')
        self.assertEqual('MIGRATING', server['status'])
        self.assertEqual('compute-1', server['OS-EXT-SRV-ATTR:host'])
        running = self.helper.get_running_migration(self.uuid('web-1'))
        self.assertEqual(1, len(running))

    def test_injected_migration_that_fails_after_starting(self):
        self.inject_failure('web-1', testing.ERROR_AFTER_START)
        self.assertFalse(self.helper.live_migrate_instance(
            self.uuid('web-1'), 'compute-2'))
        server = self.server('web-1')
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute-1', server['OS-EXT-SRV-ATTR:host'])
        records = [m for m in self.nova.migrations.values()
                   if m['server_uuid'] == self.uuid('web-1')]
        self.assertEqual(['error'], [m['status'] for m in records])

    def test_injected_cold_failure_leaves_a_stopped_server_stopped(self):
        self.inject_failure('off-1', testing.ERROR_AFTER_START)
        self.assertFalse(self.helper.watcher_non_live_migrate_instance(
            self.uuid('off-1'), 'compute-2'))
        self.assertEqual('SHUTOFF', self.server('off-1')['status'])
        self.assertEqual('compute-1', self.host_of('off-1'))

    def test_placement_follows_moves(self):
        uuid = self.uuid('web-1')
        self.helper.live_migrate_instance(uuid, 'compute-2')
        rp = [h['id'] for h in self.nova.hypervisors.values()
              if h['hypervisor_hostname'] == 'compute-2'][0]
        placement = self.nova_fixture.placement_emulator
        self.assertEqual([rp], list(placement.allocations[uuid]))
        self.assertEqual(self.usage('compute-2')['memory_mb'],
                         placement.usages[rp]['MEMORY_MB'])


class Clock:
    """A clock a test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestMigrationProgress(testing.SandboxTestCase):
    """Live migrations that take time, reported as Nova reports them."""

    START_DECISION_ENGINE = False
    START_APPLIER = False
    GiB = 1024 ** 3

    def setUp(self):
        super().setUp()
        self.load_topology(topology.from_dict(CLUSTER))
        self.helper = nova_helper.NovaHelper()
        self.compute = self.helper.connection.compute
        self.clock = self.nova.clock = Clock()

    def running(self, name):
        """Nova's in-flight migrations of a server, through openstacksdk."""
        return list(self.compute.server_migrations(self.server(name)['id']))

    def test_memory_counters_advance_at_the_set_rate(self):
        self.nova.set_migration_rate(self.GiB // 2)    # web-1 has 2 GiB
        uuid = self.server('web-1')['id']
        self.compute.live_migrate_server(uuid, host='compute-2',
                                         block_migration='auto')
        [migration] = self.running('web-1')
        # As in Nova, a counter is null until it is at least 1.
        self.assertEqual((2 * self.GiB, None, 2 * self.GiB), (
            migration.memory_total_bytes, migration.memory_processed_bytes,
            migration.memory_remaining_bytes))
        self.assertEqual('MIGRATING', self.server('web-1')['status'])
        # The destination's room is held while the migration runs.
        self.assertEqual(4, self.usage('compute-2')['vcpus'])

        self.clock.now += 1.5
        [migration] = self.running('web-1')
        self.assertEqual((3 * self.GiB // 4, 5 * self.GiB // 4), (
            migration.memory_processed_bytes,
            migration.memory_remaining_bytes))
        self.assertEqual('compute-1', self.host_of('web-1'))

        self.clock.now += 2.5
        self.assertEqual([], self.running('web-1'))
        server = self.server('web-1')
        self.assertEqual(('compute-2', 'ACTIVE', None), (
            server['OS-EXT-SRV-ATTR:host'], server['status'],
            server['OS-EXT-STS:task_state']))
        self.assertEqual(4, self.usage('compute-2')['vcpus'])

    def test_a_new_rate_applies_to_migrations_in_flight(self):
        self.nova.set_migration_rate(self.GiB)
        self.compute.live_migrate_server(self.server('paused-1')['id'],
                                         host='compute-2',
                                         block_migration='auto')
        self.clock.now += 1
        self.nova.set_migration_rate(0)     # stalled
        self.clock.now += 100
        [migration] = self.running('paused-1')
        self.assertEqual(self.GiB, migration.memory_processed_bytes)
        self.nova.set_migration_rate(self.GiB)
        self.clock.now += 1
        self.assertEqual([], self.running('paused-1'))
        # A live migration keeps the guest's state.
        self.assertEqual(('compute-2', 'PAUSED'), (
            self.host_of('paused-1'), self.server('paused-1')['status']))

    def test_watcher_waits_for_a_migration_that_takes_time(self):
        self.nova.clock = time.monotonic
        self.nova.set_migration_rate(8 * self.GiB)   # 2 GiB in 0.25 s
        self.assertTrue(self.helper.live_migrate_instance(
            self.server('web-1')['id'], 'compute-2'))
        self.assertEqual('compute-2', self.host_of('web-1'))


class TestOwnControllers(unittest.TestCase):

    def test_the_sandbox_nova_uses_no_private_name_of_watcher(self):
        """Watcher's test package may rename its private classes at will:
        the sandbox's Nova must not depend on them."""
        tree = ast.parse(inspect.getsource(sandbox_nova))
        watcher_modules = {
            alias.asname or alias.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module.startswith('watcher.')
            for alias in node.names}
        private = sorted(
            '%s.%s' % (node.value.id, node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in watcher_modules
            and node.attr.startswith('_'))
        self.assertEqual([], private)
        self.assertEqual([], [
            base for base in sandbox_nova.SandboxNova.__mro__
            if base.__name__.startswith('_')])


class TestSandboxModel(testing.SandboxTestCase):
    """What Watcher's collector reads from the sandbox's Nova."""

    def test_model_carries_pins_capacity_and_service_state(self):
        self.load_topology(topology.from_dict(CLUSTER))
        rows = self.get_data_model()
        pinned = [r for r in rows if r.get('server_name') == 'pinned-1']
        self.assertEqual('az-1', pinned[0]['server_pinned_az'])
        spare = [r for r in rows if r.get('node_hostname') == 'compute-4']
        self.assertEqual('disabled', spare[0]['node_status'])
        self.assertEqual('broken disk', spare[0]['node_disabled_reason'])
        reserved = [r for r in rows if r.get('node_hostname') == 'compute-6']
        self.assertEqual(4096, reserved[0]['node_memory_mb_reserved'])
