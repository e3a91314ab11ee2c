"""A Nova emulator that refuses what real Nova refuses.

Built on the public surface of Watcher's ``NovaAPIEmulator``: its
``load_topology`` fills the stores (servers, hypervisors, services,
flavors, aggregates). This module owns every HTTP controller (it uses
none of that emulator's private classes) and adds server groups,
migration records, migrations that take time, and failure injection:

* ``os-migrateLive`` and ``migrate`` to an unknown host or to the
  server's own host are refused at once with 400.
* Other destinations must pass the scheduler's rules: enabled, up, in
  the server's pinned availability zone, within hard server-group
  policies, with room in vCPU, RAM and disk (room is ``(total -
  reserved) * allocation_ratio`` minus what servers and in-flight
  migrations hold). Without a ``host`` the same rules filter every host
  and the one with the most free RAM wins, as nova-scheduler's RAM
  weigher does. As in real Nova (``doc/source/real_nova.rst``), a
  destination failing them is refused with 400 "No valid host was
  found" only for a live migration before microversion 2.34; from 2.34
  on, and for every cold migration, the request is accepted (202) and
  the migration fails: its record ends in ``error`` (with the reason in
  ``error_reason``, which real Nova keeps in its logs) and the server
  stays where it was, as it was.
* A cold migration ends in ``VERIFY_RESIZE``; ``confirmResize`` gives the
  server back the power state it had before (a SHUTOFF server stays
  SHUTOFF).
* ``GET /os-server-groups`` (``all_projects``, ``limit``, ``offset``) and
  ``GET /servers/<id>/migrations`` are served.
* With ``set_migration_rate(bytes_per_second)``, a live migration runs
  for its guest's memory divided by the rate: the server stays
  ``MIGRATING`` on its source while ``GET /servers/<id>/migrations``
  reports ``memory_processed_bytes`` rising and
  ``memory_remaining_bytes`` falling, then it lands on its destination.
* Failures can be injected per server (see ``FAILURES``).

The Placement emulator, when given, is kept in step after every move.
"""

from __future__ import annotations

import copy
import datetime
import math
import threading
import time
import uuid

from pecan import expose
from pecan import request
from pecan import response
from pecan import rest
from watcher.tests.functional import topology as wtopo
from watcher.tests.local_fixtures import nova_api_emulator as wnova

API_ERROR = 'api_error'
NEVER_COMPLETES = 'never_completes'
ERROR_AFTER_START = 'error_after_start'
FAILURES = {
    API_ERROR: 'the migrate call itself fails with HTTP 500',
    NEVER_COMPLETES: 'the migration starts and never finishes (the server '
                     'stays MIGRATING/RESIZE on its source host)',
    ERROR_AFTER_START: 'the migration starts, then fails: the server stays '
                       'on its source host in its prior state and the '
                       'migration record ends in error',
}

# vm_state -> (API status, power state), as Nova reports them.
_STATUS = {
    'active': ('ACTIVE', 1),
    'stopped': ('SHUTOFF', 4),
    'paused': ('PAUSED', 3),
    'suspended': ('SUSPENDED', 7),
    'error': ('ERROR', 0),
    'rescued': ('RESCUE', 1),
    'resized': ('VERIFY_RESIZE', 1),
    'building': ('BUILD', 0),
    'shelved_offloaded': ('SHELVED_OFFLOADED', 4),
}
_IN_FLIGHT = ('queued', 'preparing', 'running')
LATEST_MICROVERSION = (2, 100)
# From this microversion on, a live migration's destination is checked
# by the conductor after the API has answered 202.
LIVE_CHECKED_LATER = (2, 34)
_MiB_PER_GiB = 1024
_BYTES_PER_MiB = 1024 * 1024
_COUNTERS = tuple('%s_%s_bytes' % (kind, count)
                  for kind in ('memory', 'disk')
                  for count in ('total', 'processed', 'remaining'))


class NovaError(Exception):
    """An API refusal: HTTP code and Nova's error message."""

    NAMES = {400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound',
             409: 'conflictingRequest', 500: 'computeFault'}

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self):
        return {self.NAMES.get(self.code, 'error'): {
            'code': self.code, 'message': self.message}}


