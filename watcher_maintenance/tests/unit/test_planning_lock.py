"""Maintenance audits plan one at a time, also across decision engines.

The cross-process case needs MariaDB or MySQL (127.0.0.1:3306, root, no
password, as on this project's machines and CI); it is skipped where
none answers.
"""

import subprocess
import sys
import textwrap
import threading

import pytest
import sqlalchemy

from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher import planning_lock

MYSQL_URL = 'mysql+pymysql://root@127.0.0.1:3306/'

OTHER_ENGINE = textwrap.dedent('''
    import sys
    import sqlalchemy
    from watcher_maintenance.planning.plan import PlanningRefused
    from watcher_maintenance.watcher import planning_lock
    engine = sqlalchemy.create_engine(%r)
    try:
        planning_lock.PlanningLock(1, engine).acquire().release()
    except PlanningRefused as refusal:
        print(refusal)
        sys.exit(3)
''') % MYSQL_URL


@pytest.fixture
def mysql_engine():
    engine = sqlalchemy.create_engine(MYSQL_URL)
    try:
        with engine.connect():
            pass
    except Exception as error:
        pytest.skip('no MySQL/MariaDB on 127.0.0.1:3306 (%s)' % error)
    yield engine
    engine.dispose()


def other_decision_engine():
    """Another process trying to plan, waiting at most a second."""
    return subprocess.run([sys.executable, '-c', OTHER_ENGINE],
                          capture_output=True, text=True, timeout=120)


def test_a_second_decision_engine_waits_for_the_database_lock(mysql_engine):
    held = planning_lock.PlanningLock(5, mysql_engine).acquire()
    try:
        blocked = other_decision_engine()
    finally:
        held.release()
    assert blocked.returncode == 3, blocked.stderr
    assert 'Another maintenance audit has been planning' in blocked.stdout
    assert 'run the audit again' in blocked.stdout
    free = other_decision_engine()
    assert free.returncode == 0, free.stdout + free.stderr


def test_release_is_idempotent_and_frees_the_process_lock():
    engine = sqlalchemy.create_engine('sqlite://')
    lock = planning_lock.PlanningLock(1, engine).acquire()
    lock.release()
    lock.release()
    planning_lock.PlanningLock(1, engine).acquire().release()


def test_a_second_audit_in_the_same_process_waits_then_says_why():
    engine = sqlalchemy.create_engine('sqlite://')
    held = planning_lock.PlanningLock(1, engine).acquire()
    outcome = []

    def second():
        try:
            planning_lock.PlanningLock(0.2, engine).acquire()
            outcome.append('acquired')
        except PlanningRefused as refusal:
            outcome.append(str(refusal))

    try:
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    finally:
        held.release()
    [message] = outcome
    assert message.startswith('Another maintenance audit has been planning')


def test_each_watcher_database_has_its_own_lock_within_mysql_limits():
    # Named locks are server-wide: two Watchers sharing a MariaDB server
    # must not plan one at a time with each other.
    assert (planning_lock.lock_name('watcher')
            != planning_lock.lock_name('watcher_region_two'))
    long_names = ['w' * 64, 'w' * 63 + 'x']
    names = [planning_lock.lock_name(n) for n in long_names]
    assert names[0] != names[1]
    assert all(len(name) <= planning_lock.MAX_NAME for name in names)
    assert planning_lock.lock_name('watcher') == planning_lock.lock_name(
        'watcher')
