"""The result of planning: one decision per guest, each with its reason."""

from __future__ import annotations

import dataclasses
import enum

from watcher_maintenance.planning.inventory import Guest


class Outcome(str, enum.Enum):
    LIVE = 'live'          # live-migrated to ``destination``
    COLD = 'cold'          # cold-migrated to ``destination``
    STOP = 'stop'          # stopped where it is (both migrations disabled)
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


class PlanningRefused(Exception):
    """The drain cannot be planned safely; nothing should run.

    ``str(exc)`` is the sentence for the operator: what is wrong, which
    guests or hosts, and what to do about it.
    """

    def __init__(self, message: str, decisions=()):
        super().__init__(message)
        self.message = message
        self.decisions = tuple(decisions)
