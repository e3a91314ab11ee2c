"""Plan leaving maintenance: re-enable a node and put guests where they belong.

Three questions, each answered with plain data:

1. May the node be enabled? Only when ``host_drain`` disabled it (reason
   ``watcher_maintaining``), or the operator forces it. A down node is
   refused: nothing could run on it.
2. Which guests go where? The guests the last drain moved away go back
   to the node (``return_guests=drained``), and every guest a host map
   names goes to its host. Guests deleted or moved again since the drain
   are reported and left alone.
3. In which order? Each move must fit when it runs, not only at the end.
   A depth-first search over the moves finds such an order; when guests
   must swap hosts that are full, one of them steps aside to another host
   with room first. If no order works, the audit is refused before
   anything moves.

The state rules and per-guest reasons are the drain's (``drain.py``);
the host rules are the same constraint classes.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Protocol, Sequence

from watcher_maintenance.planning import constraints
from watcher_maintenance.planning import drain
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning import reservations
from watcher_maintenance.planning import weighers
from watcher_maintenance.planning.drain import HostSource
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import ZERO
from watcher_maintenance.planning.inventory import total_needs
from watcher_maintenance.planning.placement import largest_first
from watcher_maintenance.planning.plan import Decided
from watcher_maintenance.planning.plan import Decision
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.planning.plan import ServiceChange

NONE = 'none'
DRAINED = 'drained'
RETURN_GUESTS = (NONE, DRAINED)

DEFAULT_ORDER_BUDGET = 20_000
# Hosts tried as a stepping stone for one blocked guest, best first.
STAGING_CHOICES = 3


@dataclasses.dataclass(frozen=True)
class RestoreOptions:
    force: bool = False
    disable_live_migration: bool = False
    disable_cold_migration: bool = False
    live_migrate_local_disk: bool = True
    skip_unmovable: bool = False
    maintaining_reason: str = drain.MAINTAINING_REASON
    order_budget: int = DEFAULT_ORDER_BUDGET

    def drain_options(self) -> drain.DrainOptions:
        """The drain's state rules, with the same switches."""
        return drain.DrainOptions(
            disable_live_migration=self.disable_live_migration,
            disable_cold_migration=self.disable_cold_migration,
            live_migrate_local_disk=self.live_migrate_local_disk,
            skip_unmovable=self.skip_unmovable)


@dataclasses.dataclass(frozen=True)
class Placed:
    """A guest and the host it runs on now."""

    guest: Guest
    host: str


class GuestSource(Protocol):
    """Where the planner finds guests, by UUID or by name."""

    def by_uuid(self, uuid: str) -> Placed | None:
        """The guest with this UUID, or None if there is none."""

    def by_name(self, name: str) -> Sequence[Placed]:
        """Every guest with this name."""


class GuestList:
    """A ``GuestSource`` over guests that are already built."""

    def __init__(self, placed: Iterable[Placed]):
        self._by_uuid = {p.guest.uuid: p for p in placed}
        self._by_name: dict[str, list[Placed]] = {}
        for p in sorted(self._by_uuid.values(), key=lambda p: p.guest.uuid):
            self._by_name.setdefault(p.guest.name, []).append(p)

    def by_uuid(self, uuid):
        return self._by_uuid.get(uuid)

    def by_name(self, name):
        return self._by_name.get(name, [])


@dataclasses.dataclass(frozen=True)
class DrainedGuest:
    """One guest a ``host_drain`` plan moved off the node."""

    uuid: str
    name: str | None
    destination: str

    @property
    def label(self) -> str:
        return self.name or self.uuid


@dataclasses.dataclass(frozen=True)
class DrainRecord:
    """What Watcher recorded of the last executed drain of the node."""

    action_plan: str
    state: str
    moved: tuple[DrainedGuest, ...]


