"""The audit parameters of each strategy, read once into typed options.

Each option that an audit can set is a dataclass field carrying its
JSON-schema description, so its name, type, default and wording live
here only: the Watcher adapter publishes ``schema()`` as the strategy's
parameter schema and reads an audit's parameters with
``from_parameters()``. The resulting options travel with the plan, so
the planner paces it from the plan, not from raw parameters.

Watcher's API checks parameters against the schema before an audit
starts; the options check their values against the same schema when
they are made, for callers that skip the API (tests, the campaign
pre-check), and put the problem in a sentence.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

from watcher_maintenance import names
from watcher_maintenance.planning import host_map as host_maps
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning import weighers
from watcher_maintenance.planning.placement import DEFAULT_SEARCH_BUDGET
from watcher_maintenance.planning.plan import PlanningRefused

# What host_restore does with the guests the last drain moved away.
RETURN_NONE = 'none'
RETURN_DRAINED = 'drained'
RETURN_GUESTS = (RETURN_NONE, RETURN_DRAINED)

# Work limit of the search for an order of restore moves.
DEFAULT_ORDER_BUDGET = 20_000

_JSON_TYPES = {bool: 'boolean', int: 'integer', float: 'number',
               str: 'string'}


def _audit(default, description, **schema):
    """A field an audit sets: its default and its JSON schema."""
    schema.setdefault('type', _JSON_TYPES[type(default)])
    schema = dict(description=description, default=default, **schema)
    return dataclasses.field(default=default, metadata={'schema': schema})


def _optional(description, **schema):
    """An audit field without a default (absent means unset)."""
    schema = dict(description=description, **schema)
    return dataclasses.field(default=None, metadata={'schema': schema})


NODE_PROPERTIES = {
    'maintenance_node': {
        'description': 'Hostname of the compute node. Give this or '
                       'maintenance_nodes.',
        'type': 'string', 'minLength': 1,
    },
    'maintenance_nodes': {
        'description': 'Hostnames of several compute nodes handled '
                       'together, as a JSON list: ["compute-3", '
                       '"compute-4"]. Give this or maintenance_node.',
        'oneOf': [
            {'type': 'array', 'minItems': 1,
             'items': {'type': 'string', 'minLength': 1}},
            {'type': 'string', 'minLength': 2},
        ],
    },
}


@dataclasses.dataclass(frozen=True)
class MaintenanceOptions:
    """What drain and restore share: the nodes, how a guest's state
    becomes an action (``planning.decide``), and the pacing."""

    nodes: tuple[str, ...] = ()
    disable_live_migration: bool = _audit(
        False, 'Cold-migrate active guests instead of live-migrating them '
        '(stop them if cold migration is disabled too).')
    disable_cold_migration: bool = _audit(
        False, 'Leave stopped guests where they are instead of '
        'cold-migrating them.')
    live_migrate_local_disk: bool = _audit(
        True, 'Live-migrate active guests whose root disk is local to the '
        'hypervisor. When false they are cold-migrated.')
    skip_unmovable: bool = _audit(
        False, 'Leave guests that Watcher cannot migrate (paused, '
        'suspended, error, ...) where they are instead of failing the '
        'audit.')
    max_parallel_migrations: int = _audit(
        1, 'Migrations that may run at once.', minimum=1)
    migration_pause: float = _audit(
        0, 'Seconds to wait between migrations (or between waves of '
        'parallel migrations).', type='number', minimum=0)
    maintaining_reason: str = names.MAINTAINING_REASON

    @classmethod
    def schema(cls) -> dict:
        """The strategy's parameter schema, as Watcher publishes it."""
        properties = dict(NODE_PROPERTIES)
        for field in dataclasses.fields(cls):
            if 'schema' in field.metadata:
                properties[field.name] = dict(field.metadata['schema'])
        return {
            'type': 'object',
            'properties': properties,
            # One of the two names the node(s); giving both is refused
            # in words by from_parameters.
            'anyOf': [{'required': ['maintenance_node']},
                      {'required': ['maintenance_nodes']}],
            'additionalProperties': False,
        }

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any], **settings):
        """The options of an audit's parameters; ``settings`` are the
        ones an audit cannot set (configuration, work limits).

        :raises PlanningRefused: naming the parameter at fault.
        """
        values = dict(settings)
        values['nodes'] = nodes_from(parameters)
        for field in dataclasses.fields(cls):
            if 'schema' in field.metadata and field.name in parameters:
                values[field.name] = parameters[field.name]
        return cls(**cls.decoded(values))

    def __post_init__(self):
        for field in dataclasses.fields(self):
            schema = field.metadata.get('schema')
            value = getattr(self, field.name)
            if schema is not None and value is not None:
                _check(field.name, schema, value)

    @classmethod
    def decoded(cls, values: dict) -> dict:
        """Turn parameters given as text into their values."""
        return values


