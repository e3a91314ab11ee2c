"""Watcher's services, in-process, against the sandbox's Nova.

Two ways in:

* ``SandboxTestCase`` (``testing.py``) for tests;
* ``Sandbox``, a fixture usable anywhere (the demo, CLI tests)::

      with Sandbox(topology.load('cluster.yaml')) as sandbox:
          audit = sandbox.create_audit({'maintenance_node': 'compute-3'})
          audit = sandbox.wait_audit(audit['uuid'])
          plan = sandbox.plan_of(audit['uuid'])
          sandbox.run_plan(plan['uuid'])

Both reuse python-watcher's functional environment
(``watcher.tests.functional.base.WatcherEnvironment``: SQLite, fake
messaging, wsgi-intercept, the real API, decision engine and applier)
with its Nova/Placement fixture swapped for ``SandboxNovaFixture``.
"""

from __future__ import annotations

import contextlib
import math
import time
from unittest import mock

import fixtures
from oslo_config import cfg

from watcher_maintenance.sandbox import backend  # noqa: F401 - goes first
from watcher.common.service import Singleton
from watcher.decision_engine.model.collector import nova as nova_collector
from watcher.tests.functional import base as wbase
from watcher.tests.functional.api.client import WatcherTestClient
from watcher.tests.local_fixtures.api import APIFixture
from watcher.tests.local_fixtures.nova import NovaPlacementFixture

from watcher_maintenance import names
from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.sandbox import nova as sandbox_nova
from watcher_maintenance.sandbox import topology as sandbox_topology

CONF = cfg.CONF

# Nova API microversion the sandbox's Watcher asks for: 2.96 and above
# report a server's pinned availability zone.
NOVA_API_VERSION = '2.96'
# How often Watcher polls a migration, and how many times, before it
# calls it failed: a stuck migration fails a test within three seconds,
# while a slow machine still gets thirty looks at a working one.
MIGRATION_MAX_RETRIES = 30
MIGRATION_INTERVAL = 0.1
# Upper bounds for waiting on an audit or a plan to end. They only turn
# a hang into a failure, so they are generous for a loaded machine.
AUDIT_TIMEOUT = 180
PLAN_TIMEOUT = 300

AUDIT_DONE = ('SUCCEEDED', 'FAILED', 'CANCELLED')
PLAN_DONE = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUPERSEDED')


def override_watcher_nova_options(fixture, max_retries=MIGRATION_MAX_RETRIES,
                                  interval=MIGRATION_INTERVAL):
    """Point Watcher at a test Nova the way both test backends need:
    the microversion that shows AZ pins, extended model attributes, and
    migration polling short enough for tests. Undone at cleanup."""
    for group, key, value in (
            ('nova', 'api_version', NOVA_API_VERSION),
            ('compute_model', 'enable_extended_attributes', True),
            ('nova', 'migration_max_retries', max_retries),
            ('nova', 'migration_interval', interval)):
        CONF.set_override(key, value, group)
        fixture.addCleanup(CONF.clear_override, key, group)


class SandboxClient(WatcherTestClient):
    """Watcher's test client, asking for the newest API microversion.

    Audits' ``status_message`` (the strategy's reasons) appears from
    microversion 1.5 on.
    """

    def _headers(self):
        headers = super()._headers()
        headers['OpenStack-API-Version'] = 'infra-optim latest'
        return headers


class SandboxError(AssertionError):
    """Something the sandbox expected did not happen (a test failure)."""


class SandboxNovaFixture(NovaPlacementFixture):
    """Watcher's Nova/Placement wiring, serving ``SandboxNova`` instead.

    Watcher's fixture installs the intercepts with a factory that reads
    ``self.nova_emulator`` on each connection, so swapping the emulator
    after its ``setUp`` is enough. Also sets the options the sandbox
    needs: extended attributes (pinned AZ in the model), a Nova
    microversion that reports it, and quick migration polling.
    """

    def setUp(self):
        super().setUp()
        self.nova_emulator = sandbox_nova.SandboxNova(
            placement=self.placement_emulator)
        if self._topology is not None:
            self.nova_emulator.load_topology(self._topology)
        override_watcher_nova_options(self)

    def reload_topology(self, topology):
        # Placement first: the Nova emulator then writes its usage there.
        self.placement_emulator.load_topology(topology)
        self.nova_emulator.load_topology(topology)
        self.invalidate_model()

    @staticmethod
    def invalidate_model():
        """Make the next audit rebuild the cluster model from Nova.

        Watcher keeps its compute model up to date from Nova's
        notifications, which the sandbox does not send; without this an
        audit after a plan would plan on the old positions.
        """
        collector = Singleton._instances.get(
            nova_collector.NovaClusterDataModelCollector)
        if collector is not None:
            collector._cluster_data_model = None


