"""``SandboxTestCase``: functional tests on real Watcher services.

Watcher's own ``WatcherFunctionalTestCase`` runs the API, the decision
engine and the applier in-process; this subclass points them at the
sandbox's Nova (``nova.SandboxNova``) and adds operator-level helpers::

    class TestDrain(testing.SandboxTestCase):
        def test_drain(self):
            self.load_topology('cluster.yaml')
            audit = self.create_audit({'maintenance_node': 'compute-1'})
            audit = self.wait_audit(audit['uuid'])
            plan = self.plan_of(audit['uuid'])
            self.assertEqual('SUCCEEDED',
                             self.run_plan(plan['uuid'])['state'])
            self.assertEqual([], self.servers_on('compute-1'))
            self.assert_no_overcommit()

A test loads its cluster with ``load_topology`` (a ``SandboxTopology``,
a Watcher ``ComputeTopology``, a dict or a YAML/JSON path); the class
attribute ``TOPOLOGY`` may name one to load before each test.
"""

from __future__ import annotations

from watcher.tests.functional import base as wbase

from watcher_maintenance.sandbox import services
from watcher_maintenance.sandbox import topology as sandbox_topology
from watcher_maintenance.sandbox.nova import API_ERROR  # noqa: F401
from watcher_maintenance.sandbox.nova import ERROR_AFTER_START  # noqa: F401
from watcher_maintenance.sandbox.nova import NEVER_COMPLETES  # noqa: F401


class SandboxTestCase(services.SandboxOperations,
                      wbase.WatcherFunctionalTestCase):
    """Real Watcher services against the sandbox's faithful Nova."""

    # Watcher's environment wires a Nova only when this is not None.
    COMPUTE_TOPOLOGY = sandbox_topology.SandboxTopology()
    # Optional: a topology (object or path) loaded before each test.
    TOPOLOGY = None

    def setUp(self):
        with services.sandbox_wiring():
            super().setUp()
        self.connect_test_case()

    def load_topology(self, topology):
        return services.SandboxOperations.load_topology(self, topology)
