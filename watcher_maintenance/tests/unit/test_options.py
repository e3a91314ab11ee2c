"""The audit parameters, read once into typed options."""

import pytest

from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.options import RestoreOptions
from watcher_maintenance.planning.plan import PlanningRefused

NODE = {'maintenance_node': 'compute-3'}

# A value other than the default for every parameter an audit can set.
CHANGED = {
    'disable_live_migration': True, 'disable_cold_migration': True,
    'live_migrate_local_disk': False, 'skip_unmovable': True,
    'max_parallel_migrations': 3, 'migration_pause': 1.5,
    'backup_node': 'compute-9', 'use_spare_nodes': False,
    'placement': 'pack', 'order': 'name',
    'return_guests': 'drained', 'host_map': {'compute-1': ['vm-1']},
    'force': True,
}


@pytest.mark.parametrize('options_class', [DrainOptions, RestoreOptions])
def test_every_published_parameter_is_read(options_class):
    properties = options_class.schema()['properties']
    settable = set(properties) - {'maintenance_node', 'maintenance_nodes'}
    assert settable <= set(CHANGED)
    options = options_class.from_parameters(
        dict(NODE, **{name: CHANGED[name] for name in settable}))
    for name in settable:
        assert getattr(options, name) == CHANGED[name], name
        assert properties[name].get('default') != CHANGED[name], name


def test_defaults_are_the_published_ones():
    options = DrainOptions.from_parameters(NODE)
    for name, schema in DrainOptions.schema()['properties'].items():
        if 'default' in schema:
            assert getattr(options, name) == schema['default'], name
    assert options.nodes == ('compute-3',)


@pytest.mark.parametrize('name, value, words', [
    ('max_parallel_migrations', 'two',
     "max_parallel_migrations must be a whole number, not 'two'"),
    ('max_parallel_migrations', 0,
     'max_parallel_migrations must be at least 1, not 0'),
    ('skip_unmovable', 'yes', "skip_unmovable must be true or false"),
    ('migration_pause', -1, 'migration_pause must be at least 0'),
    ('placement', 'random', "Unknown placement 'random': use spread or "
                            "pack"),
    ('order', 'oldest', "Unknown order 'oldest'"),
])
def test_a_wrong_value_is_refused_naming_the_parameter(name, value, words):
    with pytest.raises(PlanningRefused) as refused:
        DrainOptions.from_parameters(dict(NODE, **{name: value}))
    assert words in refused.value.message
    assert 'Nothing was planned' in refused.value.message


def test_nodes_come_as_a_list_or_as_json_text():
    assert DrainOptions.from_parameters(
        {'maintenance_nodes': '["c1", "c2"]'}).nodes == ('c1', 'c2')
    assert DrainOptions.from_parameters(
        {'maintenance_nodes': ['c1']}).nodes == ('c1',)
    with pytest.raises(PlanningRefused, match='not both'):
        DrainOptions.from_parameters({'maintenance_node': 'c1',
                                      'maintenance_nodes': ['c2']})
    with pytest.raises(PlanningRefused, match='c1 is listed more than once'):
        DrainOptions.from_parameters({'maintenance_nodes': ['c1', 'c1']})


def test_a_host_map_comes_as_json_text_and_goes_with_one_node():
    options = RestoreOptions.from_parameters(
        dict(NODE, host_map='{"compute-1": ["vm-1"]}'))
    assert options.host_map == {'compute-1': ['vm-1']}
    with pytest.raises(PlanningRefused, match='host_map goes with one node'):
        RestoreOptions.from_parameters(
            {'maintenance_nodes': ['c1', 'c2'],
             'host_map': {'compute-1': ['vm-1']}})
    with pytest.raises(PlanningRefused, match='host_map is not valid JSON'):
        RestoreOptions.from_parameters(dict(NODE, host_map='{compute-1'))
