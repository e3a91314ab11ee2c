"""The result of planning: one decision per guest, each with its reason."""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING

from watcher_maintenance.planning.inventory import Guest

if TYPE_CHECKING:
    from watcher_maintenance.planning.move_order import Move
    from watcher_maintenance.planning.options import DrainOptions
    from watcher_maintenance.planning.options import RestoreOptions


class Outcome(str, enum.Enum):
    LIVE = 'live'          # live-migrated to ``destination``
    COLD = 'cold'          # cold-migrated to ``destination``
    STOP = 'stop'          # stopped where it is (policy stop, or no migration)
    LEFT = 'left'          # left on the node, on purpose (see reason)
    UNPLACEABLE = 'unplaceable'  # would have to move, but cannot

    @property
    def moves(self) -> bool:
        return self in (Outcome.LIVE, Outcome.COLD)


@dataclasses.dataclass(frozen=True)
class Decision:
    guest: Guest
    outcome: Outcome
    reason: str
    destination: str | None = None

    def describe(self) -> str:
        if self.outcome.moves:
            return '%s: %s migration to %s (%s)' % (
                self.guest.label, self.outcome.value, self.destination,
                self.reason)
        return '%s: %s (%s)' % (self.guest.label, self.outcome.value,
                                self.reason)


class Method(str, enum.Enum):
    NOTHING_TO_MOVE = 'nothing_to_move'
    BACKUP_NODE = 'backup_node'
    SPARE_NODE = 'spare_node'
    DISPERSAL = 'dispersal'


@dataclasses.dataclass(frozen=True)
class ServiceChange:
    """A nova-compute service state change the plan makes."""

    host: str
    enable: bool
    reason: str | None
    why: str


class Decided:
    """Queries over a plan's ``decisions``, one per guest."""

    decisions: tuple[Decision, ...]

    def with_outcome(self, *outcomes: Outcome) -> list[Decision]:
        return [d for d in self.decisions if d.outcome in outcomes]

    @property
    def migrations(self) -> list[Decision]:
        return [d for d in self.decisions if d.outcome.moves]


@dataclasses.dataclass(frozen=True)
class DrainPlan(Decided):
    node: str                   # the node, or the nodes as one label
    method: Method
    decisions: tuple[Decision, ...]
    service_changes: tuple[ServiceChange, ...]
    notes: tuple[str, ...] = ()
    drained: tuple[str, ...] = ()   # every node drained (default: node)
    # What the audit asked for; the planner paces the plan by it.
    options: DrainOptions | None = None

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.drained or (self.node,)

    def source_of(self, decision: Decision) -> str:
        """The node the decision's guest leaves."""
        return decision.guest.host or self.nodes[0]

    @property
    def guests_on_node(self) -> int:
        return len(self.decisions)

    @property
    def staying(self) -> tuple[str, ...]:
        """UUIDs of the guests the plan leaves on the node(s) on
        purpose."""
        return tuple(d.guest.uuid for d in self.decisions
                     if not d.outcome.moves)

    @property
    def move_waits(self) -> None:
        # Every move leaves the node for a host the placement counted
        # them all on at once: no move waits for another.
        return None

    def by_project(self) -> dict:
        """The guests the plan moves or stops, per project (for tenants).

        ``{project: [{'server_uuid', 'server_name', 'host', 'action',
        'destination'}]}``; ``action`` is live, cold or stop, ``host``
        the node the guest is on. Projects and guests sorted; a guest
        without a known project is under ``''``.
        """
        found = {}
        for d in self.with_outcome(Outcome.LIVE, Outcome.COLD,
                                   Outcome.STOP):
            found.setdefault(d.guest.project_id or '', []).append({
                'server_uuid': d.guest.uuid,
                'server_name': d.guest.name,
                'host': self.source_of(d),
                'action': d.outcome.value,
                'destination': d.destination,
            })
        return {project: sorted(guests, key=lambda g: (
                    g['server_name'] or '', g['server_uuid']))
                for project, guests in sorted(found.items())}

    @property
    def evacuated_share(self) -> float:
        """Share of the node's guests the plan moves off it (0..1)."""
        if not self.decisions:
            return 1.0
        return len(self.migrations) / len(self.decisions)

    def summary(self) -> str:
        """One paragraph an operator can read in the audit listing."""
        moved = self.migrations
        live = sum(1 for d in moved if d.outcome is Outcome.LIVE)
        parts = ['%s: %d guest(s) to move (%d live, %d cold)' % (
            self.node, len(moved), live, len(moved) - live)]
        if self.method is Method.BACKUP_NODE or \
                self.method is Method.SPARE_NODE:
            parts.append('all onto %s' % moved[0].destination)
        stopped = self.with_outcome(Outcome.STOP)
        if stopped:
            parts.append('%d stopped in place' % len(stopped))
        left = self.with_outcome(Outcome.LEFT)
        if left:
            parts.append('%d left on the node: %s' % (
                len(left), '; '.join('%s (%s)' % (d.guest.label, d.reason)
                                     for d in left)))
        text = ', '.join(parts) + '.'
        if self.notes:
            text += ' ' + ' '.join(self.notes)
        return text


