"""The clusters tests run on, built in one place.

Every unit, functional and real-Nova test describes its cluster here, in
the words of the sandbox's topology format (``doc/source/sandbox.rst``)
and in the style of Watcher's ``watcher.tests.functional.topology``::

    cloud = (Cloud()
             .hosts('compute-1', 'compute-2', 'compute-3')
             .guests_on('compute-1', 'web-1', 'web-2', memory_mb=4096)
             .guests_on('compute-2', 'db-1', state='stopped'))
    self.load_topology(cloud.topology())   # sandbox and real Nova
    cloud.host_list(), cloud.guests()      # the planning core

Unless a test says otherwise, a host has 16 vCPU, 32 GiB RAM and 500 GiB
disk (the default of the sandbox's format and of Watcher's emulator),
and a guest 2 vCPU, 2 GiB RAM and 20 GiB disk. A test whose scenario
needs other sizes says so, for one host or guest, or for the whole cloud
with ``Cloud(host=..., guest=...)``.

For small unit tests, ``host()``, ``guest()`` and ``server_group()``
build single planning objects with the same defaults, and ``drain_plan()``
and ``destinations()`` run the drain planner and read its answer.
``drain_and_return()`` is the one cluster two suites share (the
sandbox's and real Nova's drain-then-restore tests). ReadsPlans gives
sandbox and real-Nova test cases the plan an audit made and the moves
in it (``moves``: not ``migrations``, which the real-Nova test case
already has for Nova's own migration records).
"""

from watcher_maintenance import names
from watcher_maintenance.planning.drain import HostList
from watcher_maintenance.planning.drain import plan_drain
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Host
from watcher_maintenance.planning.inventory import Member
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.inventory import ServerGroup
from watcher_maintenance.planning.inventory import total_needs
from watcher_maintenance.planning.options import DrainOptions

