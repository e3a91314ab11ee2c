"""``openstack optimize maintenance enter / show / exit``.

OpenStackClient commands over python-watcherclient, installed with the
``cli`` extra (``pip install 'watcher-maintenance[cli]'``) so that
Watcher's own services never import client libraries:

* ``watcher_ops``: the Watcher calls (audits, plans, actions, waiting);
* ``nova``: what the commands read from Nova, through openstacksdk;
* ``render``: pure presentation (rows, tables, documents, progress);
* ``commands``: the cliff/osc-lib command classes.
"""
