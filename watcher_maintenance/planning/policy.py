"""A tenant's say: the ``maintenance_policy`` of a server.

A server's metadata key ``maintenance_policy`` tells how it goes through
maintenance (``openstack server set --property maintenance_policy=cold
SERVER``):

``live`` (the default, also when the key is absent)
    live-migrated, as the operator's switches allow;
``cold``
    cold-migrated even when ACTIVE: it stops for the move and Nova starts
    it again on arrival, so it ends in the power state it had;
``stop``
    stopped in place for the window and left on the node;
    ``host_restore`` starts it again;
``skip``
    left on the node as it is (running); the plan's end check allows it.

The operator's audit parameters still win where they are stricter
(``decide.decide``): ``disable_live_migration`` turns ``live`` into
``cold``, ``disable_cold_migration`` turns ``cold`` into ``stop``.
"""

from __future__ import annotations

from typing import Iterable

from watcher_maintenance.planning.plan import PlanningRefused

KEY = 'maintenance_policy'
LIVE = 'live'
COLD = 'cold'
STOP = 'stop'
SKIP = 'skip'
POLICIES = (LIVE, COLD, STOP, SKIP)
DEFAULT = LIVE
ALLOWED = 'live (the default), cold, stop or skip'


def of(metadata) -> str:
    """The policy a server's metadata asks for, as written (lowercase,
    trimmed); the default when the key is absent or empty. An unknown
    value is returned as is, for ``refuse_unknown`` to name."""
    value = (metadata or {}).get(KEY)
    if value is None or not str(value).strip():
        return DEFAULT
    return str(value).strip().lower()


def refuse_unknown(guests: Iterable) -> None:
    """Refuse the audit when a guest's policy is not one of ``POLICIES``.

    :raises PlanningRefused: naming each server, its value and the
        allowed ones.
    """
    unknown = [g for g in guests if g.policy not in POLICIES]
    if not unknown:
        return
    listed = '; '.join('server %s has %s=%s' % (g.label, KEY, g.policy)
                       for g in unknown)
    example = unknown[0].label
    raise PlanningRefused(
        'Unknown maintenance policy: %s. The allowed values are %s. Fix '
        'the server\'s metadata, e.g. `openstack server set --property '
        '%s=live %s` (or `openstack server unset --property %s %s`), then '
        'run the audit again.' % (listed, ALLOWED, KEY, example, KEY,
                                  example))


def counts(guests: Iterable) -> dict:
    """``{'policy_<name>_count': n}`` for each policy, for the efficacy
    indicators."""
    found = dict.fromkeys(POLICIES, 0)
    for guest in guests:
        if guest.policy in found:
            found[guest.policy] += 1
    return {'policy_%s_count' % name: n for name, n in found.items()}
