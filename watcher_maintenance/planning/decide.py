"""What each guest needs, from its state and the operator's switches.

The rules Watcher's host maintenance spec gives, in one place for the
drain and the restore: an active guest is live-migrated (cold when live
migration is off, or when its root disk is local and
``live_migrate_local_disk`` is false), a stopped guest is
cold-migrated, and a guest in any other state cannot be moved by
Watcher. ``rules`` is any options object with the four switches of
``options.MaintenanceOptions``.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from watcher_maintenance.planning import policy
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import GuestState
from watcher_maintenance.planning.plan import Decision
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused

UNMOVABLE_ADVICE = ('Bring them to ACTIVE or SHUTOFF (or move them by '
                    'hand), or set skip_unmovable=true to leave them %s.')


def decide(guest: Guest, rules) -> Decision:
    """The action ``guest`` needs, with the reason in words.

    The guest's ``maintenance_policy`` says what its tenant wants; the
    operator's switches win where they are stricter. Every reason but
    the audit scope's names the policy.

    :raises PlanningRefused: when the guest's policy is unknown.
    """
    if guest.excluded:
        return Decision(guest, Outcome.LEFT, 'excluded by the audit scope')
    policy.refuse_unknown([guest])
    decision = _by_state(guest, rules)
    return dataclasses.replace(
        decision, reason='%s; %s=%s' % (decision.reason, policy.KEY,
                                        guest.policy))


def _by_state(guest: Guest, rules) -> Decision:
    wanted = guest.policy
    if wanted == policy.SKIP:
        return Decision(guest, Outcome.LEFT,
                        '%s, left as it is on its node' % guest.state)
    if GuestState.is_running(guest.state):
        if wanted == policy.STOP:
            return Decision(guest, Outcome.STOP,
                            'active, stopped in place for the window')
        if wanted == policy.COLD:
            if rules.disable_cold_migration:
                return Decision(guest, Outcome.STOP,
                                'active, must not be live-migrated and '
                                'cold migration is disabled')
            return Decision(guest, Outcome.COLD,
                            'active, cold-migrated and started again')
        if rules.disable_live_migration and rules.disable_cold_migration:
            return Decision(guest, Outcome.STOP,
                            'live and cold migration are both disabled')
        if rules.disable_live_migration:
            return Decision(guest, Outcome.COLD,
                            'active, live migration disabled')
        if guest.local_disk and not rules.live_migrate_local_disk:
            if rules.disable_cold_migration:
                return Decision(
                    guest, Outcome.UNPLACEABLE,
                    'active with a local root disk, live_migrate_local_disk '
                    'is false and cold migration is disabled')
            return Decision(guest, Outcome.COLD,
                            'active with a local root disk and '
                            'live_migrate_local_disk is false')
        return Decision(guest, Outcome.LIVE, 'active')
    if GuestState.is_stopped(guest.state):
        if wanted == policy.STOP:
            return Decision(guest, Outcome.LEFT,
                            'stopped already, stays on its node')
        if rules.disable_cold_migration:
            return Decision(guest, Outcome.LEFT,
                            'stopped, and cold migration is disabled')
        return Decision(guest, Outcome.COLD, 'stopped')
    return Decision(guest, Outcome.UNPLACEABLE,
                    'state %s; Watcher migrates only active or stopped '
                    'servers' % guest.state)


def for_drain(node_label: str, guests: Sequence[Guest], rules):
    """One decision per guest leaving the node(s), and the guests to move.

    :raises PlanningRefused: when a guest cannot be moved and
        ``skip_unmovable`` is not set.
    """
    policy.refuse_unknown(guests)
    decisions, to_move, unmovable = [], [], []
    for guest in guests:
        decision = decide(guest, rules)
        if decision.outcome is Outcome.UNPLACEABLE:
            unmovable.append(decision)
            decision = dataclasses.replace(
                decision, outcome=Outcome.LEFT,
                reason=decision.reason + '; left on the node because '
                'skip_unmovable is set')
        elif decision.outcome.moves:
            to_move.append(guest)
        decisions.append(decision)
    if unmovable and not rules.skip_unmovable:
        raise PlanningRefused(
            '%s has %d guest(s) that Watcher cannot move: %s. %s' % (
                node_label, len(unmovable), _listed(unmovable),
                UNMOVABLE_ADVICE % 'on the node'), unmovable)
    return decisions, to_move


def for_return(guest: Guest, host: str, destination: str, why: str,
               rules) -> Decision:
    """The decision for a guest on ``host`` that should go to
    ``destination`` when a node leaves maintenance.

    A restore never stops a guest; one it cannot move stays where it is
    (``Outcome.UNPLACEABLE`` tells the caller to refuse unless
    ``skip_unmovable`` is set).
    """
    decision = decide(guest, rules)
    if decision.outcome is Outcome.STOP:
        return Decision(guest, Outcome.LEFT, decision.reason +
                        '; restoring never stops a guest, so it stays on '
                        '%s' % host)
    if decision.outcome is Outcome.UNPLACEABLE:
        if rules.skip_unmovable:
            return dataclasses.replace(
                decision, outcome=Outcome.LEFT,
                reason=decision.reason + '; left on %s because '
                'skip_unmovable is set' % host)
        return decision
    if decision.outcome is Outcome.LEFT:
        return dataclasses.replace(
            decision, reason=decision.reason + '; stays on %s' % host)
    return dataclasses.replace(decision, destination=destination,
                               reason='%s; %s' % (decision.reason, why))


def refuse_unmovable_return(node_label: str, unmovable) -> None:
    """Refuse a restore with guests that should move but cannot."""
    if unmovable:
        raise PlanningRefused(
            'Cannot restore %s: %d guest(s) that should move cannot be moved '
            'by Watcher: %s. %s' % (
                node_label, len(unmovable), _listed(unmovable),
                UNMOVABLE_ADVICE % 'where they are'), unmovable)


def _listed(decisions) -> str:
    return '; '.join('%s (%s)' % (d.guest.label, d.reason)
                     for d in decisions)