@dataclasses.dataclass(frozen=True)
class Move:
    """One migration, in the order the plan runs them."""

    guest: Guest
    outcome: Outcome
    source: str
    destination: str
    reason: str
    # A step aside: the guest goes to ``destination`` only to make room,
    # and moves on to its own host later in the plan.
    staging: bool = False
    # Indices of earlier moves of the plan that must finish first.
    waits_for: frozenset[int] = frozenset()

    def describe(self) -> str:
        return '%s: %s migration %s -> %s (%s)' % (
            self.guest.label, self.outcome.value, self.source,
            self.destination, self.reason)


@dataclasses.dataclass(frozen=True)
class RestorePlan(Decided):
    node: str
    decisions: tuple[Decision, ...]     # moved (final host) or left, why
    moves: tuple[Move, ...]             # migrations in run order
    service_changes: tuple[ServiceChange, ...]
    in_place: tuple[Guest, ...] = ()    # already where they belong
    missing: tuple[str, ...] = ()       # drained guests since deleted
    notes: tuple[str, ...] = ()

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
        out = '%s: %s.' % (self.node, ', '.join(parts))
        if self.notes:
            out += ' ' + ' '.join(self.notes)
        return out


def parse_host_map(value) -> dict[str, list[str]]:
    """Check a host map (host -> [guest names or UUIDs]) and return it.

    :raises PlanningRefused: when it is not such an object.
    """
    if not isinstance(value, Mapping):
        raise PlanningRefused(
            'host_map must be a JSON object mapping each host to a list of '
            'guest names or UUIDs, for example {"compute-1": ["vm-1"]}.')
    parsed = {}
    for host, refs in value.items():
        if isinstance(refs, str) or not isinstance(refs, (list, tuple)) or \
                not all(isinstance(r, str) and r for r in refs):
            raise PlanningRefused(
                'host_map entry %r must be a list of guest names or UUIDs, '
                'not %r.' % (host, refs))
        parsed[str(host)] = list(refs)
    return parsed


def plan_restore(node_name: str, hosts: HostSource, guests: GuestSource,
                 drained: DrainRecord | None = None,
                 host_map: Mapping[str, Sequence[str]] | None = None,
                 options: RestoreOptions = RestoreOptions()) -> RestorePlan:
    """Plan bringing ``node_name`` back into service.

    ``drained``: the last executed drain of the node, when the guests it
    moved should go back. ``host_map``: a distribution to realise.

    :raises PlanningRefused: with a sentence for the operator.
    """
    node = drain.known_node(node_name, hosts)
    service_changes, notes = _enabling(node, options)
    # Moves run after the service changes: plan them on the enabled node.
    view = _EnabledView(hosts, node_name)

    targets: dict[str, tuple[Placed, str, str]] = {}   # uuid -> (p, host, why)
    left: list[Decision] = []
    in_place: list[Guest] = []
    missing: list[str] = []
    if drained is not None:
        _from_drain(node_name, drained, guests, targets, left, missing,
                    notes)
    if host_map:
        _from_host_map(host_map, view, guests, targets)

    decisions, moving = [], []
    unmovable = []
    for uuid in sorted(targets, key=lambda u: targets[u][0].guest.label):
        placed, target, why = targets[uuid]
        if placed.host == target:
            in_place.append(placed.guest)
            continue
        decision = drain._decide_one(placed.guest,
                                     options.drain_options())
        if decision.outcome is Outcome.STOP:
            decision = Decision(placed.guest, Outcome.LEFT,
                                decision.reason + '; restoring never stops '
                                'a guest, so it stays on %s' % placed.host)
        elif decision.outcome is Outcome.UNPLACEABLE:
            unmovable.append(decision)
            decision = dataclasses.replace(
                decision, outcome=Outcome.LEFT,
                reason=decision.reason + '; left on %s because '
                'skip_unmovable is set' % placed.host)
        elif decision.outcome is Outcome.LEFT:
            decision = dataclasses.replace(
                decision, reason=decision.reason + '; stays on %s'
                % placed.host)
        else:
            decision = dataclasses.replace(
                decision, destination=target,
                reason='%s; %s' % (decision.reason, why))
            moving.append((placed, decision))
        decisions.append(decision)
    if unmovable and not options.skip_unmovable:
        raise PlanningRefused(
            'Cannot restore %s: %d guest(s) that should move cannot be moved '
            'by Watcher: %s. Bring them to ACTIVE or SHUTOFF (or move them '
            'by hand), or set skip_unmovable=true to leave them where they '
            'are.' % (node_name, len(unmovable), '; '.join(
                '%s (%s)' % (d.guest.label, d.reason) for d in unmovable)),
            unmovable)

    moves = order_moves(moving, view, options.order_budget)
    return RestorePlan(node_name, tuple(decisions + left), tuple(moves),
                       tuple(service_changes), tuple(in_place),
                       tuple(missing), tuple(notes))