def microversion(headers):
    """The compute microversion a request asks for, as (major, minor)."""
    value = headers.get('OpenStack-API-Version') or ''
    if value.lower().startswith('compute '):
        value = value.split(None, 1)[1].strip()
    else:
        value = headers.get('X-OpenStack-Nova-API-Version') or '2.1'
    if value == 'latest':
        return LATEST_MICROVERSION
    major, _, minor = value.partition('.')
    return int(major), int(minor or 0)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%S.%f')


# --------------------------------------------------------------------------
# Controllers. The sandbox owns all of them: it uses Watcher's emulator
# only for its public surface (``NovaAPIEmulator.load_topology`` and the
# stores it fills, plus the two hooks ``BaseAPIEmulator`` asks every
# emulator to implement), never its private controller classes.


def _not_found(message):
    error = NovaError(404, message)
    response.status = error.code
    return error.body()


def _truthy(value):
    return str(value or '').lower() in ('1', 'true', 'yes', 'on')


def _page(items, limit, marker):
    """Nova's marker/limit paging: (page, whether more follow)."""
    if marker:
        ids = [item['id'] for item in items]
        items = items[ids.index(marker) + 1:] if marker in ids else []
    if limit and 0 < limit < len(items):
        return items[:limit], True
    return items, False


class _Controller(rest.RestController):
    """A controller of one collection of the emulated Nova."""

    def __init__(self, nova):
        self._nova = nova


class _ServerController(rest.RestController):
    """A controller under one server, ``/servers/<id>/...``."""

    def __init__(self, nova, server_id):
        self._nova = nova
        self._server_id = server_id


class _Action(_ServerController):
    @expose('json')
    def post(self):
        try:
            code, body = self._nova.server_action(
                self._server_id, request.json,
                microversion=microversion(request.headers))
        except NovaError as error:
            response.status = error.code
            return error.body()
        response.status = code
        return body


class _ServerMigrations(_ServerController):
    """``GET /servers/<id>/migrations``: its live migrations in flight,
    with the memory counters Nova reports (microversion 2.23 and on)."""

    @expose('json')
    def get_all(self):
        if self._server_id not in self._nova.servers:
            return _not_found('Instance %s could not be found.'
                              % self._server_id)
        return {'migrations': [
            self._nova.migration_view(m)
            for m in self._nova.migrations.values()
            if m['server_uuid'] == self._server_id
            and m['migration_type'] == 'live-migration'
            and m['status'] in _IN_FLIGHT]}


class _Server(_ServerController):
    def __init__(self, nova, server_id):
        super().__init__(nova, server_id)
        self.action = _Action(nova, server_id)
        self.migrations = _ServerMigrations(nova, server_id)

    @expose('json')
    def get(self):
        server = self._nova.servers.get(self._server_id)
        if server is None:
            return _not_found('Instance %s could not be found.'
                              % self._server_id)
        return {'server': server}


class _Servers(_Controller):
    _custom_actions = {'detail': ['GET']}

    @expose('json')
    def detail(self):
        params = request.params
        servers = list(self._nova.servers.values())
        if params.get('host'):
            servers = [s for s in servers
                       if s['OS-EXT-SRV-ATTR:host'] == params['host']]
        limit = int(params['limit']) if params.get('limit') else None
        page, more = _page(servers, limit, params.get('marker'))
        body = {'servers': page}
        if more:
            body['servers_links'] = [{
                'rel': 'next',
                'href': '/v2.1/servers/detail?limit=%d&marker=%s'
                        % (limit, page[-1]['id'])}]
        return body

    @expose()
    def _lookup(self, server_id, *remainder):
        if server_id == 'detail':
            return
        return _Server(self._nova, server_id), remainder