@dataclasses.dataclass(frozen=True)
class RestorePlan(Decided):
    """The result of ``planning.restore``: service changes, then moves."""

    node: str
    decisions: tuple[Decision, ...]     # moved (final host) or left, why
    moves: tuple[Move, ...]             # migrations in run order
    service_changes: tuple[ServiceChange, ...]
    in_place: tuple[Guest, ...] = ()    # already where they belong
    missing: tuple[str, ...] = ()       # drained guests since deleted
    notes: tuple[str, ...] = ()
    options: RestoreOptions | None = None
    # Guests the drain stopped in place, started again (power state kept).
    starts: tuple[Guest, ...] = ()

    @property
    def guests_considered(self) -> int:
        return len(self.decisions) + len(self.in_place)

    @property
    def move_waits(self) -> list[frozenset[int]]:
        """For each move, the earlier moves it must wait for."""
        return [m.waits_for for m in self.moves]

    def summary(self) -> str:
        """One paragraph an operator can read in the audit listing.

        Watcher keeps 255 characters of it, so the facts come first.
        """
        parts = ['%s %s' % ('enable' if c.enable else 'disable', c.host)
                 for c in self.service_changes]
        live = sum(1 for m in self.moves if m.outcome is Outcome.LIVE)
        text = '%d guest(s) to move (%d live, %d cold migration(s))' % (
            len(self.migrations), live, len(self.moves) - live)
        staged = [m for m in self.moves if m.staging]
        if staged:
            text += ', stepping aside: %s' % ', '.join(
                '%s via %s' % (m.guest.label, m.destination) for m in staged)
        parts.append(text)
        if self.missing:
            parts.append('deleted since the drain: %s' % ', '.join(
                self.missing))
        left = self.with_outcome(Outcome.LEFT)
        if left:
            parts.append('left: %s' % '; '.join(
                '%s (%s)' % (d.guest.label, d.reason) for d in left))
        if self.in_place:
            parts.append('%d already in place' % len(self.in_place))
        if self.starts:
            parts.append('start again (stopped by the drain): %s' % ', '.join(
                g.label for g in self.starts))
        out = '%s: %s.' % (self.node, ', '.join(parts))
        if self.notes:
            out += ' ' + ' '.join(self.notes)
        return out


class PlanningRefused(Exception):
    """The drain cannot be planned safely; nothing should run.

    ``str(exc)`` is the sentence for the operator: what is wrong, which
    guests or hosts, and what to do about it.
    """

    def __init__(self, message: str, decisions=()):
        super().__init__(message)
        self.message = message
        self.decisions = tuple(decisions)