def plan_restore_nodes(node_names: Sequence[str], hosts: HostSource,
                       guests: GuestSource,
                       drained: Mapping[str, DrainRecord | None],
                       options: RestoreOptions = RestoreOptions()
                       ) -> RestorePlan:
    """Plan bringing several nodes back, each with ``drained[node]``.

    The nodes are planned one after another, each seeing the moves
    planned for the ones before as already made (their destinations
    used, their sources not yet freed), so the moves of different nodes
    never need each other's room and the combined plan fits as a whole.

    :raises PlanningRefused: with a sentence for the operator.
    """
    names = drain.node_names(tuple(node_names))
    plans: list[RestorePlan] = []
    earlier: list[reservations.PendingMove] = []
    for name in names:
        seen = reservations.ReservedHosts(
            hosts, reservations.Reservations(tuple(earlier)), own=names)
        plan = plan_restore(name, seen, guests, drained.get(name),
                            options=options)
        plans.append(plan)
        earlier += [reservations.PendingMove('this audit', m.guest,
                                             m.source, m.destination)
                    for m in plan.moves]
    if len(plans) == 1:
        return plans[0]
    moves, offset = [], 0
    for plan in plans:
        moves += [dataclasses.replace(m, waits_for=frozenset(
            i + offset for i in m.waits_for)) for m in plan.moves]
        offset += len(plan.moves)

    def joined(field):
        return tuple(item for plan in plans for item in getattr(plan, field))
    return RestorePlan(', '.join(names), joined('decisions'), tuple(moves),
                       joined('service_changes'), joined('in_place'),
                       joined('missing'), joined('notes'))


def _enabling(node: Host, options: RestoreOptions):
    """The service change that brings the node back, or a refusal."""
    if not node.up:
        raise PlanningRefused(
            '%s is down: its nova-compute service does not report, so it '
            'cannot take guests and enabling it would only send new '
            'servers to a dead host. Bring nova-compute on %s back up, then '
            'run the audit again.' % (node.name, node.name))
    if node.enabled:
        return [], ['%s is already enabled.' % node.name]
    why = 'leave maintenance: %s was disabled by host_drain' % node.name
    notes = []
    if node.disabled_reason != options.maintaining_reason:
        if not options.force:
            raise PlanningRefused(
                '%s is disabled with reason "%s", not by host_drain, so it '
                'stays disabled. Check why; to enable it anyway, run the '
                'audit again with force=true.' % (
                    node.name, node.disabled_reason or 'none given'))
        why = ('force=true: enable %s although it was disabled with reason '
               '"%s"' % (node.name, node.disabled_reason or 'none given'))
        notes.append('%s was disabled with reason "%s"; enabled because '
                     'force=true.' % (node.name,
                                      node.disabled_reason or 'none given'))
    return [ServiceChange(node.name, enable=True, reason=None,
                          why=why)], notes


