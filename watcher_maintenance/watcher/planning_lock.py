"""One maintenance audit plans at a time, across decision engines.

Counting other plans' moves (``other_plans``) only helps if no two audits
read the plans at the same moment and then both save a plan into the
same free room. So a maintenance strategy holds this lock from reading
the other plans until the ``maintenance`` planner has saved its action
plan and actions.

Several decision engines share Watcher's database, and Watcher 17 has
no coordination backend, so the database itself is the lock: a MySQL
or MariaDB named lock (``GET_LOCK``), held on a connection of its own
and released with it, so a crashed decision engine cannot keep it. A
lock inside each process comes first, because a named lock is per
connection, not per thread. On SQLite (a single process) the process
lock is all there is.
"""

from __future__ import annotations

import threading

import sqlalchemy
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log

from watcher_maintenance.planning.plan import PlanningRefused

LOG = log.getLogger(__name__)

LOCK_NAME = 'watcher_maintenance.planning'
_IN_PROCESS = threading.Lock()


class PlanningLock:
    """Held from reading other plans until this plan is saved."""

    def __init__(self, timeout: float, engine=None):
        self.timeout = timeout
        self._engine = engine
        self._connection = None
        self._held = False

    def acquire(self):
        if not _IN_PROCESS.acquire(timeout=self.timeout):
            raise self._busy()
        self._held = True
        try:
            engine = self._engine or enginefacade.writer.get_engine()
            if engine.dialect.name == 'mysql':
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
            {'name': LOCK_NAME, 'timeout': timeout}).scalar()

    def release(self):
        """Idempotent: the planner, or the strategy on failure, calls it."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                # Logged first, so that in the logs it always comes before
                # the next holder's "taken".
                LOG.info('Releasing the maintenance planning lock')
                connection.execute(sqlalchemy.text('SELECT RELEASE_LOCK(:n)'),
                                   {'n': LOCK_NAME})
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
