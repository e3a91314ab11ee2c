"""Names shared with Watcher, Nova and operators, defined once.

Plain constants with no imports, so that the planning core, the Watcher
adapters, the CLI, the sandbox and the Kubernetes bridge all read them
from here.
"""

# The goal and strategies this package registers with Watcher.
GOAL = 'cluster_maintenance'
DRAIN_STRATEGY = 'host_drain'
RESTORE_STRATEGY = 'host_restore'
STRATEGIES = (DRAIN_STRATEGY, RESTORE_STRATEGY)
PLANNER = 'maintenance'

# Watcher action types the plans are made of.
MIGRATE = 'migrate'
CHANGE_SERVICE_STATE = 'change_nova_service_state'
STOP = 'stop'
CHECKPOINT = 'maintenance_checkpoint'   # ours: watcher_actions plugin
START = 'maintenance_start'             # ours: starts a stopped server

# nova-compute disabled reasons. The spare reason is only the default of
# ``[watcher_maintenance] spare_reason``.
MAINTAINING_REASON = 'watcher_maintaining'
SPARE_REASON = 'watcher_spare'