class _EnabledView:
    """The hosts as they are once the plan has enabled the node."""

    def __init__(self, hosts: HostSource, node_name: str):
        self._hosts = hosts
        self._node = node_name

    def names(self):
        return self._hosts.names()

    def host(self, name):
        host = self._hosts.host(name)
        if host is not None and name == self._node and not host.enabled:
            host = dataclasses.replace(host, enabled=True,
                                       disabled_reason=None)
        return host


def _from_drain(node_name, record, guests, targets, left, missing, notes):
    """Targets for the guests the drain moved off the node."""
    if record.state != 'SUCCEEDED':
        notes.append('The last drain (action plan %s) ended %s; only the '
                     'guests it did move are considered.' % (
                         record.action_plan, record.state))
    for moved in record.moved:
        placed = guests.by_uuid(moved.uuid)
        if placed is None:
            missing.append(moved.label)
        elif placed.host not in (moved.destination, node_name):
            left.append(Decision(
                placed.guest, Outcome.LEFT,
                'moved since the drain: now on %s, not %s where host_drain '
                'put it' % (placed.host, moved.destination)))
        else:
            targets[moved.uuid] = (
                placed, node_name,
                'back to %s, where host_drain (action plan %s) took it from'
                % (node_name, record.action_plan))


def _from_host_map(host_map, hosts, guests, targets):
    """Targets from the host map; every name is checked before use."""
    problems, seen = [], {}
    rules = [constraints.EnabledAndUp(), constraints.InAuditScope(),
             constraints.SameAvailabilityZone()]
    for host_name in sorted(host_map):
        host = hosts.host(host_name)
        if host is None or not host.in_scope:
            problems.append('host %s is not a compute host in this audit\'s '
                            'scope' % host_name)
            continue
        for ref in host_map[host_name]:
            placed = _resolve(ref, guests, problems)
            if placed is None:
                continue
            uuid = placed.guest.uuid
            if uuid in seen and seen[uuid] != host_name:
                problems.append('%s is listed under both %s and %s' % (
                    ref, seen[uuid], host_name))
                continue
            seen[uuid] = host_name
            if uuid in targets and targets[uuid][1] != host_name:
                problems.append(
                    '%s should go back to %s (return_guests=drained) but the '
                    'host map puts it on %s' % (ref, targets[uuid][1],
                                                host_name))
                continue
            if placed.host != host_name:
                for rule in rules:
                    if not rule.passes(host, placed.guest, host.free):
                        problems.append('%s cannot go to %s: %s' % (
                            ref, host_name,
                            rule.refusal(host, placed.guest, host.free)))
                        break
            targets[uuid] = (placed, host_name, 'the host map puts it on %s'
                             % host_name)
    if problems:
        raise PlanningRefused(
            'The host map cannot be used: %s. Fix the map (hosts as in '
            '"openstack compute service list", guests by name or UUID as '
            'in "openstack server list --all-projects") and run the audit '
            'again.' % '; '.join(problems))


def _resolve(ref: str, guests: GuestSource, problems: list) -> Placed | None:
    placed = guests.by_uuid(ref)
    if placed is not None:
        return placed
    named = list(guests.by_name(ref))
    if len(named) == 1:
        return named[0]
    if not named:
        problems.append('guest %s does not exist (no server has that name '
                        'or UUID)' % ref)
    else:
        problems.append('%d guests are named %s (%s): use the UUID' % (
            len(named), ref, ', '.join(p.guest.uuid for p in named)))
    return None


# -- ordering ---------------------------------------------------------------


