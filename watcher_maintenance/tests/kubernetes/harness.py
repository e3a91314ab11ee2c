"""Real kubectl, the controller under kopf, real Watcher services.

Each test gets the project's stand-in Kubernetes API server on
127.0.0.1 (``kubernetes/testing/apiserver.py``), one Node per sandbox
host (labelled as compute nodes), Watcher's API, decision engine and
applier in-process on the sandbox's Nova (``SandboxTestCase``), and the
controller under ``kopf.testing.KopfRunner`` with python-watcherclient
and openstacksdk clients on that Watcher and Nova. The operator's side
is the real ``kubectl`` binary.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from unittest import mock

from kopf.testing import KopfRunner

from watcher_maintenance.kubernetes import handlers
from watcher_maintenance.kubernetes import openstack_side
from watcher_maintenance.kubernetes import settings as wm
from watcher_maintenance.kubernetes.testing import apiserver
from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.functional import cli_harness

GUARD_NAMESPACE = os.environ['WM_K8S_GUARD_NAMESPACE']
# Generous: a loaded 2-core machine runs Watcher, kopf and kubectl.
TIMEOUT = 120


class BridgeTestCase(testing.SandboxTestCase):

    def setUp(self):
        super().setUp()
        self.assertIsNotNone(shutil.which('kubectl'),
                             'kubectl is needed: make test-kubernetes '
                             'installs it')
        self.api = apiserver.StandInApiServer().start()
        self.addCleanup(self.api.stop)
        with open(os.environ['KUBECONFIG'], 'w') as kubeconfig:
            kubeconfig.write(self.api.kubeconfig())
        self.create({'apiVersion': 'v1', 'kind': 'Namespace',
                     'metadata': {'name': GUARD_NAMESPACE}})
        for host in self.topology_hosts():
            self.create({'apiVersion': 'v1', 'kind': 'Node',
                         'metadata': {'name': host, 'labels': {
                             'openstack-compute-node': 'enabled'}},
                         'status': {'conditions': [{'type': 'Ready',
                                                    'status': 'True'}]}})
        watcher = cli_harness.watcher(self.api_fixture.endpoint)
        compute = cli_harness.compute(self.nova_fixture.nova_url)
        patcher = mock.patch.object(handlers, 'connect_openstack',
                                    lambda: (watcher, compute))
        patcher.start()
        self.addCleanup(patcher.stop)
        # Watcher learns of moves from Nova's notifications, which the
        # sandbox does not send: each new audit rebuilds the model, as
        # it would see the cloud in a real deployment.
        create_audit = openstack_side.OpenStackSide.create_audit

        def create_audit_on_fresh_model(side, step, node):
            self.nova_fixture.invalidate_model()
            return create_audit(side, step, node)

        patcher = mock.patch.object(openstack_side.OpenStackSide,
                                    'create_audit',
                                    create_audit_on_fresh_model)
        patcher.start()
        self.addCleanup(patcher.stop)

    def topology_hosts(self):
        return [host['name'] for host in self.TOPOLOGY['hosts']]

    # -- kubectl ---------------------------------------------------------

    def kubectl(self, *argv, check=True):
        result = subprocess.run(['kubectl', *argv], capture_output=True,
                                text=True, timeout=TIMEOUT)
        if check and result.returncode:
            self.fail('kubectl %s: %s' % (' '.join(argv), result.stderr))
        return result

    def kubectl_background(self, *argv):
        process = subprocess.Popen(['kubectl', *argv],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        self.addCleanup(_stop, process)
        return process

    def create(self, document):
        # No /openapi on the stand-in: kubectl cannot validate.
        subprocess.run(
            ['kubectl', 'create', '--validate=false', '-f', '-'],
            input=json.dumps(document), check=True, capture_output=True,
            text=True, timeout=TIMEOUT)

    def node(self, name):
        return json.loads(self.kubectl('get', 'node', name,
                                       '-o', 'json').stdout)

    def annotation(self, name, key):
        return (self.node(name)['metadata'].get('annotations')
                or {}).get(key)

    def state(self, name):
        return self.annotation(name, wm.STATE)

    def events(self, name):
        listed = json.loads(self.kubectl('get', 'events', '-A',
                                         '-o', 'json').stdout)
        return [(e.get('type'), e.get('reason'), e.get('message'))
                for e in listed['items']
                if e['involvedObject'].get('name') == name]

    def guard_budget_exists(self, name):
        return self.kubectl('get', 'pdb', '-n', GUARD_NAMESPACE,
                            'wm-guard-' + name, check=False).returncode == 0

    def guard_pod_exists(self, name):
        return self.kubectl('get', 'pod', '-n', GUARD_NAMESPACE,
                            'wm-guard-' + name, check=False).returncode == 0

    # -- the controller and waiting --------------------------------------

    @contextlib.contextmanager
    def controller(self):
        runner = KopfRunner(['run', '--standalone', '--all-namespaces',
                             '-m', handlers.__name__])
        with runner:
            yield runner
        self.assertIsNone(runner.exception, runner.output)

    def wait_for(self, what, condition, timeout=TIMEOUT):
        """Poll ``condition`` until truthy; fail naming ``what``."""
        end = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > end:
                self.fail('Still waiting after %d s for %s'
                          % (timeout, what))
            time.sleep(0.1)

    def wait_state(self, name, *states):
        self.wait_for('%s to reach %s (now %s: %s)' % (
            name, '/'.join(states), self.state(name),
            self.annotation(name, wm.MESSAGE)),
            lambda: self.state(name) in states)
        return self.state(name)

    def audits(self):
        return self._get('/audits/detail')['audits']


def _stop(process):
    if process.poll() is None:
        process.kill()
    process.communicate()
