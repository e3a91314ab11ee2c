"""The planning core: plain data in, a plan with reasons out.

Nothing in this package imports Watcher or oslo; the adapters in
``watcher_maintenance.watcher`` translate to and from Watcher's model.
"""

from watcher_maintenance.planning.drain import HostList  # noqa: F401
from watcher_maintenance.planning.drain import plan_drain  # noqa: F401
from watcher_maintenance.planning.inventory import Guest  # noqa: F401
from watcher_maintenance.planning.inventory import Host  # noqa: F401
from watcher_maintenance.planning.inventory import Resources  # noqa: F401
from watcher_maintenance.planning.options import DrainOptions  # noqa: F401
from watcher_maintenance.planning.options import RestoreOptions  # noqa: F401
from watcher_maintenance.planning.plan import DrainPlan  # noqa: F401
from watcher_maintenance.planning.plan import Outcome  # noqa: F401
from watcher_maintenance.planning.plan import PlanningRefused  # noqa: F401