def order_moves(moving: Sequence[tuple[Placed, Decision]], hosts: HostSource,
                budget: int = DEFAULT_ORDER_BUDGET) -> list[Move]:
    """An order of migrations in which each one fits when it runs.

    ``moving`` pairs each guest (where it is now) with its decision (live
    or cold, and its final host). Returns the moves in run order,
    possibly with a guest stepping aside to another host first.

    :raises PlanningRefused: when the final distribution does not fit, or
        no order of moves (with steps aside) keeps every host within its
        capacity.
    """
    if not moving:
        return []
    involved = sorted({p.host for p, _ in moving}
                      | {d.destination for _, d in moving})
    free = {}
    for name in involved:
        host = hosts.host(name)
        free[name] = host.free
    _check_final_fit(moving, hosts, free)
    search = _OrderSearch(moving, hosts, free, budget)
    steps = search.run()
    if steps is None:
        raise PlanningRefused(_no_order_refusal(moving, free, search))
    by_uuid = {p.guest.uuid: (p, d) for p, d in moving}
    moves = []
    for uuid, source, destination in steps:
        placed, decision = by_uuid[uuid]
        staging = destination != decision.destination
        reason = decision.reason
        if staging:
            reason = ('%s; steps aside to %s to make room, then moves on to '
                      '%s' % (decision.outcome.value, destination,
                              decision.destination))
        moves.append(Move(placed.guest, decision.outcome, source,
                          destination, reason, staging))
    touched = {m.source for m in moves} | {m.destination for m in moves}
    waits = ordering.waits_for(
        moves, {name: hosts.host(name).free for name in touched})
    return [dataclasses.replace(move, waits_for=after)
            for move, after in zip(moves, waits)]


def _check_final_fit(moving, hosts, free):
    """Refuse when a host would be over capacity once every move is done."""
    arriving: dict[str, list[Guest]] = {}
    leaving: dict[str, list[Guest]] = {}
    for placed, decision in moving:
        arriving.setdefault(decision.destination, []).append(placed.guest)
        leaving.setdefault(placed.host, []).append(placed.guest)
    problems = []
    for name in sorted(arriving):
        final = free[name] + total_needs(leaving.get(name, ())) - \
            total_needs(arriving[name])
        if not ZERO.fits_within(final):
            need = total_needs(arriving[name])
            text = ('%s would be over capacity in %s: arriving %s need %s, '
                    'it has %s free' % (
                        name, ' and '.join(ZERO.shortfalls(final)),
                        ', '.join(g.label for g in arriving[name]),
                        need.describe(), free[name].describe()))
            if leaving.get(name):
                text += ' plus %s from %s leaving' % (
                    total_needs(leaving[name]).describe(),
                    ', '.join(g.label for g in leaving[name]))
            problems.append(text)
    if problems:
        raise PlanningRefused(
            'The requested distribution does not fit: %s. Nothing was '
            'planned. Change the host map, or free capacity on those hosts, '
            'and run the audit again.' % '; '.join(problems))


