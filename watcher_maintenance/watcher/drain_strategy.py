"""The ``host_drain`` strategy: Watcher's side of a drain.

It reads the nodes' guests (from Watcher's model, and from Nova for the
ones the model has not seen yet), the hosts, the server groups and the
other unfinished plans into plain data, and hands them to
``planning.drain``.
"""

from __future__ import annotations

from watcher.common import nova_helper

from watcher_maintenance import conf
from watcher_maintenance import names
from watcher_maintenance.planning import drain
from watcher_maintenance.planning import ordering
from watcher_maintenance.planning.options import DrainOptions
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher import base
from watcher_maintenance.watcher import live_state
from watcher_maintenance.watcher import model_adapter


class HostDrain(base.MaintenanceStrategy):
    """Host Maintenance

    *Description*

    Takes one compute node out of service without interrupting its guests.
    The node's nova-compute service is disabled with the reason
    ``watcher_maintaining``; then every guest is migrated to a host with
    room for it, checked in vCPU, RAM and disk. If the operator's
    ``backup_node``, or else a designated spare host (disabled with the
    configured spare reason), can take every guest, they all go there;
    otherwise they are spread over the enabled hosts in the audit scope.

    *Requirements*

    At least one other enabled, up compute host in the audit scope with
    room for the node's guests, or a backup or spare host.

    *Limitations*

    Guests in states Watcher cannot migrate (paused, suspended, error,
    rescued, resized, ...) make the audit fail unless ``skip_unmovable``
    is set, in which case they stay on the node. Nova server-group
    policies are honoured: anti-affinity members never share a host
    beyond ``max_server_per_host``, and hard-affinity groups Nova would
    not let Watcher move one server at a time make the audit fail (or
    stay, with ``skip_unmovable``).
    """

    options_class = DrainOptions

    @classmethod
    def get_name(cls):
        return names.DRAIN_STRATEGY

    @classmethod
    def get_display_name(cls):
        return 'Host Maintenance'

    def plan_audit(self, audit):
        model = self.compute_model
        hosts = model_adapter.ModelHosts(model)
        try:
            options = self.read_options(
                spare_reason=conf.CONF.watcher_maintenance.spare_reason)
            services = self.with_live_services(hosts, options.nodes)
            guests, unknown = [], []
            for node_name in options.nodes:
                node = hosts.node(node_name)
                if node is None:
                    continue    # the core refuses it, in words
                known = model_adapter.guests_of(model, node)
                # The model can lag Nova: a guest booted or migrated onto
                # the node since its last update must not be left behind.
                seen = {g.uuid for g in known}
                unknown += [g for g in self.ask_nova(
                    'servers on %s' % node_name,
                    lambda: self._nova_guests_on(node_name))
                    if g.uuid not in seen]
                guests += known
            guests += unknown
            if any(g.pinned_zone for g in guests):
                # Watcher's model does not carry host zones; the service
                # listing does.
                hosts.use_zones({s.host: s.zone for s in services})
            groups = []
            if any(not g.excluded for g in guests):
                groups = model_adapter.server_groups(
                    self.ask_nova('server groups',
                                  self._server_group_records),
                    model, guests)
            seen, notes = self.with_other_plans(hosts, options.nodes)
            self.plan = drain.plan_drain(options.nodes, guests, seen,
                                         options, groups)
            if unknown:
                notes = ('Read from Nova, not yet in Watcher\'s model: %s.'
                         % ', '.join(g.label for g in unknown),) + notes
            self.conclude(notes)
        except PlanningRefused as refusal:
            self.refuse(audit, refusal)
        self.announce(audit, self.plan.decisions)
        self._add_actions(hosts)
        self._add_indicators()

    def _nova_guests_on(self, node_name):
        """Every server Nova has on the node now: one listing by host."""
        return live_state.LiveCloud().guests_on(node_name)

    def _server_group_records(self):
        """Every server group of the cloud, in one paged listing.

        Watcher's model has no server groups, and Nova enforces their
        hard policies on every migration; asked only when guests move.
        """
        helper = nova_helper.NovaHelper()
        return list(helper.connection.compute.server_groups(
            all_projects=True))

    def _add_actions(self, hosts):
        self.add_service_changes(hosts)
        # The plan lists its migrations in the order the audit asked for.
        for decision in self.plan.migrations:
            self.add_migration(decision.guest, decision.outcome,
                               self.plan.source_of(decision),
                               decision.destination)
        for decision in self.plan.with_outcome(Outcome.STOP):
            # Watcher's stop action takes no parameter but the server.
            self.solution.add_action(action_type=names.STOP,
                                     resource_id=decision.guest.uuid)

    def _add_indicators(self):
        plan, options = self.plan, self.plan.options
        moves = plan.migrations
        self.set_indicators(
            [(d.guest, d.outcome) for d in moves],
            stopped=len(plan.with_outcome(Outcome.STOP)),
            guests_on_node=plan.guests_on_node,
            estimated_drain_seconds=ordering.estimated_seconds(
                [d.guest for d in moves], options.max_parallel_migrations,
                conf.CONF.watcher_maintenance.migration_bandwidth_mbps,
                options.migration_pause))