class _Hypervisors(_Controller):
    _custom_actions = {'detail': ['GET']}

    @expose('json')
    def detail(self):
        pattern = request.params.get('hypervisor_hostname_pattern')
        with_servers = _truthy(request.params.get('with_servers'))
        found = []
        for hyp in self._nova.hypervisors.values():
            if pattern and hyp['hypervisor_hostname'] != pattern:
                continue
            hyp = copy.deepcopy(hyp)
            if not with_servers:
                hyp.pop('servers', None)
            found.append(hyp)
        return {'hypervisors': found}

    @expose('json')
    def get_one(self, hypervisor_id):
        hyp = self._nova.hypervisors.get(hypervisor_id)
        if hyp is None:
            return _not_found('Hypervisor with ID %s could not be found.'
                              % hypervisor_id)
        return {'hypervisor': hyp}


class _Services(_Controller):
    @expose('json')
    def get_all(self):
        params = request.params
        return {'services': [
            s for s in self._nova.services.values()
            if (not params.get('host') or s['host'] == params['host'])
            and (not params.get('binary')
                 or s['binary'] == params['binary'])]}

    @expose('json')
    def put(self, service_id):
        try:
            return {'service': self._nova.set_service(service_id,
                                                      request.json)}
        except NovaError as error:
            response.status = error.code
            return error.body()


class _Flavors(_Controller):
    _custom_actions = {'detail': ['GET']}

    @expose('json')
    def detail(self):
        return {'flavors': list(self._nova.flavors.values())}

    @expose('json')
    def get_all(self):
        return self.detail()

    @expose('json')
    def get_one(self, flavor_id):
        flavor = self._nova.flavors.get(flavor_id)
        if flavor is None:
            return _not_found('Flavor %s could not be found.' % flavor_id)
        return {'flavor': flavor}


class _Aggregates(_Controller):
    @expose('json')
    def get_all(self):
        return {'aggregates': list(self._nova.aggregates.values())}

    @expose('json')
    def get_one(self, aggregate_id):
        for key, aggregate in self._nova.aggregates.items():
            if str(key) == aggregate_id:
                return {'aggregate': aggregate}
        return _not_found('Aggregate %s could not be found.' % aggregate_id)


class _ServerGroups(_Controller):
    @expose('json')
    def get_all(self):
        params = request.params
        groups = sorted(self._nova.server_groups.values(),
                        key=lambda g: g['name'])
        project = request.headers.get('X-Project-Id')
        if not _truthy(params.get('all_projects')) and project:
            groups = [g for g in groups if g['project_id'] == project]
        offset = int(params.get('offset', 0) or 0)
        limit = params.get('limit')
        groups = groups[offset:]
        if limit is not None:
            groups = groups[:int(limit)]
        return {'server_groups': groups}

    @expose('json')
    def get_one(self, group_id):
        group = self._nova.server_groups.get(group_id)
        if group is None:
            return _not_found('Instance group %s could not be found.'
                              % group_id)
        return {'server_group': group}


class _Migrations(_Controller):
    @expose('json')
    def get_all(self):
        uuid = request.params.get('instance_uuid')
        return {'migrations': [
            self._nova.migration_view(m)
            for m in self._nova.migrations.values()
            if not uuid or m['server_uuid'] == uuid]}


def _version(base):
    return {'id': 'v2.1', 'status': 'CURRENT',
            'version': '%d.%d' % LATEST_MICROVERSION, 'min_version': '2.1',
            'updated': '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': '%s/v2.1/' % base}]}


class _V21:
    SEGMENTS = {
        'servers': _Servers, 'flavors': _Flavors,
        'os-hypervisors': _Hypervisors, 'os-services': _Services,
        'os-aggregates': _Aggregates, 'os-server-groups': _ServerGroups,
        'os-migrations': _Migrations,
    }

    def __init__(self, nova):
        self._nova = nova

    @expose()
    def _lookup(self, segment, *remainder):
        controller = self.SEGMENTS.get(segment)
        if controller is not None:
            return controller(self._nova), remainder

    @expose('json')
    def index(self):
        return {'version': _version(request.host_url.rstrip('/'))}


class _Root:
    def __init__(self, nova):
        self._nova = nova

    @expose()
    def _lookup(self, segment, *remainder):
        if segment == 'v2.1':
            # Migrations advance with time; every request sees them
            # where they are now.
            self._nova.advance()
            return _V21(self._nova), remainder

    @expose('json')
    def index(self):
        return {'versions': [_version(request.host_url.rstrip('/'))]}