class _OrderSearch:
    """Depth-first search for a run order of the moves.

    A state is where every moving guest is. At each state it first tries
    the guests that can go straight to their host, preferring those whose
    departure frees a host another guest is waiting for; when it is
    stuck, a guest that has not yet stepped aside may move to another
    host with room. States already found to be dead ends are not
    explored twice, and the work is bounded by ``budget``.
    """

    def __init__(self, moving, hosts, free, budget):
        self.guests = {p.guest.uuid: p.guest for p, _ in moving}
        self.start = {p.guest.uuid: p.host for p, _ in moving}
        self.goal = {p.guest.uuid: d.destination for p, d in moving}
        self.order = [g.uuid for g in
                      largest_first(list(self.guests.values()))]
        self.hosts = hosts
        self.free = dict(free)
        self.budget = budget
        self.work = 0
        self.exhausted = False
        self.room = constraints.HasRoom()
        self.static_rules = [constraints.EnabledAndUp(),
                             constraints.InAuditScope(),
                             constraints.SameAvailabilityZone()]
        self._staging_hosts = None

    def run(self):
        where = dict(self.start)
        steps: list[tuple[str, str, str]] = []
        dead: set = set()
        if self._descend(where, set(), steps, dead):
            return steps
        return None

    def _fits(self, name, uuid):
        guest = self.guests[uuid]
        host = self.hosts.host(name)
        return self.room.passes(host, guest, self.free[name])

    def _apply(self, where, steps, uuid, destination):
        source = where[uuid]
        needs = self.guests[uuid].needs
        self.free[source] = self.free[source] + needs
        self.free[destination] = self.free.get(destination, ZERO) - needs
        where[uuid] = destination
        steps.append((uuid, source, destination))

    def _undo(self, where, steps):
        uuid, source, destination = steps.pop()
        needs = self.guests[uuid].needs
        self.free[destination] = self.free[destination] + needs
        self.free[source] = self.free[source] - needs
        where[uuid] = source

    def _descend(self, where, staged, steps, dead) -> bool:
        pending = [u for u in self.order if where[u] != self.goal[u]]
        if not pending:
            return True
        state = tuple(sorted(where.items()))
        if state in dead:
            return False
        self.work += 1
        if self.work > self.budget:
            self.exhausted = True
            return False
        wanted = {self.goal[u] for u in pending}
        direct = [u for u in pending if self._fits(self.goal[u], u)]
        # Leaving a host someone waits for first unblocks the most.
        direct.sort(key=lambda u: (where[u] not in wanted,
                                   self.order.index(u)))
        for uuid in direct:
            self._apply(where, steps, uuid, self.goal[uuid])
            if self._descend(where, staged, steps, dead):
                return True
            self._undo(where, steps)
            if self.exhausted:
                return False
        for uuid in pending:
            if uuid in staged or uuid in direct:
                continue
            for name in self._stepping_stones(uuid, where):
                self._apply(where, steps, uuid, name)
                staged.add(uuid)
                if self._descend(where, staged, steps, dead):
                    return True
                staged.discard(uuid)
                self._undo(where, steps)
                if self.exhausted:
                    return False
        dead.add(state)
        return False

    def _stepping_stones(self, uuid, where):
        """Other hosts the guest may wait on, best first."""
        guest = self.guests[uuid]
        if self._staging_hosts is None:
            self._staging_hosts = [
                h for h in (self.hosts.host(n) for n in self.hosts.names())
                if h is not None and h.schedulable and h.in_scope]
            for host in self._staging_hosts:
                self.free.setdefault(host.name, host.free)
        options = []
        for host in self._staging_hosts:
            if host.name in (where[uuid], self.goal[uuid]):
                continue
            if not all(r.passes(host, guest, host.free)
                       for r in self.static_rules):
                continue
            if self.room.passes(host, guest, self.free[host.name]):
                options.append(host)
        rank = weighers.ranking_key(weighers.SPREAD)
        options.sort(key=lambda h: rank(h, guest, self.free[h.name]))
        chosen, seen = [], set()
        for host in options:
            signature = (self.free[host.name], host.zone)
            if signature in seen:
                continue
            seen.add(signature)
            chosen.append(host.name)
            if len(chosen) == STAGING_CHOICES:
                break
        return chosen


def _no_order_refusal(moving, free, search) -> str:
    blocked = []
    for placed, decision in moving:
        if not placed.guest.needs.fits_within(free[decision.destination]):
            blocked.append('%s (%s) waits for room on %s, which has %s free'
                           % (placed.guest.label,
                              placed.guest.needs.describe(),
                              decision.destination,
                              free[decision.destination].describe()))
    text = ('The requested distribution fits in the end, but no order of '
            'migrations keeps every host within its capacity while they '
            'run: %s. ' % ('; '.join(blocked[:10]) or 'the moves block each '
                           'other'))
    if search.exhausted:
        text += ('The search for an order stopped at its work limit. ')
    else:
        text += ('No other enabled host in the audit scope has room for one '
                 'of them to step aside. ')
    return text + ('Free capacity on one of these hosts (or on another '
                   'host), or realise the map in smaller steps.')