HOST = {'vcpus': 16, 'memory_mb': 32768, 'disk_gb': 500}
GUEST = {'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 20}
# The size most sandbox and real-Nova scenarios use: a host that holds
# four default guests by vCPU.
SMALL_HOST = {'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 200}
SPARE = {'status': 'disabled', 'disabled_reason': names.SPARE_REASON}
MAINTAINING = {'status': 'disabled',
               'disabled_reason': names.MAINTAINING_REASON}
NODE = 'node'

_SIZE = ('vcpus', 'memory_mb', 'disk_gb')


def _size(spec):
    return Resources(*(spec.pop(key) for key in _SIZE))


# -- single planning objects ---------------------------------------------


def host(name, used=(0, 0, 0), **spec):
    """A planning Host. Takes the format's words (``status``, ``state``,
    ``availability_zone``) or Host's own fields (``enabled``, ``up``,
    ``zone``, ``in_scope``, ``guest_count``); ``used`` is a Resources or
    a (vCPU, MiB, GiB) tuple."""
    spec = dict(HOST, **spec)
    capacity = _size(spec)
    if 'status' in spec:
        spec['enabled'] = spec.pop('status') == 'enabled'
    if 'state' in spec:
        spec['up'] = spec.pop('state') == 'up'
    if 'availability_zone' in spec:
        spec['zone'] = spec.pop('availability_zone')
    if not isinstance(used, Resources):
        used = Resources(*used)
    return Host(name, capacity, used, **spec)


def guest(name, state='active', **spec):
    """A planning Guest with UUID ``uuid-<name>``. Its root disk is local
    when it has one and does not boot from a volume, as Nova reports it;
    ``local_disk`` says otherwise. ``pinned_az`` pins it to a zone."""
    spec = dict(GUEST, **spec)
    needs = _size(spec)
    from_volume = spec.pop('boot_from_volume', False)
    spec.setdefault('local_disk', needs.disk_gb > 0 and not from_volume)
    if 'pinned_az' in spec:
        spec['pinned_zone'] = spec.pop('pinned_az')
    return Guest(spec.pop('uuid', 'uuid-' + name), name, state, needs,
                 **spec)


def server_group(name, policy, *members, limit=1):
    """A planning ServerGroup; ``members`` are (guest name, host) pairs."""
    return ServerGroup('gid-' + name, name, policy, tuple(
        Member('uuid-' + guest_name, on, guest_name)
        for guest_name, on in members), limit)


def drain_plan(guests, hosts, groups=(), node=NODE, **options):
    """Plan draining ``node``, which holds ``guests``, onto ``hosts``."""
    everything = [host(node, guest_count=len(guests))] + list(hosts)
    return plan_drain(node, guests, HostList(everything),
                      DrainOptions(**options), groups)


def destinations(result):
    """Guest name -> destination, for every guest a plan moves."""
    return {d.guest.name: d.destination for d in result.decisions
            if d.outcome.moves}


# -- whole clusters --------------------------------------------------------


class Cloud:
    """A cluster, built fluently; each step returns the cloud.

    ``topology()`` gives the dict the sandbox and the real-Nova bed load;
    ``host_list()``, ``host()`` and ``guests()`` give the planning core's
    objects, each host's usage counted from the guests on it.
    """

    def __init__(self, host=None, guest=None):
        self._host_size = dict(HOST, **(host or {}))
        self._guest_size = dict(GUEST, **(guest or {}))
        self._hosts = {}
        self._guests = []
        self._groups = []
        self._flavors = {}

    def hosts(self, *names, **spec):
        """Hosts of one kind; ``spec`` in the format's words."""
        for name in names:
            if name in self._hosts:
                raise ValueError('host %s is added twice' % name)
            self._hosts[name] = dict(self._host_size, name=name, **spec)
        return self

    def flavor(self, name, **size):
        self._flavors[name] = dict(size)
        return self

    def guests_on(self, on, *names, **spec):
        """Guests of one kind on host ``on``. A ``flavor`` gives their
        size unless ``spec`` gives it."""
        if on not in self._hosts:
            raise ValueError('guests %s are on host %s, which is not in '
                             'the cloud: add it first' % (
                                 ', '.join(names), on))
        size = self._guest_size
        if 'flavor' in spec:
            if spec['flavor'] not in self._flavors:
                raise ValueError('flavor %s is not in the cloud: add it '
                                 'with flavor() first' % spec['flavor'])
            size = self._flavors[spec['flavor']]
        for name in names:
            self._guests.append(dict(size, name=name, host=on, **spec))
        return self

    def group(self, name, policy, **rules):
        """A server group; guests join it with ``server_group=name``."""
        self._groups.append(dict({'name': name, 'policy': policy},
                                 **({'rules': rules} if rules else {})))
        return self

    # -- for the sandbox and the real-Nova bed

    def topology(self):
        result = {'hosts': [dict(h) for h in self._hosts.values()],
                  'guests': [dict(g) for g in self._guests]}
        if self._flavors:
            result['flavors'] = {n: dict(s) for n, s in
                                 self._flavors.items()}
        if self._groups:
            result['server_groups'] = [dict(g) for g in self._groups]
        return result

    # -- for the planning core

    def guests(self, on=None):
        """Planning Guests, each knowing its host; only ``on``'s if given."""
        return [guest(**{k: v for k, v in spec.items()
                         if k not in ('flavor', 'server_group')})
                for spec in self._guests if on in (None, spec['host'])]

    def host(self, name):
        spec = dict(self._hosts[name])
        del spec['name']
        guests = self.guests(on=name)
        return host(name, used=total_needs(guests), guest_count=len(guests),
                    **spec)

    def host_list(self):
        return HostList([self.host(name) for name in self._hosts])


def drain_and_return():
    """The cluster that the sandbox's and the real-Nova drain-and-return
    tests share: three hosts of 8 vCPU; on compute-1 web-1, web-2 and a
    stopped db-1 of 4 vCPU and 8 GiB; on compute-2 other-1."""
    return (Cloud(host=SMALL_HOST)
            .hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'web-1', 'web-2')
            .guests_on('compute-1', 'db-1', vcpus=4, memory_mb=8192,
                       state='stopped')
            .guests_on('compute-2', 'other-1'))


# -- reading what Watcher made ---------------------------------------------


class ReadsPlans:
    """For sandbox and real-Nova test cases (which give ``plan_of`` and
    ``actions_of``): the plan an audit made, and the migrations in it."""

    def plan_and_actions(self, audit):
        plan = self.plan_of(audit['uuid'])
        self.assertIsNotNone(plan)
        return plan, self.actions_of(plan['uuid'])

    @staticmethod
    def moves(actions):
        """Guest name -> (migration type, destination) for each migrate
        action."""
        return {a['input_parameters']['resource_name']:
                (a['input_parameters']['migration_type'],
                 a['input_parameters']['destination_node'])
                for a in actions if a['action_type'] == 'migrate'}
