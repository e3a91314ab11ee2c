"""Choose oslo.service's backend before any test module imports Watcher.

Watcher's functional harness selects the threading backend when it is
imported, but a unit test that touches oslo.service first would make it
default to eventlet, and the harness then refuses to start. Selecting it
here, once, keeps every subset of the suite runnable on its own.
"""

from watcher_maintenance.sandbox import backend  # noqa: F401
