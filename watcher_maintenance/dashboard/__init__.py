"""Horizon plugin: "Host Maintenance" on the Admin dashboard.

Installed with ``pip install watcher-maintenance[dashboard]`` and the
enabled file ``enabled/_31070_host_maintenance.py`` copied into
Horizon's ``openstack_dashboard/local/enabled/`` (see
``doc/source/install.rst``).

Every page drives Watcher's own audits and action plans through
python-watcherclient (``api.watcher``) and reads Nova through Horizon's
``openstack_dashboard.api.nova``; the plugin keeps no state of its own.
"""
