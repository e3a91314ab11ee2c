"""``RealNovaTestCase``: Watcher's services against real Nova.

Like ``sandbox.testing.SandboxTestCase`` (same helpers: ``load_topology``,
``create_audit``, ``wait_audit``, ``plan_of``, ``actions_of``,
``run_plan``, ``host_of``, ``service``, ...), but every question about the
cluster is answered by Nova's own API, served by a real Nova 34 with the
fake virt driver in a child process (see ``fixture.py``)::

    class TestDrain(testing.RealNovaTestCase):
        def test_drain(self):
            self.load_topology('cluster.yaml')
            ...
            self.assertEqual([], self.servers_on('compute-1'))

The test case is skipped, saying how to make it, when the Nova
virtualenv does not exist.
"""

from __future__ import annotations

import os
import time
from unittest import mock

from watcher.tests.functional import base as wbase

from watcher_maintenance.realnova import fixture as realnova
from watcher_maintenance.sandbox import services
from watcher_maintenance.sandbox import topology as sandbox_topology

# A migration still running when a plan is over would make the checks
# that follow race with Nova.
SETTLE_TIMEOUT = 60


class RealNovaOperations(services.SandboxOperations):
    """The sandbox's operator helpers, reading the cluster from Nova."""

    @property
    def nova(self) -> realnova.RealNova:
        return self.nova_fixture.nova

    def load_topology(self, topology, live_migration_rate=None):
        """``live_migration_rate``: bytes/s a live migration copies, with
        Nova's memory counters reported as it goes (None: at once)."""
        self.topology = sandbox_topology.load(topology)
        self.nova_fixture.reload_topology(
            self.topology, live_migration_rate=live_migration_rate)
        return self.topology

    # -- Nova's view ---------------------------------------------------------

    def servers(self) -> list:
        return self.nova.get('/servers/detail?all_tenants=1')['servers']

    def server(self, name) -> dict:
        found = [s for s in self.servers() if s['name'] == name]
        if len(found) != 1:
            raise services.SandboxError('Nova has %d servers named %s'
                                        % (len(found), name))
        return found[0]

    def host_of(self, name) -> str:
        return self.server(name)['OS-EXT-SRV-ATTR:host']

    def service(self, host) -> dict:
        found = self.nova.get('/os-services?binary=nova-compute&host=%s'
                              % host)['services']
        if len(found) != 1:
            raise services.SandboxError('Nova has %d nova-compute services '
                                        'on %s' % (len(found), host))
        return found[0]

    def servers_on(self, host) -> list:
        return sorted(s['name'] for s in self.servers()
                      if s['OS-EXT-SRV-ATTR:host'] == host)

    def cluster_state(self) -> dict:
        """{server name: (host, status)} from Nova."""
        return {s['name']: (s['OS-EXT-SRV-ATTR:host'], s['status'])
                for s in self.servers()}

    def migrations(self) -> list:
        return self.nova.get('/os-migrations')['migrations']

    def wait_settled(self, timeout=SETTLE_TIMEOUT):
        """Wait until no server has a task and no migration is running."""
        deadline = time.monotonic() + timeout
        while True:
            busy = [s['name'] for s in self.servers()
                    if s.get('OS-EXT-STS:task_state')]
            busy += ['migration %s' % m['id'] for m in self.migrations()
                     if m['status'] in ('queued', 'preparing', 'running',
                                        'pre-migrating', 'migrating',
                                        'post-migrating', 'accepted')]
            if not busy:
                return
            if time.monotonic() > deadline:
                raise services.SandboxError('Still busy after %ss: %s'
                                            % (timeout, ', '.join(busy)))
            time.sleep(0.2)

    def usage(self, host) -> dict:
        """Used and usable vCPU, RAM and disk of a host, from Placement."""
        rp = self.nova.placement('/resource_providers?name=%s'
                                 % host)['resource_providers'][0]['uuid']
        inv = self.nova.placement('/resource_providers/%s/inventories'
                                  % rp)['inventories']
        used = self.nova.placement('/resource_providers/%s/usages'
                                   % rp)['usages']

        def usable(rc):
            i = inv[rc]
            return (i['total'] - i['reserved']) * i['allocation_ratio']

        return {'vcpus': used.get('VCPU', 0),
                'memory_mb': used.get('MEMORY_MB', 0),
                'disk_gb': used.get('DISK_GB', 0),
                'vcpus_capacity': usable('VCPU'),
                'memory_mb_capacity': usable('MEMORY_MB'),
                'disk_gb_capacity': usable('DISK_GB')}

    def overcommitted(self) -> list:
        problems = []
        for host in sorted(h.hostname for h in self.topology.compute_nodes):
            use = self.usage(host)
            for key, label in (('vcpus', 'vCPU'), ('memory_mb', 'MiB RAM'),
                               ('disk_gb', 'GiB disk')):
                if use[key] > use[key + '_capacity']:
                    problems.append('%s uses %g %s of %g' % (
                        host, use[key], label, use[key + '_capacity']))
        return problems

    # -- "someone else" acts on Nova -------------------------------------

    def boot_server(self, name, host, vcpus=1, memory_mb=2048, disk_gb=20,
                    timeout=60) -> dict:
        """Boot a server on ``host`` through Nova's API, as a user would."""
        flavor = self.nova.request('POST', '/flavors', {'flavor': {
            'name': 'extra-%s' % name, 'vcpus': vcpus, 'ram': memory_mb,
            'disk': disk_gb}}, expect=200).json()['flavor']
        server = self.nova.request('POST', '/servers', {'server': {
            'name': name, 'imageRef': '155d900f-4e14-4e4c-a73d-069cbf4541e6',
            'flavorRef': flavor['id'], 'networks': 'none', 'host': host}},
            expect=202).json()['server']
        deadline = time.monotonic() + timeout
        while True:
            server = self.nova.get('/servers/%s' % server['id'])['server']
            if server['status'] in ('ACTIVE', 'ERROR'):
                return server
            if time.monotonic() > deadline:
                raise services.SandboxError('%s still %s after %ss' % (
                    name, server['status'], timeout))
            time.sleep(0.2)

    def set_service(self, host, status, reason=None):
        body = {'status': status}
        if status == 'disabled' and reason:
            body['disabled_reason'] = reason
        self.nova.request('PUT', '/os-services/%s' % self.service(host)['id'],
                          body, expect=200)

    def server_action(self, name, body, microversion=realnova.
                      NOVA_API_VERSION):
        """POST a server action; returns the raw response."""
        return self.nova.request(
            'POST', '/servers/%s/action' % self.server(name)['id'], body,
            microversion=microversion)


class RealNovaTestCase(RealNovaOperations, wbase.WatcherFunctionalTestCase):
    """Real Watcher services (in-process) against real Nova (child)."""

    COMPUTE_TOPOLOGY = sandbox_topology.SandboxTopology()
    TOPOLOGY = None

    def setUp(self):
        if realnova.nova_python() is None:
            self.skipTest('no Nova virtualenv at %s: run '
                          'watcher_maintenance/realnova/make_venv.sh'
                          % realnova.nova_venv())
        log_dir = os.environ.get('WM_NOVA_LOG_DIR')
        if log_dir:
            log_dir = os.path.join(log_dir, self.id())

        def wiring(topology=None):
            return realnova.RealNovaPlacementFixture(topology, log_dir)

        with mock.patch.object(wbase, 'NovaPlacementFixture', wiring):
            super().setUp()
        self.connect_test_case()

    def load_topology(self, topology, live_migration_rate=None):
        return RealNovaOperations.load_topology(self, topology,
                                                live_migration_rate)
