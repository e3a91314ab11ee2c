"""``DeploymentTestCase``: a test case over a ``bed.Deployment``.

The cluster is read from real Nova with the real-Nova bed's helpers
(``servers_on``, ``cluster_state``, ``overcommitted``, ...). The logs of
every service stay in a temporary directory, removed when the test
passes; when it fails, the failure names the directory and shows the
end of each service's log.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import types

import testtools
from testtools import content

from watcher_maintenance.deployment import bed
from watcher_maintenance.realnova import fixture as realnova
from watcher_maintenance.realnova import testing as realnova_testing
from watcher_maintenance.sandbox import topology as sandbox_topology
from watcher_maintenance.watcher import planning_lock


class DeploymentTestCase(testtools.TestCase,
                         realnova_testing.RealNovaOperations):

    TOPOLOGY = None
    DECISION_ENGINES = 1
    APPLIERS = 1

    def setUp(self):
        super().setUp()
        if realnova.nova_python() is None:
            self.skipTest('no Nova virtualenv at %s: run '
                          'watcher_maintenance/realnova/make_venv.sh'
                          % realnova.nova_venv())
        self.log_dir = tempfile.mkdtemp(prefix='wm-deployment-')
        self._keep_logs = False
        self.addCleanup(self._remove_logs)
        self.addOnException(self._on_failure)
        self.topology = sandbox_topology.load(self.TOPOLOGY)
        self.deployment = self.useFixture(bed.Deployment(
            self.TOPOLOGY, self.log_dir,
            decision_engines=self.DECISION_ENGINES, appliers=self.APPLIERS))
        # The planning lock of this deployment's database.
        self.lock_name = planning_lock.lock_name(self.deployment.name)
        # RealNovaOperations reads Nova through ``nova_fixture.nova``.
        self.nova_fixture = types.SimpleNamespace(nova=self.deployment.nova)

    def _on_failure(self, exc_info):
        self._keep_logs = True
        tails = []
        for name in sorted(os.listdir(self.log_dir)):
            path = os.path.join(self.log_dir, name)
            if name.endswith('.log') and os.path.isfile(path):
                with open(path, encoding='utf-8', errors='replace') as s:
                    lines = [line for line in s.read().splitlines()
                             if ' ERROR ' in line or ' WARNING ' in line
                             or ' CRITICAL ' in line][-15:]
                tails.append('--- %s (last errors and warnings)\n%s'
                             % (path, '\n'.join(lines)))
        self.addDetail('deployment-logs', content.text_content(
            'Every log and the configuration are kept in %s\n%s'
            % (self.log_dir, '\n'.join(tails))))

    def _remove_logs(self):
        if not self._keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    # -- operator steps ----------------------------------------------------

    def openstack(self, *argv, **kwargs):
        return self.deployment.openstack(*argv, **kwargs)

    def openstack_json(self, *argv):
        return json.loads(self.openstack(*argv, '-f', 'json').stdout)

    def create_audit(self, strategy, node, *params):
        """``openstack optimize audit create``; the audit's UUID."""
        argv = ['optimize', 'audit', 'create', '-g', 'cluster_maintenance',
                '-s', strategy, '-p', 'maintenance_node=%s' % node]
        for param in params:
            argv += ['-p', param]
        return self.openstack_json(*argv)['UUID']

    def wait_model_fresh(self, settled=3):
        """Wait until the decision engines' compute model places every
        server where Nova has it, ``settled`` reads in a row (with
        several decision engines each read may come from another)."""
        def fresh():
            nova = {s['id']: s['OS-EXT-SRV-ATTR:host']
                    for s in self.servers()}
            for _ in range(settled):
                if self.deployment.compute_model() != nova:
                    return False
            return True
        bed.wait_for('the compute model to agree with Nova', fresh,
                     interval=1.0)

    def assert_every_guest_accounted_for(self, before):
        """Every server there was is still there, in the status it had
        (none lost, none in ERROR), and no host is over capacity."""
        self.wait_settled()
        now = self.cluster_state()
        self.assertEqual(sorted(before), sorted(now))
        self.assertEqual({name: status for name, (_, status)
                          in before.items()},
                         {name: status for name, (_, status) in now.items()})
        self.assertEqual([], self.overcommitted())

    def action_report(self, plan_uuid):
        return [(a['action_type'], a['state'], a.get('status_message'))
                for a in self.deployment.actions_of(plan_uuid)]
