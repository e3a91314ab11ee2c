"""The Cluster Maintenance goal and what its action plans report."""

from watcher.decision_engine.goal import base
from watcher.decision_engine.goal.efficacy import base as efficacy_base
from watcher.decision_engine.goal.efficacy import indicators
from watcher.decision_engine.solution import efficacy

from watcher_maintenance import names
from watcher_maintenance.planning import policy


class _Count(indicators.IndicatorSpecification):
    """A whole number of guests or actions."""

    schema = {'type': 'integer', 'minimum': 0}

    def __init__(self, name, description, unit=None, required=True):
        super().__init__(name=name, description=description, unit=unit,
                         required=required)


class _Amount(_Count):
    schema = {'type': 'number', 'minimum': 0}


def _indicator_specs():
    return [
        _Count('guests_to_move', 'Guests the plan migrates off the node.'),
        _Count('live_migrations_count', 'Planned live migrations.'),
        _Count('cold_migrations_count', 'Planned cold migrations.'),
        _Count('stopped_guests_count',
               'Guests stopped in place because live and cold migration '
               'are both disabled.'),
        _Count('guests_left_count',
               'Guests the plan leaves on the node (excluded by the audit '
               'scope, unmovable and skipped, or stopped with cold '
               'migration disabled).'),
        _Amount('memory_to_move_mb', 'Guest memory to migrate.', unit='MiB'),
        _Count('guests_on_node',
               'Guests the audit considered (host_drain: the guests on the '
               'node).', required=False),
        *[_Count('policy_%s_count' % name,
                 'Guests considered whose maintenance_policy is %s%s.' % (
                     name, ' (the default)' if name == policy.DEFAULT
                     else ''), required=False)
          for name in policy.POLICIES],
        _Amount('estimated_drain_seconds',
                'Estimated migration time: per wave of parallel migrations, '
                'the largest guest memory divided by the configured '
                'migration bandwidth. An estimate only.', unit='s',
                required=False),
    ]


class MaintenanceEfficacy(efficacy_base.EfficacySpecification):
    """How much of the node the plan empties."""

    def get_indicators_specifications(self):
        return _indicator_specs()

    def get_global_efficacy_indicator(self, indicators_map=None):
        value = 100.0
        if indicators_map:
            on_node = indicators_map.get('guests_on_node')
            if on_node is None:
                on_node = (indicators_map.guests_to_move
                           + indicators_map.stopped_guests_count
                           + indicators_map.guests_left_count)
            if on_node:
                value = 100.0 * indicators_map.guests_to_move / on_node
        return [efficacy.Indicator(
            name='evacuated_guests_ratio',
            description='Share of the guests the audit considered that '
                        'the plan moves: off the node for host_drain, '
                        'back for host_restore.',
            unit='%', value=value)]


class ClusterMaintenance(base.Goal):
    """Cluster Maintenance

    Take compute nodes out of service for maintenance without interrupting
    the guests: disable the node, move its guests to hosts with room, and
    bring the node back afterwards.
    """

    @classmethod
    def get_name(cls):
        return names.GOAL

    @classmethod
    def get_display_name(cls):
        return 'Cluster Maintenance'

    @classmethod
    def get_translatable_display_name(cls):
        return 'Cluster Maintenance'

    @classmethod
    def get_efficacy_specification(cls):
        return MaintenanceEfficacy()
