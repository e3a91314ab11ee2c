from urllib import parse

from django import shortcuts
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import tables

ENTER_URL = 'horizon:admin:host_maintenance:enter'
EXIT_URL = 'horizon:admin:host_maintenance:exit'
AUDIT_URL = 'horizon:admin:host_maintenance:audit'
PLAN_URL = 'horizon:admin:host_maintenance:plan'


def with_hosts(url, hosts):
    return '%s?%s' % (reverse(url), parse.urlencode(
        [('host', host) for host in hosts]))


class EnterMaintenance(tables.LinkAction):
    name = 'enter'
    verbose_name = _("Enter Maintenance")
    url = ENTER_URL
    classes = ('ajax-modal', 'btn-primary')
    icon = 'wrench'

    def get_link_url(self, datum=None):
        return with_hosts(self.url, [datum.host])

    def allowed(self, request, datum=None):
        return datum is None or not datum.in_maintenance


class EnterMaintenanceSelected(tables.Action):
    """Drain the selected hosts together, in one audit."""

    name = 'enter_selected'
    verbose_name = _("Enter Maintenance")
    verbose_name_plural = _("Enter Maintenance")
    icon = 'wrench'
    classes = ('btn-primary',)
    requires_input = True

    def handle(self, table, request, obj_ids):
        return shortcuts.redirect(with_hosts(ENTER_URL, obj_ids))


class ExitMaintenance(tables.LinkAction):
    name = 'exit'
    verbose_name = _("Exit Maintenance")
    url = EXIT_URL
    classes = ('ajax-modal',)
    icon = 'play'

    def get_link_url(self, datum=None):
        return with_hosts(self.url, [datum.host])

    def allowed(self, request, datum=None):
        # An enabled host has nothing to come back from, unless guests
        # are to be returned after a drain that left it enabled.
        return datum is None or datum.status == 'disabled' or (
            datum.audit is not None)


def _audit_text(host):
    audit = host.audit
    if not audit:
        return '-'
    return '%s %s' % (audit.get('strategy_name') or '', audit['state'])


def _audit_link(host):
    return reverse(AUDIT_URL, args=[host.audit['uuid']]) if host.audit \
        else None


def _plan_text(host):
    return host.plan['state'] if host.plan else '-'


def _plan_link(host):
    return reverse(PLAN_URL, args=[host.plan['uuid']]) if host.plan \
        else None


class HostsTable(tables.DataTable):
    host = tables.Column('host', verbose_name=_("Host"))
    zone = tables.Column('zone', verbose_name=_("Availability Zone"))
    service = tables.Column('service', verbose_name=_("Service Status"))
    state = tables.Column('state', verbose_name=_("State"))
    guests = tables.Column('guests', verbose_name=_("Guests"))
    audit = tables.Column(_audit_text, verbose_name=_("Maintenance Audit"),
                          link=_audit_link)
    plan = tables.Column(_plan_text, verbose_name=_("Plan"), link=_plan_link)

    class Meta(object):
        name = 'compute_hosts'
        verbose_name = _("Compute Hosts")
        table_actions = (EnterMaintenanceSelected,)
        multi_select = True
        row_actions = (EnterMaintenance, ExitMaintenance)

    def get_object_id(self, datum):
        return datum.host
