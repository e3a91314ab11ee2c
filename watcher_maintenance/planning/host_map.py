"""The operator's host map: which guests ``host_restore`` puts where.

A map names hosts and guests (by name or UUID) as the operator typed
them; every name is checked before any of it is used, and the problems
are reported together.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from watcher_maintenance.planning import constraints
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.planning.targets import GuestSource
from watcher_maintenance.planning.targets import Placed
from watcher_maintenance.planning.targets import Target


def parse(value) -> dict[str, list[str]]:
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


def targets(host_map: Mapping[str, Sequence[str]], hosts,
            guests: GuestSource,
            returning: Sequence[Target] = ()) -> tuple[Target, ...]:
    """The map's targets, checked against the hosts and against the
    guests already ``returning`` to the node.

    :raises PlanningRefused: listing every problem of the map.
    """
    problems, seen = [], {}
    home = {t.placed.guest.uuid: t.host for t in returning}
    found = []
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
            if uuid in home and home[uuid] != host_name:
                problems.append(
                    '%s should go back to %s (return_guests=drained) but the '
                    'host map puts it on %s' % (ref, home[uuid], host_name))
                continue
            if placed.host != host_name:
                for rule in rules:
                    if not rule.passes(host, placed.guest, host.free):
                        problems.append('%s cannot go to %s: %s' % (
                            ref, host_name,
                            rule.refusal(host, placed.guest, host.free)))
                        break
            found.append(Target(placed, host_name,
                                'the host map puts it on %s' % host_name))
    if problems:
        raise PlanningRefused(
            'The host map cannot be used: %s. Fix the map (hosts as in '
            '"openstack compute service list", guests by name or UUID as '
            'in "openstack server list --all-projects") and run the audit '
            'again.' % '; '.join(problems))
    return tuple(found)


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
