"""Cluster descriptions for the sandbox: YAML/JSON in, dataclasses out.

The dataclasses extend the ones of Watcher's functional tests
(``watcher.tests.functional.topology``) so both Watcher's emulators and
ours accept them. The file format is documented in
``doc/source/sandbox.rst``; in short::

    flavors:
      m1.small: {vcpus: 1, memory_mb: 2048, disk_gb: 20}
    defaults:
      host: {vcpus: 32, memory_mb: 65536, disk_gb: 1000}
    hosts:
      - name: compute-1
        availability_zone: az-1
        allocation_ratio: {vcpu: 4.0}
        reserved: {memory_mb: 4096}
      - name: compute-9
        status: disabled
        disabled_reason: watcher_spare
    server_groups:
      - {name: db, policy: anti-affinity}
    guests:
      - {name: web-{n}, count: 3, host: compute-1, flavor: m1.small}
      - {name: db-1, host: compute-1, vcpus: 4, memory_mb: 8192,
         disk_gb: 40, server_group: db, state: stopped}
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from dataclasses import dataclass
from dataclasses import field

from watcher.tests.functional import topology as wtopo

GUEST_STATES = ('active', 'stopped', 'paused', 'suspended', 'error',
                'rescued', 'resized', 'building', 'shelved_offloaded')
POLICIES = ('affinity', 'anti-affinity', 'soft-affinity',
            'soft-anti-affinity')
DEFAULT_PROJECT = wtopo.DEFAULT_PROJECT_ID
_NAMESPACE = uuid.UUID('6b1c3f52-2d4e-4d8e-9a57-5c0b7e0f6a10')


class TopologyError(ValueError):
    """A cluster description that cannot be loaded; says what and where."""


def stable_uuid(kind, name):
    """The same UUID for the same name, run after run."""
    return str(uuid.uuid5(_NAMESPACE, '%s:%s' % (kind, name)))


@dataclass
class Host(wtopo.ComputeNode):
    """A compute host: Watcher's ``ComputeNode`` under a shorter name."""


@dataclass
class Guest(wtopo.Instance):
    """A server. Adds an AZ pin, a server group and a flavor name."""

    pinned_az: str = None
    server_group: str = None
    flavor_name: str = None


@dataclass
class ServerGroup:
    """A Nova server group (policy as in microversion 2.64+)."""

    name: str
    policy: str = 'anti-affinity'
    rules: dict = field(default_factory=dict)
    uuid: str = None
    project_id: str = DEFAULT_PROJECT

    def __post_init__(self):
        if self.uuid is None:
            self.uuid = stable_uuid('server-group', self.name)


@dataclass
class SandboxTopology(wtopo.ComputeTopology):
    """Hosts, guests, aggregates and server groups of one cluster."""

    server_groups: list = field(default_factory=list)

    def host(self, name):
        return _named(self.compute_nodes, 'hostname', name, 'host')

    def guest(self, name):
        return _named(self.instances, 'name', name, 'guest')

    def group(self, name):
        return _named(self.server_groups, 'name', name, 'server group')

    def zone_of(self, hostname):
        return self.host(hostname).availability_zone


def _named(items, attr, name, what):
    for item in items:
        if getattr(item, attr) == name:
            return item
    raise KeyError('no %s named %r' % (what, name))


# --------------------------------------------------------------------------
# Loading


def load(source) -> SandboxTopology:
    """A ``SandboxTopology`` from a path, a dict, or a topology object.

    Watcher's own ``ComputeTopology`` objects are accepted as they are.
    """
    if isinstance(source, wtopo.ComputeTopology):
        return source
    if isinstance(source, (str, os.PathLike)):
        return from_dict(read_file(source), where=str(source))
    if isinstance(source, dict):
        return from_dict(source)
    raise TypeError('cannot load a topology from %r' % (source,))


