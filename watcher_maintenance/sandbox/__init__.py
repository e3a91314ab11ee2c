"""An in-process maintenance sandbox.

Watcher's real API, decision engine and applier run in this process
(SQLite, fake messaging, wsgi-intercept, as python-watcher's functional
fixtures do) against an emulated Nova that refuses what real Nova
refuses. See ``doc/source/sandbox.rst``.
"""
