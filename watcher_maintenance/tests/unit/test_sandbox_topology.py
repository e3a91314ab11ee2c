"""Loading cluster descriptions for the sandbox (YAML, JSON, dicts)."""

import json
import os
import tempfile
import unittest

from watcher_maintenance.sandbox import demo
from watcher_maintenance.sandbox import topology

YAML_CLUSTER = """
flavors:
  m1.small: {vcpus: 1, memory_mb: 2048, disk_gb: 20}
defaults:
  host: {vcpus: 32, memory_mb: 65536, disk_gb: 1000}
hosts:
  - name: compute-1
    availability_zone: az-1
    allocation_ratio: {vcpu: 4.0}
    reserved: {memory_mb: 4096}
  - name: compute-2
    availability_zone: az-2
    status: disabled
    disabled_reason: watcher_spare
  - {name: compute-3, state: down, vcpus: 8}
server_groups:
  - {name: db, policy: anti-affinity, rules: {max_server_per_host: 2}}
aggregates:
  - {name: fast, hosts: [compute-1]}
guests:
  - {name: "web-{n}", count: 3, hosts: [compute-1, compute-3],
     flavor: m1.small}
  - {name: db-1, host: compute-1, vcpus: 4, memory_mb: 8192, disk_gb: 40,
     server_group: db, state: stopped, pinned_az: az-1,
     boot_from_volume: true}
"""


def write(text, suffix):
    handle, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(handle, 'w') as stream:
        stream.write(text)
    return path


class TestLoad(unittest.TestCase):

    def setUp(self):
        path = write(YAML_CLUSTER, '.yaml')
        self.addCleanup(os.remove, path)
        self.topo = topology.load(path)

    def test_hosts(self):
        one = self.topo.host('compute-1')
        self.assertEqual((32, 65536, 1000), (one.vcpus, one.memory,
                                             one.disk))
        self.assertEqual(4.0, one.vcpu_ratio)
        self.assertEqual(1.0, one.memory_ratio)
        self.assertEqual(4096, one.memory_mb_reserved)
        self.assertEqual('az-1', one.availability_zone)
        spare = self.topo.host('compute-2')
        self.assertEqual(('disabled', 'watcher_spare', 'up'),
                         (spare.status, spare.disabled_reason, spare.state))
        self.assertEqual(('down', 8), (self.topo.host('compute-3').state,
                                       self.topo.host('compute-3').vcpus))

    def test_guests_with_count_round_robin_over_hosts(self):
        hosts = {g.name: g.host for g in self.topo.instances}
        self.assertEqual({'web-1': 'compute-1', 'web-2': 'compute-3',
                          'web-3': 'compute-1', 'db-1': 'compute-1'}, hosts)
        web = self.topo.guest('web-2')
        self.assertEqual((1, 2048, 20, 'm1.small'),
                         (web.vcpus, web.memory, web.disk, web.flavor_name))
        self.assertEqual('nova', web.availability_zone)

    def test_guest_attributes(self):
        db = self.topo.guest('db-1')
        self.assertEqual('stopped', db.state)
        self.assertEqual('az-1', db.pinned_az)
        self.assertEqual('db', db.server_group)
        self.assertTrue(db.bfv)

    def test_groups_and_aggregates(self):
        group = self.topo.group('db')
        self.assertEqual('anti-affinity', group.policy)
        self.assertEqual({'max_server_per_host': 2}, group.rules)
        self.assertEqual(['compute-1'], self.topo.aggregates[0].hosts)

    def test_same_names_give_the_same_uuids(self):
        again = topology.from_dict(
            json.loads(json.dumps(_yaml(YAML_CLUSTER))))
        self.assertEqual([g.uuid for g in self.topo.instances],
                         [g.uuid for g in again.instances])
        self.assertEqual(self.topo.host('compute-1').uuid,
                         again.host('compute-1').uuid)

    def test_json_file(self):
        path = write(json.dumps(_yaml(YAML_CLUSTER)), '.json')
        self.addCleanup(os.remove, path)
        self.assertEqual(4, len(topology.load(path).instances))

    def test_builtin_demo_cluster(self):
        topo = topology.from_dict(demo.BUILTIN)
        self.assertGreaterEqual(len(topo.compute_nodes), 8)
        self.assertGreaterEqual(len(topo.instances), 60)
        self.assertEqual({'az-1', 'az-2'},
                         {h.availability_zone for h in topo.compute_nodes})
        spares = [h.hostname for h in topo.compute_nodes
                  if h.disabled_reason == 'watcher_spare']
        self.assertEqual(['compute-10'], spares)
        self.assertLessEqual({'active', 'stopped', 'paused'},
                             {g.state for g in topo.instances})


def _yaml(text):
    import yaml
    return yaml.safe_load(text)


class TestErrors(unittest.TestCase):
    """Mistakes in a description are refused with where and what."""

    def assertRefused(self, spec, *words):
        with self.assertRaises(topology.TopologyError) as caught:
            topology.from_dict(spec)
        for word in words:
            self.assertIn(word, str(caught.exception))

    def test_unknown_host_of_a_guest(self):
        self.assertRefused({'hosts': [{'name': 'a'}],
                            'guests': [{'name': 'g', 'host': 'b'}]},
                           'guests[0]', "'b'")

    def test_unknown_flavor(self):
        self.assertRefused({'hosts': [{'name': 'a'}],
                            'guests': [{'name': 'g', 'host': 'a',
                                        'flavor': 'huge'}]}, 'huge')

    def test_bad_state_status_and_policy(self):
        self.assertRefused({'hosts': [{'name': 'a'}],
                            'guests': [{'name': 'g', 'host': 'a',
                                        'state': 'happy'}]}, 'happy')
        self.assertRefused({'hosts': [{'name': 'a', 'status': 'on'}]},
                           'status')
        self.assertRefused({'server_groups': [{'name': 'x',
                                               'policy': 'together'}]},
                           'together')

    def test_typos_and_duplicates(self):
        self.assertRefused({'hosts': [{'name': 'a', 'vcpu': 4}]},
                           'vcpu', 'hosts[0]')
        self.assertRefused({'host': []}, 'host')
        self.assertRefused({'hosts': [{'name': 'a'}, {'name': 'a'}]},
                           'twice')
        self.assertRefused({'hosts': [{'name': 'a', 'vcpus': 'many'}]},
                           'number')

    def test_count_needs_a_placeholder(self):
        self.assertRefused({'hosts': [{'name': 'a'}],
                            'guests': [{'name': 'g', 'host': 'a',
                                        'count': 2}]}, '{n}')

    def test_pinned_zone_must_exist(self):
        self.assertRefused({'hosts': [{'name': 'a'}],
                            'guests': [{'name': 'g', 'host': 'a',
                                        'pinned_az': 'mars'}]}, 'mars')
