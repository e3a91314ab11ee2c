"""Every knob of the Kubernetes bridge, with its default, read once.

The controller reads its settings from the environment (the Deployment
in ``deploy/kubernetes/`` sets them) so that kopf's decorators, which
are evaluated at import, see them too.
"""

from __future__ import annotations

import dataclasses
import os

PREFIX = 'watcher-maintenance.openstack.org/'

# Node annotations the controller reads or writes.
STATE = PREFIX + 'state'
REQUEST_ID = PREFIX + 'request-id'
ATTEMPT = PREFIX + 'attempt'
AUDIT = PREFIX + 'audit'
ACTION_PLAN = PREFIX + 'action-plan'
MESSAGE = PREFIX + 'message'
NOVA_HOST = PREFIX + 'nova-host'
APPROVE = PREFIX + 'approve'
RELEASE_DRAIN = PREFIX + 'release-drain'

GUARD_LABEL = PREFIX + 'guard-for'


def _flag(text):
    return text.strip().lower() in ('1', 'true', 'yes', 'on')


@dataclasses.dataclass(frozen=True)
class Settings:
    # Which Nodes are compute hosts: ``key=value`` terms, or bare ``key``.
    node_selector: str = 'openstack-compute-node=enabled'
    # Seconds between two looks at a Node (and at Watcher for it).
    poll_seconds: float = 10.0
    # Wait for the approve annotation (or the CLI) before starting a plan.
    approval_required: bool = False
    # Hold ``kubectl drain`` with a guard Pod and budget until Drained.
    hold_drain: bool = True
    guard_namespace: str = 'watcher-maintenance'
    guard_image: str = 'registry.k8s.io/pause:3.10'
    # Create audits with ``force``: maintenance audits count every other
    # unfinished plan's moves, so Watcher need not cancel them while a
    # plan runs. Off: queue while another audit or plan runs (for clouds
    # whose other goals' plans should not be overlapped).
    force_audits: bool = True
    # host_restore's ``return_guests`` (e.g. ``drained``); empty: none.
    return_guests: str = ''

    ENVIRONMENT = {
        'node_selector': ('WM_K8S_NODE_SELECTOR', str),
        'poll_seconds': ('WM_K8S_POLL_SECONDS', float),
        'approval_required': ('WM_K8S_APPROVAL_REQUIRED', _flag),
        'hold_drain': ('WM_K8S_HOLD_DRAIN', _flag),
        'guard_namespace': ('WM_K8S_GUARD_NAMESPACE', str),
        'guard_image': ('WM_K8S_GUARD_IMAGE', str),
        'force_audits': ('WM_K8S_FORCE_AUDITS', _flag),
        'return_guests': ('WM_K8S_RETURN_GUESTS', str),
    }

    @classmethod
    def from_environment(cls, environ=None):
        environ = os.environ if environ is None else environ
        values = {}
        for field, (variable, parse) in cls.ENVIRONMENT.items():
            if environ.get(variable, '') != '':
                values[field] = parse(environ[variable])
        return cls(**values)

    def label_filter(self):
        """The selector as kopf's ``labels=`` filter."""
        import kopf
        labels = {}
        for term in filter(None, (t.strip() for t in
                                  self.node_selector.split(','))):
            key, _, value = term.partition('=')
            labels[key.strip()] = value.strip() if value else kopf.PRESENT
        return labels
