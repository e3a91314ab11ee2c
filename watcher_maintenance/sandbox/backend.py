"""Select oslo.service's backend before Watcher's modules are imported.

Watcher's functional harness, which the sandbox runs, needs the backend
Watcher's own helper chooses; importing some of Watcher's modules first
would settle on another one, and the harness would then refuse to
start. Importing this module first makes the sandbox importable in any
order.
"""

from oslo_service.backend import exceptions
from watcher.common import oslo_service_helper

try:
    oslo_service_helper.init_oslo_service_backend()
except exceptions.BackendAlreadySelected:
    pass
