"""One maintenance audit plans at a time, across decision engines.

Counting other plans' moves (``other_plans``) only helps if no two audits
read the plans at the same moment and then both save a plan into the
same free room. So a maintenance strategy holds this lock from reading
the other plans until the ``maintenance`` planner has saved its action
plan and actions.

Several decision engines share Watcher's database, and Watcher 17 has
no coordination backend, so the database itself is the lock: a MySQL
or MariaDB named lock (``GET_LOCK``), held on a connection of its own
and released with it, so a crashed decision engine cannot keep it.
Named locks are server-wide, so the name carries the database's. A
lock inside each process comes first, because a named lock is per
connection, not per thread. On SQLite (a single process) the process
lock is all there is.
"""

from __future__ import annotations

import hashlib
import threading

import sqlalchemy
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log

from watcher_maintenance.planning.plan import PlanningRefused

LOG = log.getLogger(__name__)

LOCK_PREFIX = 'watcher_maintenance.planning'
# MySQL and MariaDB named locks are server-wide, at most 64 characters.
MAX_NAME = 64
_IN_PROCESS = threading.Lock()


def lock_name(database) -> str:
    """The planning lock of one Watcher database.

    Named locks belong to the server, not to a database: two Watchers
    (or two test runs) sharing a MariaDB server must not wait for each
    other, so the name carries the database's.
    """
    name = '%s:%s' % (LOCK_PREFIX, database or '')
    if len(name) > MAX_NAME:
        name = '%s:%s' % (LOCK_PREFIX,
                          hashlib.sha256(database.encode()).hexdigest()[:32])
    return name


class PlanningLock:
    """Held from reading other plans until this plan is saved."""

    def __init__(self, timeout: float, engine=None):
        self.timeout = timeout
        self._engine = engine
        self._connection = None
        self._held = False
        self._name = None

    def acquire(self):
        if not _IN_PROCESS.acquire(timeout=self.timeout):
            raise self._busy()
        self._held = True
        try:
            engine = self._engine or enginefacade.writer.get_engine()
            if engine.dialect.name == 'mysql':
                self._name = lock_name(engine.url.database)
                self._connection = engine.connect()
                if self._get_lock(0) != 1:
                    LOG.info('Waiting up to %d s for the maintenance '
                             'planning lock: another maintenance audit is '
                             'planning', self.timeout)
                    if self._get_lock(int(self.timeout)) != 1:
                        raise self._busy()
                LOG.info('Maintenance planning lock taken')
        except BaseException:
            self.release()
            raise
        return self

    def _get_lock(self, timeout):
        return self._connection.execute(
            sqlalchemy.text('SELECT GET_LOCK(:name, :timeout)'),
            {'name': self._name, 'timeout': timeout}).scalar()

    def release(self):
        """Idempotent: the planner, or the strategy on failure, calls it."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                # Logged first, so that in the logs it always comes before
                # the next holder's "taken".
                LOG.info('Releasing the maintenance planning lock')
                connection.execute(sqlalchemy.text('SELECT RELEASE_LOCK(:n)'),
                                   {'n': self._name})
            except Exception:
                LOG.exception('Releasing the maintenance planning lock')
            finally:
                connection.close()
        if self._held:
            self._held = False
            _IN_PROCESS.release()

    def _busy(self):
        return PlanningRefused(
            'Another maintenance audit has been planning for more than %d '
            'seconds, and plans are made one at a time so that they never '
            'claim the same free capacity. Nothing was planned; run the '
            'audit again in a moment.' % self.timeout)