@contextlib.contextmanager
def sandbox_wiring():
    """While active, Watcher's environment wires the sandbox's Nova."""
    with mock.patch.object(wbase, 'NovaPlacementFixture',
                           SandboxNovaFixture):
        yield


class SandboxOperations:
    """Operator-level helpers over the Watcher API and the emulated Nova.

    Needs ``self.admin_api`` (a ``WatcherTestClient``) and
    ``self.nova_fixture`` (a ``SandboxNovaFixture``).
    """

    poll_interval = 0.05

    def connect_test_case(self):
        """The end of a test case's setUp, once Watcher's environment
        runs: an API client with status messages, and the class's
        ``TOPOLOGY`` loaded if it names one."""
        self.nova_fixture = self.env.nova_fixture
        self.admin_api = SandboxClient(
            self.api_fixture.base_url, user_id=wbase.FAKE_USER_UUID,
            roles=['admin'])
        self.topology = self.COMPUTE_TOPOLOGY
        if self.TOPOLOGY is not None:
            self.load_topology(self.TOPOLOGY)

    # -- the cluster -------------------------------------------------------

    @property
    def nova(self) -> sandbox_nova.SandboxNova:
        return self.nova_fixture.nova_emulator

    def load_topology(self, topology):
        """Load (or replace) the cluster: a topology object or a file."""
        self.topology = sandbox_topology.load(topology)
        self.nova_fixture.reload_topology(self.topology)
        return self.topology

    def server(self, name) -> dict:
        """The emulator's record of a server (a copy), as of now."""
        with self.nova.lock:
            self.nova.advance()
            return dict(self.nova.server_named(name))

    def host_of(self, name) -> str:
        return self.server(name)['OS-EXT-SRV-ATTR:host']

    def service(self, host) -> dict:
        with self.nova.lock:
            return dict(self.nova.service_of(host))

    def servers_on(self, host) -> list:
        with self.nova.lock:
            self.nova.advance()
            return sorted(s['name'] for s in self.nova.servers.values()
                          if s['OS-EXT-SRV-ATTR:host'] == host)

    def set_migration_rate(self, bytes_per_second):
        """Live migrations copy guest memory at this rate (None: at once).

        Watcher polls a live migration ``[nova] migration_max_retries``
        times before it calls it failed; that is raised so it waits for
        the biggest guest at this rate, four times over.
        """
        self.nova.set_migration_rate(bytes_per_second)
        if not bytes_per_second:
            return
        with self.nova.lock:
            biggest = max((s['flavor']['ram'] for s in
                           self.nova.servers.values()), default=0)
        seconds = biggest * 1024 * 1024 / bytes_per_second
        override_watcher_nova_options(
            self.nova_fixture, max_retries=max(
                MIGRATION_MAX_RETRIES,
                math.ceil(4 * seconds / MIGRATION_INTERVAL)))

    def inject_failure(self, server_name, kind, times=1):
        """Make the next migration(s) of a server fail; see nova.FAILURES."""
        uuid = self.nova.server_named(server_name)['id']
        self.nova.inject_failure(uuid, kind, times)

    def delete_server(self, name):
        self.nova.delete_server(self.nova.server_named(name)['id'])

    def move_server(self, name, host):
        """Someone else live-migrates a server (checked like any move)."""
        return self.nova.move_server(self.nova.server_named(name)['id'],
                                     host)

    def set_service(self, host, status, reason=None):
        with self.nova.lock:
            svc = self.nova.service_of(host)
            svc['status'] = status
            svc['disabled_reason'] = reason
            for hyp in self.nova.hypervisors.values():
                if hyp['hypervisor_hostname'] == host:
                    hyp['status'] = status
                    hyp['service']['disabled_reason'] = reason

    def usage(self, host) -> dict:
        """Used and usable vCPU, RAM (MiB) and disk (GiB) of a host."""
        with self.nova.lock:
            used = self.nova.usage(host)
            cap = self.nova.capacity(host)
        return {'vcpus': used[0], 'memory_mb': used[1], 'disk_gb': used[2],
                'vcpus_capacity': cap[0], 'memory_mb_capacity': cap[1],
                'disk_gb_capacity': cap[2]}

    def overcommitted(self) -> list:
        """Sentences for each host over capacity in some dimension."""
        problems = []
        with self.nova.lock:
            for host in sorted(self.nova.hosts):
                used = self.nova.usage(host)
                cap = self.nova.capacity(host)
                for label, u, c in zip(('vCPU', 'MiB RAM', 'GiB disk'),
                                       used, cap):
                    if u > c:
                        problems.append('%s uses %g %s of %g' % (
                            host, u, label, c))
        return problems

    def assert_no_overcommit(self):
        problems = self.overcommitted()
        if problems:
            raise SandboxError('Hosts over capacity: ' + '; '.join(problems))

    # -- Watcher -------------------------------------------------------------

    def audit_request(self, parameters, goal=names.GOAL,
                      strategy=names.DRAIN_STRATEGY, scope=None, **extra):
        """POST /audits as an operator would; returns the raw response."""
        self.nova_fixture.invalidate_model()
        body = {'audit_type': 'ONESHOT', 'goal': goal, 'strategy': strategy,
                'parameters': parameters}
        if scope is not None:
            # Watcher takes a scope only from an audit template.
            self._templates = getattr(self, '_templates', 0) + 1
            resp = self.admin_api.post('/audit_templates', {
                'name': 'sandbox-scope-%d' % self._templates, 'goal': goal,
                'strategy': strategy, 'scope': scope})
            if resp.status_code != 201:
                return resp
            body['audit_template_uuid'] = resp.json()['uuid']
            del body['goal'], body['strategy']
        body.update(extra)
        return self.admin_api.post('/audits', body)

    def create_audit(self, parameters, goal=names.GOAL,
                     strategy=names.DRAIN_STRATEGY, scope=None) -> dict:
        resp = self.audit_request(parameters, goal, strategy, scope)
        if resp.status_code != 201:
            raise SandboxError('POST /audits answered %s, not 201: %s'
                               % (resp.status_code, resp.text))
        return resp.json()

    def _get(self, url):
        resp = self.admin_api.get(url)
        if resp.status_code != 200:
            raise SandboxError('GET %s answered %s: %s'
                               % (url, resp.status_code, resp.text))
        return resp.json()

    def _wait(self, url, done, timeout):
        deadline = time.monotonic() + timeout
        while True:
            body = self._get(url)
            if body['state'] in done:
                return body
            if time.monotonic() > deadline:
                raise SandboxError('%s still %s after %ss'
                                   % (url, body['state'], timeout))
            time.sleep(self.poll_interval)

    def wait_audit(self, uuid, timeout=AUDIT_TIMEOUT) -> dict:
        """The audit once SUCCEEDED, FAILED or CANCELLED."""
        return self._wait('/audits/%s' % uuid, AUDIT_DONE, timeout)

    def plan_of(self, audit_uuid):
        """The audit's action plan, or None when it has none."""
        plans = self._get('/action_plans?audit_uuid=%s'
                          % audit_uuid)['action_plans']
        if not plans:
            return None
        if len(plans) > 1:
            raise SandboxError('Audit %s has %d action plans'
                               % (audit_uuid, len(plans)))
        return self._get('/action_plans/%s' % plans[0]['uuid'])

    def actions_of(self, plan_uuid) -> list:
        """Every action of a plan, with details, parents first."""
        actions = self._get('/actions/detail?action_plan_uuid=%s&limit=1000'
                            % plan_uuid)['actions']
        return watcher_ops.parents_first(actions)

    def start_plan(self, plan_uuid):
        resp = self.admin_api.patch(
            '/action_plans/%s' % plan_uuid,
            [{'op': 'replace', 'path': '/state', 'value': 'PENDING'}])
        if resp.status_code != 200:
            raise SandboxError('Starting plan %s answered %s: %s'
                               % (plan_uuid, resp.status_code, resp.text))

    def wait_plan(self, plan_uuid, timeout=PLAN_TIMEOUT) -> dict:
        return self._wait('/action_plans/%s' % plan_uuid, PLAN_DONE,
                          timeout)

    def run_plan(self, plan_uuid, timeout=PLAN_TIMEOUT) -> dict:
        """Start a plan and return it once SUCCEEDED/FAILED/CANCELLED."""
        self.start_plan(plan_uuid)
        return self.wait_plan(plan_uuid, timeout)

    def indicators_of(self, plan) -> dict:
        return {i['name']: i['value']
                for i in plan.get('efficacy_indicators') or []}


class Sandbox(SandboxOperations, fixtures.Fixture):
    """The whole sandbox as a fixture, for use outside a test case.

    :param topology: a topology object or a path to a YAML/JSON file.
    :param cast_as_call: make RPC casts synchronous (True in tests). The
        demo passes False, so a plan runs in the applier's own threads
        while the caller watches its progress.
    """

    def __init__(self, topology, cast_as_call=True):
        super().__init__()
        self.topology = sandbox_topology.load(topology)
        self._cast_as_call = cast_as_call

    def setUp(self):
        super().setUp()
        with sandbox_wiring():
            self.env = self.useFixture(wbase.WatcherEnvironment(
                cast_as_call=self._cast_as_call,
                compute_topology=self.topology))
        self.nova_fixture = self.env.nova_fixture
        api = self.useFixture(APIFixture())
        self.admin_api = SandboxClient(
            api.base_url, user_id=wbase.FAKE_USER_UUID, roles=['admin'])
        self.addCleanup(CONF.reset)