def _check(name, schema, value):
    kind = schema.get('type')
    ok = {'boolean': lambda v: isinstance(v, bool),
          'integer': lambda v: isinstance(v, int) and not isinstance(v,
                                                                     bool),
          'number': lambda v: isinstance(v, (int, float)) and
          not isinstance(v, bool),
          'string': lambda v: isinstance(v, str)}.get(kind)
    if ok is not None and not ok(value):
        raise PlanningRefused(
            '%s must be %s, not %r. Nothing was planned.' % (
                name, {'boolean': 'true or false',
                       'integer': 'a whole number',
                       'number': 'a number',
                       'string': 'text'}[kind], value))
    if 'minimum' in schema and value < schema['minimum']:
        raise PlanningRefused('%s must be at least %s, not %r. Nothing was '
                              'planned.' % (name, schema['minimum'], value))
    if 'enum' in schema and value not in schema['enum']:
        raise PlanningRefused('Unknown %s %r: use %s. Nothing was planned.'
                              % (name, value, ' or '.join(schema['enum'])))


def json_parameter(name, value, example):
    """A parameter that may come as JSON text (``audit create -p`` passes
    lists and objects that way), decoded."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        raise PlanningRefused('%s is not valid JSON (%s). Give %s.' % (
            name, error, example))


def nodes_from(parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """The node(s) an audit names: ``maintenance_node`` or
    ``maintenance_nodes``, exactly one of them, each node once."""
    one = parameters.get('maintenance_node')
    several = parameters.get('maintenance_nodes')
    if (one is None) == (several is None):
        # Watcher's API already refuses neither, against the schema.
        raise PlanningRefused(
            'Give either maintenance_node (one node) or maintenance_nodes '
            '(a JSON list of nodes), %s. Nothing was planned.' % (
                'not both' if one is not None else 'none was given'))
    if one is not None:
        return node_names(one)
    several = json_parameter('maintenance_nodes', several,
                             'a list such as ["compute-3", "compute-4"]')
    if not isinstance(several, list) or not all(
            isinstance(n, str) and n for n in several):
        raise PlanningRefused(
            'maintenance_nodes must be a list of hostnames, such as '
            '["compute-3", "compute-4"], not %r.' % (several,))
    return node_names(several)


def node_names(node_name) -> tuple[str, ...]:
    """The nodes, checked: at least one, none twice."""
    names_ = (node_name,) if isinstance(node_name, str) else tuple(node_name)
    if not names_:
        raise PlanningRefused('No node was given. Name one with '
                              'maintenance_node, or several with '
                              'maintenance_nodes.')
    twice = sorted({n for n in names_ if names_.count(n) > 1})
    if twice:
        raise PlanningRefused('%s is listed more than once in the nodes. '
                              'Name each node once.' % ', '.join(twice))
    return names_


@dataclasses.dataclass(frozen=True)
class DrainOptions(MaintenanceOptions):
    """``host_drain``'s options."""

    backup_node: str | None = _optional(
        'Hostname of a compute node that takes every guest if it has '
        'room. Enabled first if it is disabled.', type='string',
        minLength=1)
    use_spare_nodes: bool = _audit(
        True, 'Consolidate onto a designated spare host (disabled with the '
        'configured spare reason, up and empty) when one has room for '
        'every guest.')
    placement: str = _audit(
        weighers.SPREAD, 'How dispersed guests are placed: "spread" '
        'balances free capacity, "pack" fills the fullest hosts first.',
        enum=list(weighers.PLACEMENTS))
    order: str = _audit(
        ordering.LARGEST_FIRST, 'Order of the migrations: "largest_first" '
        '(by RAM), "smallest_first" or "name".', enum=list(ordering.ORDERS))
    spare_reason: str = names.SPARE_REASON
    search_budget: int = DEFAULT_SEARCH_BUDGET


@dataclasses.dataclass(frozen=True)
class RestoreOptions(MaintenanceOptions):
    """``host_restore``'s options."""

    return_guests: str = _audit(
        RETURN_NONE, '"drained" moves back the guests that the most recent '
        'executed host_drain plan of this node moved away; "none" moves no '
        'guest back.', enum=list(RETURN_GUESTS))
    host_map: Mapping[str, list] | None = _optional(
        'Distribution to realise: a JSON object mapping hosts to lists of '
        'guest names or UUIDs, e.g. {"compute-1": ["vm-1", "vm-2"]}. '
        'Guests not listed stay where they are.',
        oneOf=[{'type': 'object',
                'additionalProperties': {
                    'type': 'array',
                    'items': {'type': 'string', 'minLength': 1}}},
               {'type': 'string', 'minLength': 2}])
    force: bool = _audit(
        False, 'Enable the node even if its service was disabled for '
        'another reason than %s.' % names.MAINTAINING_REASON)
    order_budget: int = DEFAULT_ORDER_BUDGET

    @property
    def returns_drained(self) -> bool:
        return self.return_guests == RETURN_DRAINED

    @classmethod
    def decoded(cls, values):
        if values.get('host_map') is not None:
            values['host_map'] = host_maps.parse(json_parameter(
                'host_map', values['host_map'],
                'an object such as {"compute-1": ["vm-1"]}'))
            if values['host_map'] and len(values['nodes']) > 1:
                raise PlanningRefused(
                    'host_map goes with one node: give maintenance_node, '
                    'or leave host_map out to restore %s together.'
                    % ', '.join(values['nodes']))
        return values
