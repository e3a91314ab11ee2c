"""Read Watcher's cluster data model into the planner's plain data.

Hosts are built on demand: a drain on a 10,000-host cloud looks at the
hosts it needs, not at every guest in the cloud (attribute access on
Watcher's versioned objects is slow).
"""

from __future__ import annotations

import dataclasses

from watcher.decision_engine.model import element

from watcher_maintenance.planning import policy
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Member
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ServerGroup

ENABLED = element.ServiceState.ENABLED.value
UP = element.ServiceState.ONLINE.value
_COMPUTE_NODE = element.ComputeNode
_INSTANCE = element.Instance


def _text(value):
    # Model fields may hold enum members or plain strings.
    return getattr(value, 'value', value)


_UNSET = object()


def _field(obj, name):
    """A field of a versioned object, read without the property's cost.

    oslo.versionedobjects keeps a set field in the attribute
    ``_obj_<name>``; its property adds checks that cost several times
    more, which adds up over every host of a large cloud. A field that is
    not set goes through the property, which loads it or raises as usual.
    """
    value = getattr(obj, '_obj_' + name, _UNSET)
    return getattr(obj, name) if value is _UNSET else value


def compute_nodes(model) -> list:
    """Every compute node of ``model``, in one pass over its graph.

    On a 10,000-host cloud the graph also holds some 200,000 instances.
    ``isinstance`` on versioned-object classes goes through ``ABCMeta``
    and costs more than the walk itself, so the exact type is compared
    first; subclasses still count as compute nodes.
    """
    nodes = []
    for _, attr in model.nodes(data='attr'):
        kind = type(attr)
        if kind is _COMPUTE_NODE or (kind is not _INSTANCE and isinstance(
                attr, _COMPUTE_NODE)):
            nodes.append(attr)
    return nodes


class ModelHosts:
    """A planner ``HostSource`` over a Watcher ``ModelRoot``."""

    def __init__(self, model, zones=None):
        self._model = model
        self._nodes = {_field(node, 'hostname'): node
                       for node in compute_nodes(model)}
        self._names = sorted(self._nodes)
        self._zones = zones
        self._services = {}
        self._built = {}

    def names(self):
        return self._names

    def use_zones(self, zones):
        """Host -> availability zone, learnt once guests turn out to be
        pinned; hosts built from now on carry their zone."""
        self._zones = zones
        self._built.clear()

    def use_services(self, services):
        """Service state, up-state and reason of some hosts as Nova
        reports them now (``nova_helper.Service``), over the model's."""
        self._services = {s.host: s for s in services}
        self._built.clear()

    def node(self, name):
        return self._nodes.get(name)

    def host(self, name):
        if name in self._built:
            return self._built[name]
        node = self._nodes.get(name)
        if node is None:
            return None
        used = self._model.get_node_used_resources(node)
        host = Host(
            name=name,
            capacity=Resources(node.vcpu_capacity, node.memory_mb_capacity,
                               node.disk_gb_capacity),
            used=Resources(used['vcpu'], used['memory'], used['disk']),
            enabled=_text(node.status) == ENABLED,
            up=_text(node.state) == UP,
            disabled_reason=node.disabled_reason,
            zone=self._zones.get(name) if self._zones is not None else None,
            guest_count=sum(1 for _ in self._model.predecessors(node.uuid)),
        )
        service = self._services.get(name)
        if service is not None:
            host = dataclasses.replace(
                host, enabled=service.status == ENABLED,
                up=service.state == UP,
                disabled_reason=service.disabled_reason)
        self._built[name] = host
        return host

    def disabled_for(self, reason):
        nodes = self._nodes
        return [name for name in self._names
                if _text(_field(nodes[name], 'status')) != ENABLED
                and _field(nodes[name], 'disabled_reason') == reason]


def guests_of(model, node) -> list[Guest]:
    """The node's guests, in the planner's terms."""
    return [to_guest(instance, node.hostname)
            for instance in model.get_node_instances(node)]


def to_guest(instance, host=None) -> Guest:
    """One model instance, in the planner's terms; ``host`` is the
    node it runs on, where the caller knows it."""
    disk = instance.disk
    return Guest(
        uuid=instance.uuid,
        name=instance.name,
        state=_text(instance.state),
        needs=Resources(instance.vcpus, instance.memory, disk),
        local_disk=disk > 0,
        pinned_zone=instance.pinned_az or None,
        excluded=bool(instance.watcher_exclude),
        project_id=instance.project_id,
        host=host,
        policy=policy.of(getattr(instance, 'metadata', None)),
    )


def _host_of_instance(model, uuid):
    """Hostname of the node running ``uuid``, or None if the model does not
    know the server (another cell, or left out of the audit's model)."""
    if not model.has_node(uuid):
        return None
    for neighbour in model.neighbors(uuid):
        attr = model.nodes[neighbour].get('attr')
        if isinstance(attr, _COMPUTE_NODE):
            return _field(attr, 'hostname')
    return None


def server_groups(records, model, guests) -> list[ServerGroup]:
    """Nova server-group records, in the planner's terms, with each
    member on the host the model places it on."""
    return server_groups_located(
        records, guests,
        lambda uuid: (_host_of_instance(model, uuid), _name(model, uuid)))


def server_groups_located(records, guests, locate) -> list[ServerGroup]:
    """Nova server-group records, in the planner's terms.

    Only the groups with a member among ``guests`` are kept; each member
    gets the host ``locate(uuid)`` returns with its name, so the planner
    can count members on candidate hosts. ``records`` are openstacksdk
    ``ServerGroup`` objects or dicts of the os-server-groups API.
    """
    wanted = {g.uuid: g for g in guests}
    found = []
    for record in records:
        members = list(_get(record, 'member_ids', 'members') or [])
        if not any(m in wanted for m in members):
            continue
        policy = _get(record, 'policy')
        if not policy:
            policies = _get(record, 'policies') or []
            policy = policies[0] if policies else None
        rules = _get(record, 'rules') or {}
        located = []
        for uuid in members:
            host, name = locate(uuid)
            located.append(Member(
                uuid, host, wanted[uuid].name if uuid in wanted else name))
        found.append(ServerGroup(
            uuid=_get(record, 'id'),
            name=_get(record, 'name') or '',
            policy=policy,
            members=tuple(located),
            max_server_per_host=int(rules.get('max_server_per_host') or 1),
        ))
    return found


def _get(record, *names):
    for name in names:
        value = (record.get(name) if isinstance(record, dict)
                 else getattr(record, name, None))
        if value is not None:
            return value
    return None


def _name(model, uuid):
    if not model.has_node(uuid):
        return None
    return getattr(model.nodes[uuid].get('attr'), 'name', None)