# --------------------------------------------------------------------------
# The emulator


class SandboxNova(wnova.NovaAPIEmulator):
    """Watcher's Nova emulator with Nova's refusals, groups and failures.

    :param placement: optional ``PlacementAPIEmulator`` kept in step.
    """

    def __init__(self, placement=None, clock=time.monotonic):
        self.placement = placement
        self.lock = threading.RLock()
        self.clock = clock
        # Bytes of guest memory a live migration copies per second; None
        # (the default) completes every live migration at once.
        self.migration_rate = None
        super().__init__()

    def _init_stores(self):
        super()._init_stores()
        self.hosts = {}           # hostname -> topology host (dict)
        self.server_groups = {}   # uuid -> Nova server-group record
        self.migrations = {}      # id -> Nova migration record
        self.failures = {}        # server uuid -> [kind, times left]
        self._next_migration = 1

    def _make_root_controller(self):
        return _Root(self)

    # -- loading -----------------------------------------------------------

    def load_topology(self, topology=None):
        with self.lock:
            topology = topology or wtopo.ComputeTopology()
            super().load_topology(topology)
            self._next_migration = 1
            for node in wtopo.normalize(topology.compute_nodes) or []:
                self.hosts[node['hostname']] = dict(node)
            zones = {name: h.get('availability_zone', 'nova')
                     for name, h in self.hosts.items()}
            for svc in self.services.values():
                svc['updated_at'] = _now()
            for inst in wtopo.normalize(topology.instances) or []:
                server = self.servers[inst['uuid']]
                state = inst.get('state', 'active')
                status, power = _STATUS.get(state, (state.upper(), 0))
                server['status'] = status
                server['OS-EXT-STS:power_state'] = power
                server['OS-EXT-STS:vm_state'] = state
                server['OS-EXT-AZ:availability_zone'] = zones.get(
                    inst['host'], 'nova')
                if inst.get('flavor_name'):
                    server['flavor']['original_name'] = inst['flavor_name']
            for group in getattr(topology, 'server_groups', None) or []:
                members = [i.uuid for i in topology.instances
                           if getattr(i, 'server_group', None) == group.name]
                self.server_groups[group.uuid] = {
                    'id': group.uuid, 'name': group.name,
                    'policy': group.policy, 'policies': [group.policy],
                    'rules': dict(group.rules), 'members': members,
                    'metadata': {}, 'project_id': group.project_id,
                    'user_id': '',
                }
            self._refresh_usage()

    # -- queries -------------------------------------------------------------

    def server_named(self, name):
        for server in self.servers.values():
            if server['name'] == name:
                return server
        raise KeyError('no server named %r' % name)

    def service_of(self, hostname):
        for svc in self.services.values():
            if svc['host'] == hostname and svc['binary'] == 'nova-compute':
                return svc
        raise KeyError('no nova-compute service on %r' % hostname)

    def set_service(self, service_id, body):
        """``PUT /os-services/<id>``: status and disabled reason.

        As Nova does (checked against Nova 34), enabling a service
        forgets its disabled reason.
        """
        with self.lock:
            svc = self.services.get(service_id)
            if svc is None:
                raise NovaError(404, 'Service %s could not be found.'
                                % service_id)
            if 'status' in body:
                svc['status'] = body['status']
                svc['disabled_reason'] = body.get('disabled_reason')
            elif 'disabled_reason' in body:
                svc['disabled_reason'] = body['disabled_reason']
            if svc['status'] == 'enabled':
                svc['disabled_reason'] = None
            for hyp in self.hypervisors.values():
                if hyp['hypervisor_hostname'] == svc['host']:
                    hyp['status'] = svc['status']
                    hyp['service']['disabled_reason'] = svc[
                        'disabled_reason']
            return svc

    @staticmethod
    def needs(server):
        """(vCPU, MiB, GiB) a server claims on its host."""
        flavor = server['flavor']
        root = 0 if not server.get('image') else flavor['disk']
        disk = (root + flavor.get('ephemeral', 0)
                + math.ceil(flavor.get('swap', 0) / _MiB_PER_GiB))
        return flavor['vcpus'], flavor['ram'], disk

    def capacity(self, hostname):
        """(vCPU, MiB, GiB) usable: (total - reserved) * ratio."""
        h = self.hosts[hostname]
        return (
            (h['vcpus'] - h.get('vcpu_reserved', 0)) * h.get('vcpu_ratio',
                                                             1.0),
            (h['memory'] - h.get('memory_mb_reserved', 0))
            * h.get('memory_ratio', 1.0),
            (h['disk'] - h.get('disk_gb_reserved', 0)) * h.get('disk_ratio',
                                                               1.0),
        )

    def usage(self, hostname):
        """(vCPU, MiB, GiB) held on a host, in-flight migrations included.

        As in Placement, a running migration holds resources on its
        destination, and a cold migration awaiting confirmation still
        holds them on its source.
        """
        used = [0, 0, 0]

        def add(server):
            for i, amount in enumerate(self.needs(server)):
                used[i] += amount

        for server in self.servers.values():
            if server['OS-EXT-SRV-ATTR:host'] == hostname:
                add(server)
        for m in self.migrations.values():
            server = self.servers.get(m['server_uuid'])
            if server is None:
                continue
            if m['status'] in _IN_FLIGHT and m['dest_compute'] == hostname:
                add(server)
            if m['status'] == 'finished' and m['source_compute'] == hostname:
                add(server)
        return tuple(used)

    def free(self, hostname):
        return tuple(c - u for c, u in zip(self.capacity(hostname),
                                           self.usage(hostname)))

    def groups_of(self, server_id):
        return [g for g in self.server_groups.values()
                if server_id in g['members']]

    # -- the scheduler's rules -------------------------------------------

    def refusal(self, server, hostname):
        """Why ``hostname`` cannot take ``server`` now, or None."""
        name = server['name']
        if hostname not in self.hosts:
            return 'Compute host %s could not be found.' % hostname
        if hostname == server['OS-EXT-SRV-ATTR:host']:
            return ("The target host can't be the same one: %s already "
                    "runs on %s." % (name, hostname))
        svc = self.service_of(hostname)
        if svc['status'] != 'enabled':
            reason = svc.get('disabled_reason')
            return ('The nova-compute service of %s is disabled%s.'
                    % (hostname, ' (%s)' % reason if reason else ''))
        if svc['state'] != 'up':
            return 'The nova-compute service of %s is down.' % hostname
        pinned = server.get('pinned_availability_zone')
        zone = self.hosts[hostname].get('availability_zone', 'nova')
        if pinned and zone != pinned:
            return ('%s is pinned to availability zone %s and %s is in %s.'
                    % (name, pinned, hostname, zone))
        for group in self.groups_of(server['id']):
            reason = self._group_refusal(server, hostname, group)
            if reason:
                return reason
        needs = self.needs(server)
        free = self.free(hostname)
        short = [label for label, need, room in zip(
            ('vCPU', 'RAM', 'disk'), needs, free) if need > room]
        if short:
            return ('%s has not enough %s for %s: it needs %d vCPU, %d MiB '
                    'RAM, %d GiB disk and %s has %g vCPU, %g MiB, %g GiB '
                    'free.' % (hostname, ' and '.join(short), name,
                               needs[0], needs[1], needs[2], hostname,
                               free[0], free[1], free[2]))
        return None

    def _group_refusal(self, server, hostname, group):
        others = [self.servers[m] for m in group['members']
                  if m != server['id'] and m in self.servers]
        there = [o['name'] for o in others
                 if o['OS-EXT-SRV-ATTR:host'] == hostname]
        if group['policy'] == 'anti-affinity':
            limit = int(group['rules'].get('max_server_per_host', 1))
            if len(there) >= limit:
                return ('Server group %s (anti-affinity, at most %d per '
                        'host) already has %s on %s.'
                        % (group['name'], limit, ', '.join(sorted(there)),
                           hostname))
        elif group['policy'] == 'affinity':
            elsewhere = sorted({o['OS-EXT-SRV-ATTR:host'] for o in others}
                               - {hostname})
            if elsewhere:
                return ('Server group %s (affinity) has members on %s, so '
                        '%s cannot run on %s.'
                        % (group['name'], ', '.join(elsewhere),
                           server['name'], hostname))
        return None

    def schedule(self, server):
        """The host nova-scheduler would pick: filters, then most free RAM."""
        passing = [h for h in sorted(self.hosts)
                   if self.refusal(server, h) is None]
        if not passing:
            raise NovaError(400, 'No valid host was found. There are not '
                                 'enough hosts available for %s.'
                            % server['name'])
        # max() keeps the first of equals: ties go to the first name.
        return max(passing, key=lambda h: self.free(h)[1])

    # -- actions -------------------------------------------------------------

    def inject_failure(self, server_id, kind, times=1):
        """Make the next ``times`` migrations of a server fail as ``kind``.

        ``kind=None`` clears an injected failure.
        """
        with self.lock:
            if kind is None:
                self.failures.pop(server_id, None)
                return
            if kind not in FAILURES:
                raise ValueError('unknown failure %r; choose one of %s'
                                 % (kind, ', '.join(sorted(FAILURES))))
            self.failures[server_id] = [kind, times]

    def _take_failure(self, server_id):
        entry = self.failures.get(server_id)
        if not entry:
            return None
        entry[1] -= 1
        if entry[1] <= 0:
            del self.failures[server_id]
        return entry[0]

    def server_action(self, server_id, body, microversion=None):
        """Apply one ``POST /servers/<id>/action``; (HTTP code, body).

        ``microversion`` is the request's, as (major, minor); None (a
        direct call, not through the API) refuses a bad destination at
        once, whatever the kind of migration.
        """
        with self.lock:
            server = self.servers.get(server_id)
            if server is None:
                raise NovaError(404, 'Instance %s could not be found.'
                                % server_id)
            if 'os-migrateLive' in body:
                args = body['os-migrateLive'] or {}
                return self._migrate(server, args.get('host'), live=True,
                                     microversion=microversion)
            if 'migrate' in body:
                args = body['migrate'] if isinstance(body['migrate'],
                                                     dict) else {}
                return self._migrate(server, args.get('host'), live=False,
                                     microversion=microversion)
            if 'confirmResize' in body:
                return self._confirm(server)
            if 'revertResize' in body:
                return self._revert(server)
            if 'os-stop' in body:
                self._require(server, 'os-stop', ('ACTIVE', 'ERROR'))
                self._set_state(server, 'stopped')
                return 202, None
            if 'os-start' in body:
                self._require(server, 'os-start', ('SHUTOFF',))
                self._set_state(server, 'active')
                return 202, None
            raise NovaError(400, 'Unsupported server action: %s'
                            % ', '.join(sorted(body)))

    def _require(self, server, action, statuses):
        if server['status'] not in statuses or server[
                'OS-EXT-STS:task_state']:
            raise NovaError(
                409, "Cannot '%s' instance %s while it is in vm_state %s%s."
                % (action, server['id'], server['OS-EXT-STS:vm_state'],
                   ' (task_state %s)' % server['OS-EXT-STS:task_state']
                   if server['OS-EXT-STS:task_state'] else ''))

    @staticmethod
    def _set_state(server, vm_state, task_state=None):
        status, power = _STATUS[vm_state]
        server['status'] = status
        server['OS-EXT-STS:vm_state'] = vm_state
        server['OS-EXT-STS:power_state'] = power
        server['OS-EXT-STS:task_state'] = task_state
        server['updated'] = _now()

    def _migrate(self, server, dest, live, microversion=None):
        action = 'os-migrateLive' if live else 'migrate'
        self._require(server, action,
                      ('ACTIVE', 'PAUSED') if live else ('ACTIVE', 'SHUTOFF'))
        failure = self._take_failure(server['id'])
        if failure == API_ERROR:
            raise NovaError(500, 'Unexpected API Error while migrating %s '
                                 '(failure injected by the sandbox).'
                            % server['name'])
        source = server['OS-EXT-SRV-ATTR:host']
        if dest and (dest not in self.hosts or dest == source):
            # Checked by the API itself.
            raise NovaError(400, self.refusal(server, dest))
        try:
            if dest:
                reason = self.refusal(server, dest)
                if reason:
                    raise NovaError(400, 'No valid host was found. '
                                    + reason)
            else:
                dest = self.schedule(server)
        except NovaError as error:
            checked_later = microversion is not None and (
                not live or microversion >= LIVE_CHECKED_LATER)
            if not checked_later:
                raise
            # Accepted; the conductor's scheduling then fails.
            record = self._record(server, source, None, live)
            record.update(status='error', error_reason=error.message,
                          updated_at=_now())
            return 202, None
        record = self._record(server, source, dest, live)
        if failure == NEVER_COMPLETES:
            self._start(server, record, live)
        elif failure == ERROR_AFTER_START:
            record['status'] = 'error'
        elif live and self.migration_rate is not None:
            self._start(server, record, live)
            record['advancing_since'] = self.clock()
        elif live:
            self._place(server, dest)
            record.update(status='completed', memory_remaining_bytes=0,
                          memory_processed_bytes=record[
                              'memory_total_bytes'])
        else:
            record['prior'] = server['OS-EXT-STS:vm_state']
            self._place(server, dest)
            self._set_state(server, 'resized')
            record['status'] = 'finished'
        record['updated_at'] = _now()
        self._refresh_usage()
        return 202, None

    @staticmethod
    def _start(server, record, live):
        record['status'] = 'running'
        record['prior'] = server['OS-EXT-STS:vm_state']
        server['status'] = 'MIGRATING' if live else 'RESIZE'
        server['OS-EXT-STS:task_state'] = ('migrating' if live
                                           else 'resize_migrating')

    # -- migrations that take time -------------------------------------------

    def set_migration_rate(self, bytes_per_second):
        """How fast live migrations copy guest memory from now on.

        ``None`` completes each live migration at once (the default);
        ``0`` stalls the ones in flight. Migrations already running go on
        at the new rate.
        """
        if bytes_per_second is not None and bytes_per_second < 0:
            raise ValueError('a migration rate is >= 0 bytes per second, '
                             'not %r' % bytes_per_second)
        with self.lock:
            self.advance()
            self.migration_rate = bytes_per_second

    def advance(self):
        """Bring running live migrations up to now; complete the done ones.

        Called on every API request, so Watcher, the CLI and a test all
        see a migration where the clock says it is.
        """
        with self.lock:
            now = self.clock()
            finished = False
            for record in self.migrations.values():
                since = record.get('advancing_since')
                if since is None or record['status'] != 'running':
                    continue
                copied = (self.migration_rate or 0) * max(0.0, now - since)
                record['advancing_since'] = now
                total = record['memory_total_bytes']
                record['memory_processed_bytes'] = min(
                    total, record['memory_processed_bytes'] + int(copied))
                record['memory_remaining_bytes'] = (
                    total - record['memory_processed_bytes'])
                record['updated_at'] = _now()
                if record['memory_remaining_bytes'] == 0:
                    self._finish_live(record)
                    finished = True
            if finished:
                self._refresh_usage()

    def _finish_live(self, record):
        server = self.servers.get(record['server_uuid'])
        record['status'] = 'completed'
        record.pop('advancing_since', None)
        if server is None:
            return
        self._place(server, record['dest_compute'])
        self._set_state(server, record.get('prior') or 'active')

    @staticmethod
    def migration_view(record):
        """A migration record as the API shows it (no emulator fields).

        Nova's response schema allows each memory and disk counter to be
        null or at least 1, never 0: nothing copied yet is null.
        """
        return {key: (None if key in _COUNTERS and not value else value)
                for key, value in record.items()
                if key not in ('prior', 'advancing_since')}

    def _record(self, server, source, dest, live):
        mid = self._next_migration
        self._next_migration += 1
        record = {
            'id': mid, 'uuid': str(uuid.uuid4()),
            'server_uuid': server['id'], 'instance_uuid': server['id'],
            'source_compute': source, 'source_node': source,
            'dest_compute': dest, 'dest_node': dest, 'dest_host': dest,
            'migration_type': 'live-migration' if live else 'migration',
            'status': 'preparing', 'created_at': _now(),
            'updated_at': _now(),
            'project_id': server.get('tenant_id'),
            'user_id': server.get('user_id'),
            # Memory copied by a live migration, as Nova reports it
            # (disks are shared here: nothing to copy).
            'memory_total_bytes': server['flavor']['ram'] * _BYTES_PER_MiB,
            'memory_processed_bytes': 0,
            'memory_remaining_bytes': server['flavor']['ram']
            * _BYTES_PER_MiB,
            'disk_total_bytes': 0, 'disk_processed_bytes': 0,
            'disk_remaining_bytes': 0,
        }
        self.migrations[mid] = record
        return record

    def _pending_resize(self, server):
        for m in self.migrations.values():
            if m['server_uuid'] == server['id'] and m['status'] == 'finished':
                return m
        return None

    def _confirm(self, server):
        record = self._pending_resize(server)
        if server['status'] != 'VERIFY_RESIZE' or record is None:
            self._require(server, 'confirmResize', ())
        self._set_state(server, record.get('prior') or 'active')
        record['status'] = 'confirmed'
        self._refresh_usage()
        return 204, None

    def _revert(self, server):
        record = self._pending_resize(server)
        if server['status'] != 'VERIFY_RESIZE' or record is None:
            self._require(server, 'revertResize', ())
        self._place(server, record['source_compute'])
        self._set_state(server, record.get('prior') or 'active')
        record['status'] = 'reverted'
        self._refresh_usage()
        return 202, None

    def _place(self, server, hostname):
        server['OS-EXT-SRV-ATTR:host'] = hostname
        server['OS-EXT-SRV-ATTR:hypervisor_hostname'] = hostname
        server['hostId'] = hostname
        server['OS-EXT-AZ:availability_zone'] = self.hosts[hostname].get(
            'availability_zone', 'nova')
        server['updated'] = _now()

    # -- changes made by "someone else" (tests, demo) -----------------------

    def delete_server(self, server_id):
        with self.lock:
            self.servers.pop(server_id, None)
            for group in self.server_groups.values():
                if server_id in group['members']:
                    group['members'].remove(server_id)
            if self.placement is not None:
                self.placement.allocations.pop(server_id, None)
            self._refresh_usage()

    def move_server(self, server_id, hostname):
        """An out-of-band live migration, checked like any other."""
        return self.server_action(server_id,
                                  {'os-migrateLive': {'host': hostname}})

    # -- bookkeeping ------------------------------------------------------

    def _refresh_usage(self):
        """Recompute hypervisor and Placement usage from the servers."""
        by_name = {h['hypervisor_hostname']: h
                   for h in self.hypervisors.values()}
        for hostname, hyp in by_name.items():
            vcpus, ram, disk = self.usage(hostname) if (
                hostname in self.hosts) else (0, 0, 0)
            on_host = [s for s in self.servers.values()
                       if s['OS-EXT-SRV-ATTR:host'] == hostname]
            hyp.update(vcpus_used=vcpus, memory_used=ram,
                       memory_mb_used=ram, local_gb_used=disk,
                       running_vms=len(on_host),
                       servers=[{'uuid': s['id'], 'name': s['name']}
                                for s in on_host])
        if self.placement is None:
            return
        rp_of = {h['hypervisor_hostname']: h['id']
                 for h in self.hypervisors.values()}
        self.placement.allocations.clear()
        for server in self.servers.values():
            rp = rp_of.get(server['OS-EXT-SRV-ATTR:host'])
            if rp is None:
                continue
            vcpus, ram, disk = self.needs(server)
            self.placement.allocations[server['id']] = {rp: {'resources': {
                'VCPU': vcpus, 'MEMORY_MB': ram, 'DISK_GB': disk}}}
        for hostname, rp in rp_of.items():
            if rp in self.placement.usages and hostname in self.hosts:
                vcpus, ram, disk = self.usage(hostname)
                self.placement.usages[rp] = {
                    'VCPU': vcpus, 'MEMORY_MB': ram, 'DISK_GB': disk}
