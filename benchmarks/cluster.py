"""Synthetic Watcher clusters for the benchmarks, and a way to time a
strategy's ``do_execute`` on them outside the decision engine.

The clusters are deterministic for a given seed. Their shape:

* hosts of 64 cores (vCPU ratio 4.0), 384 GiB RAM (8 GiB reserved) and
  4 TB of local disk;
* one host in ten is an older, smaller one (24 cores, 160 GiB), filled
  until it is nearly full (at least 95% of its RAM);
* the other hosts carry 16 to 24 guests, so about 20 per host on average;
* a mix of flavors from 1 vCPU / 2 GiB to 16 vCPU / 32 GiB, the largest
  booted from volume (disk 0), one guest in ten stopped;
* one host in a hundred disabled by someone else, one in two hundred down.
"""

from __future__ import annotations

import random
import time
import uuid
from unittest import mock

from watcher.decision_engine.model import element
from watcher.decision_engine.model import model_root

from watcher_maintenance.planning import reservations

# name, vCPU, RAM MiB, disk GiB, weight
FLAVORS = (
    ('m1.small', 1, 2048, 20, 30),
    ('m1.medium', 2, 4096, 40, 30),
    ('m1.large', 4, 8192, 80, 20),
    ('m1.xlarge', 8, 16384, 160, 12),
    ('m1.2xlarge.bfv', 16, 32768, 0, 8),
)
FLAVOR_WEIGHTS = [f[4] for f in FLAVORS]
PROJECT = '6f70656e-7374-6163-6b00-000000000001'
NODE_NAME = 'compute-drain'


def host_name(index: int) -> str:
    return 'compute-%05d' % index


class ClusterBuilder:
    """Builds one ``ModelRoot``; every id comes from the seeded generator."""

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)
        self.model = model_root.ModelRoot()
        self.guests = 0
        self._host_id = 0

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add_host(self, name, cores=64, memory_mb=393216, disk_gb=4000,
                 status='enabled', state='up', reason=None):
        self._host_id += 1
        node = element.ComputeNode(
            id=self._host_id, uuid=self._uuid(), hostname=name,
            status=status, state=state, disabled_reason=reason,
            vcpus=cores, vcpu_reserved=0, vcpu_ratio=4.0,
            memory=memory_mb, memory_mb_reserved=8192, memory_ratio=1.0,
            disk=disk_gb, disk_gb_reserved=0, disk_ratio=1.0)
        self.model.add_node(node)
        return node

    def add_guest(self, node, flavor, state=None):
        name, vcpus, memory, disk, _ = flavor
        self.guests += 1
        if state is None:
            state = 'stopped' if self.rng.random() < 0.1 else 'active'
        instance = element.Instance(
            uuid=self._uuid(), name='vm-%06d' % self.guests, state=state,
            vcpus=vcpus, memory=memory, disk=disk, project_id=PROJECT,
            host=node.hostname, hypervisor_hostname=node.hostname,
            locked=False, metadata={}, flavor_extra_specs={})
        self.model.add_instance(instance)
        self.model.map_instance(instance, node)
        return instance

    def flavor(self):
        return self.rng.choices(FLAVORS, weights=FLAVOR_WEIGHTS)[0]

    def fill(self, node, count):
        for _ in range(count):
            self.add_guest(node, self.flavor())

    def fill_nearly_full(self, node):
        """Add guests until at least 95% of the host's RAM is used."""
        free = node.memory_mb_capacity
        while free > 0.05 * node.memory_mb_capacity:
            flavor = self.flavor()
            if flavor[2] > free:
                flavor = FLAVORS[0]
                if flavor[2] > free:
                    break
            self.add_guest(node, flavor)
            free -= flavor[2]

    def add_cloud(self, hosts: int):
        for index in range(hosts):
            roll = self.rng.random()
            if roll < 0.1:
                node = self.add_host(host_name(index), cores=24,
                                     memory_mb=163840, disk_gb=2000)
                self.fill_nearly_full(node)
                continue
            if roll < 0.11:
                node = self.add_host(host_name(index), status='disabled',
                                     reason='hardware ticket')
            elif roll < 0.115:
                node = self.add_host(host_name(index), state='down')
            else:
                node = self.add_host(host_name(index))
            self.fill(node, self.rng.randint(16, 24))

    def add_drain_node(self, guests: int = 20):
        """The node to drain: sized to hold ``guests`` guests of the mix."""
        cores = max(64, guests * 4)
        node = self.add_host(NODE_NAME, cores=cores,
                             memory_mb=max(393216, guests * 32768 + 8192),
                             disk_gb=max(4000, guests * 160))
        self.fill(node, guests)
        return node