def read_file(path):
    with open(path, encoding='utf-8') as stream:
        text = stream.read()
    if str(path).endswith('.json'):
        return json.loads(text)
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a sandbox extra
        try:
            return json.loads(text)
        except ValueError:
            raise TopologyError(
                '%s: YAML needs PyYAML (pip install '
                '"watcher-maintenance[sandbox]")' % path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TopologyError('%s is not valid YAML: %s' % (path, error))
    if not isinstance(data, dict):
        raise TopologyError('%s: expected a mapping with hosts and guests'
                            % path)
    return data


def from_dict(data, where='topology') -> SandboxTopology:
    known = {'flavors', 'defaults', 'hosts', 'guests', 'aggregates',
             'server_groups', 'name', 'description'}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TopologyError('%s: unknown section(s) %s; expected some of %s'
                            % (where, ', '.join(unknown),
                               ', '.join(sorted(known))))
    defaults = data.get('defaults') or {}
    flavors = data.get('flavors') or {}
    topo = SandboxTopology()
    for index, spec in enumerate(data.get('hosts') or []):
        spec = {**(defaults.get('host') or {}), **spec}
        topo.compute_nodes.append(_host(spec, '%s: hosts[%d]'
                                        % (where, index)))
    _unique([h.hostname for h in topo.compute_nodes], 'host', where)
    zones = {h.hostname: h.availability_zone for h in topo.compute_nodes}

    for index, spec in enumerate(data.get('server_groups') or []):
        topo.server_groups.append(_group(spec, '%s: server_groups[%d]'
                                         % (where, index)))
    _unique([g.name for g in topo.server_groups], 'server group', where)
    groups = {g.name for g in topo.server_groups}

    for index, spec in enumerate(data.get('guests') or []):
        spec = {**(defaults.get('guest') or {}), **spec}
        topo.instances.extend(_guests(spec, flavors, zones, groups,
                                      '%s: guests[%d]' % (where, index)))
    _unique([g.name for g in topo.instances], 'guest', where)

    for index, spec in enumerate(data.get('aggregates') or []):
        ctx = '%s: aggregates[%d]' % (where, index)
        missing = [h for h in spec.get('hosts', []) if h not in zones]
        if missing:
            raise TopologyError('%s: unknown host(s) %s'
                                % (ctx, ', '.join(missing)))
        topo.aggregates.append(wtopo.Aggregate(
            id=int(spec.get('id', index + 1)),
            name=_required(spec, 'name', ctx),
            hosts=list(spec.get('hosts', [])),
            metadata=dict(spec.get('metadata') or {})))
    return topo


def _required(spec, key, ctx):
    if key not in spec or spec[key] in (None, ''):
        raise TopologyError('%s: "%s" is required' % (ctx, key))
    return spec[key]


def _number(spec, key, ctx, default, kind=int):
    value = spec.get(key, default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise TopologyError('%s: "%s" must be a number, not %r'
                            % (ctx, key, value))
    if number < 0:
        raise TopologyError('%s: "%s" cannot be negative' % (ctx, key))
    return number


def _unique(names, what, where):
    seen = set()
    for name in names:
        if name in seen:
            raise TopologyError('%s: %s name %r is used twice'
                                % (where, what, name))
        seen.add(name)


def _host(spec, ctx) -> Host:
    _check_keys(spec, ctx, {
        'name', 'hostname', 'uuid', 'vcpus', 'memory_mb', 'disk_gb',
        'reserved', 'allocation_ratio', 'availability_zone', 'status',
        'disabled_reason', 'state'})
    name = spec.get('name') or _required(spec, 'hostname', ctx)
    reserved = spec.get('reserved') or {}
    ratio = spec.get('allocation_ratio') or {}
    _check_keys(reserved, ctx + '.reserved', {'vcpus', 'memory_mb',
                                              'disk_gb'})
    _check_keys(ratio, ctx + '.allocation_ratio', {'vcpu', 'memory',
                                                   'disk'})
    status = spec.get('status', 'enabled')
    state = spec.get('state', 'up')
    if status not in ('enabled', 'disabled'):
        raise TopologyError('%s: status must be enabled or disabled, not %r'
                            % (ctx, status))
    if state not in ('up', 'down'):
        raise TopologyError('%s: state must be up or down, not %r'
                            % (ctx, state))
    return Host(
        hostname=name,
        uuid=spec.get('uuid') or stable_uuid('host', name),
        vcpus=_number(spec, 'vcpus', ctx, 16),
        memory=_number(spec, 'memory_mb', ctx, 32768),
        disk=_number(spec, 'disk_gb', ctx, 500),
        vcpu_reserved=_number(reserved, 'vcpus', ctx, 0),
        memory_mb_reserved=_number(reserved, 'memory_mb', ctx, 0),
        disk_gb_reserved=_number(reserved, 'disk_gb', ctx, 0),
        vcpu_ratio=_number(ratio, 'vcpu', ctx, 1.0, float),
        memory_ratio=_number(ratio, 'memory', ctx, 1.0, float),
        disk_ratio=_number(ratio, 'disk', ctx, 1.0, float),
        availability_zone=spec.get('availability_zone', 'nova'),
        status=status,
        disabled_reason=spec.get('disabled_reason'),
        state=state,
    )


def _group(spec, ctx) -> ServerGroup:
    _check_keys(spec, ctx, {'name', 'policy', 'rules', 'uuid', 'project_id'})
    policy = spec.get('policy', 'anti-affinity')
    if policy not in POLICIES:
        raise TopologyError('%s: policy must be one of %s, not %r'
                            % (ctx, ', '.join(POLICIES), policy))
    rules = dict(spec.get('rules') or {})
    if rules and policy != 'anti-affinity':
        raise TopologyError('%s: rules are only allowed with the '
                            'anti-affinity policy' % ctx)
    return ServerGroup(name=_required(spec, 'name', ctx), policy=policy,
                       rules=rules, uuid=spec.get('uuid'),
                       project_id=spec.get('project_id', DEFAULT_PROJECT))


def _guests(spec, flavors, zones, groups, ctx):
    _check_keys(spec, ctx, {
        'name', 'count', 'start', 'host', 'hosts', 'flavor', 'vcpus',
        'memory_mb', 'disk_gb', 'ephemeral_gb', 'swap_mb', 'state',
        'pinned_az', 'server_group', 'boot_from_volume', 'project_id',
        'locked', 'metadata', 'uuid'})
    name = str(_required(spec, 'name', ctx))
    count = _number(spec, 'count', ctx, 1)
    if count > 1 and '{n}' not in name:
        raise TopologyError('%s: with "count" the name needs a {n} '
                            'placeholder, as in "web-{n}"' % ctx)
    hosts = spec.get('hosts') or [_required(spec, 'host', ctx)]
    for host in hosts:
        if host not in zones:
            raise TopologyError('%s: guest %s is on unknown host %r'
                                % (ctx, name, host))
    size = {}
    flavor_name = spec.get('flavor')
    if flavor_name is not None:
        if flavor_name not in flavors:
            raise TopologyError('%s: unknown flavor %r (defined: %s)'
                                % (ctx, flavor_name,
                                   ', '.join(sorted(flavors)) or 'none'))
        size.update(flavors[flavor_name])
    size.update({k: spec[k] for k in ('vcpus', 'memory_mb', 'disk_gb',
                                      'ephemeral_gb', 'swap_mb')
                 if k in spec})
    state = spec.get('state', 'active')
    if state not in GUEST_STATES:
        raise TopologyError('%s: state must be one of %s, not %r'
                            % (ctx, ', '.join(GUEST_STATES), state))
    group = spec.get('server_group')
    if group is not None and group not in groups:
        raise TopologyError('%s: unknown server group %r' % (ctx, group))
    pinned = spec.get('pinned_az')
    if pinned is not None and pinned not in set(zones.values()):
        raise TopologyError('%s: pinned_az %r is not the zone of any host'
                            % (ctx, pinned))
    start = _number(spec, 'start', ctx, 1)
    result = []
    for index in range(count):
        guest_name = name.replace('{n}', str(start + index))
        host = hosts[index % len(hosts)]
        result.append(Guest(
            uuid=(spec.get('uuid') if count == 1 and spec.get('uuid')
                  else stable_uuid('guest', guest_name)),
            name=guest_name,
            host=host,
            vcpus=_number(size, 'vcpus', ctx, 1),
            memory=_number(size, 'memory_mb', ctx, 2048),
            disk=_number(size, 'disk_gb', ctx, 20),
            ephemeral=_number(size, 'ephemeral_gb', ctx, 0),
            swap=_number(size, 'swap_mb', ctx, 0),
            state=state,
            project_id=spec.get('project_id', DEFAULT_PROJECT),
            locked=bool(spec.get('locked', False)),
            metadata=dict(spec.get('metadata') or {}),
            bfv=bool(spec.get('boot_from_volume', False)),
            availability_zone=zones[host],
            pinned_az=pinned,
            server_group=group,
            flavor_name=flavor_name,
        ))
    return result


def _check_keys(spec, ctx, allowed):
    if not isinstance(spec, dict):
        raise TopologyError('%s: expected a mapping, not %r' % (ctx, spec))
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise TopologyError('%s: unknown key(s) %s; allowed: %s'
                            % (ctx, ', '.join(unknown),
                               ', '.join(sorted(allowed))))


def to_dict(topo) -> dict:
    """The plain-data form of a topology (for JSON dumps and tests)."""
    return dataclasses.asdict(topo)
