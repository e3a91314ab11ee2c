"""oslo.config options of the plugin, in group ``[watcher_maintenance]``."""

from oslo_config import cfg

from watcher_maintenance import names

GROUP = cfg.OptGroup(
    'watcher_maintenance',
    title='Host maintenance plugin options',
    help='Options of the cluster_maintenance goal and its strategies.')

OPTS = [
    cfg.StrOpt(
        'spare_reason',
        default=names.SPARE_REASON,
        help='Disabled reason that marks a compute host as a designated '
             'spare. host_drain may enable such a host and consolidate '
             'every guest of the drained node onto it. Hosts disabled for '
             'any other reason are never touched.'),
    cfg.FloatOpt(
        'migration_bandwidth_mbps',
        default=10000.0,
        min=1.0,
        help='Network bandwidth, in megabits per second, assumed for one '
             'migration when estimating how long a drain takes. The '
             'estimate only informs the operator; nothing is throttled.'),
    cfg.IntOpt(
        'planning_lock_timeout',
        default=120,
        min=1,
        help='Seconds a maintenance audit waits for another one to finish '
             'planning. Maintenance audits plan one at a time, across '
             'every decision engine sharing the database, so that two '
             'plans never claim the same free capacity; an audit that '
             'waits longer fails and says so.'),
]


def register_opts(conf=cfg.CONF):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    """Entry point for oslo-config-generator."""
    return [(GROUP, OPTS)]


register_opts()
CONF = cfg.CONF