def build_cloud(hosts: int, node_guests: int = 20, seed: int = 1):
    """A cloud of ``hosts`` hosts plus the node to drain."""
    builder = ClusterBuilder(seed)
    builder.add_cloud(hosts)
    builder.add_drain_node(node_guests)
    return builder


def replace_drain_node(builder: ClusterBuilder, guests: int):
    """Swap the node to drain for one with ``guests`` guests."""
    model = builder.model
    node = model.get_node_by_name(NODE_NAME)
    for instance in model.get_node_instances(node):
        model.remove_instance(instance)
    model.remove_node(node)
    return builder.add_drain_node(guests)


# -- running strategies outside the decision engine -------------------------

def partner_groups(builder: ClusterBuilder, policy='soft-anti-affinity'):
    """One two-member server group per guest on the node to drain, its
    partner a guest on another host, as Nova's API lists them."""
    model = builder.model
    node = model.get_node_by_name(NODE_NAME)
    others = sorted(uuid for uuid, instance
                    in model.get_all_instances().items()
                    if model.get_node_by_instance_uuid(uuid).hostname
                    != NODE_NAME)
    groups = []
    for index, instance in enumerate(sorted(
            model.get_node_instances(node), key=lambda i: i.uuid)):
        partner = others[builder.rng.randrange(len(others))]
        groups.append({'id': 'sg-%d' % index, 'name': 'pair-%d' % index,
                       'policy': policy,
                       'members': [instance.uuid, partner]})
    return groups


def _strategy(cls, model, params, groups=()):
    strategy = cls(config=mock.Mock(), osc=mock.Mock())
    strategy._compute_model = model
    strategy.input_parameters = params
    if hasattr(strategy, '_server_group_records'):
        # host_drain lists Nova's server groups (one API call, outside
        # the planning measured here).
        strategy._server_group_records = lambda: list(groups)
    if hasattr(strategy, '_compute_services'):
        # Its one listing of Nova's compute services, likewise.
        strategy._compute_services = list
    if hasattr(strategy, '_nova_guests_on'):
        # Likewise its listing of the node's servers (one API call); the
        # synthetic model is complete.
        strategy._nova_guests_on = lambda node_name: []
    if hasattr(strategy, '_other_plans'):
        # No other action plans, and no database to lock, outside the
        # decision engine.
        strategy._other_plans = lambda node_names: (
            [], reservations.Reservations())
        strategy._planning_lock = mock.Mock
    return strategy


def time_execute(cls, model, params, groups=()):
    """Seconds one ``do_execute`` takes, and the strategy afterwards.

    The decision engine hands each audit a model whose resource cache was
    just invalidated; so does this. ``groups`` are the server groups Nova
    would list.
    """
    strategy = _strategy(cls, model, dict(params), groups)
    model.invalidate_resource_cache()
    start = time.perf_counter()
    strategy.do_execute(audit=None)
    elapsed = time.perf_counter() - start
    return elapsed, strategy


def strategies():
    from watcher.decision_engine.strategy.strategies import host_maintenance
    from watcher_maintenance.watcher import drain_strategy
    return drain_strategy.HostDrain, host_maintenance.HostMaintenance
