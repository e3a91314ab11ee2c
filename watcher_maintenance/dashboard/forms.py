"""The Enter and Exit Maintenance modals: each creates one Watcher audit
(goal cluster_maintenance, strategy host_drain or host_restore) with the
operator's choices as its parameters."""

from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import messages
from openstack_dashboard.api import nova

from watcher_maintenance.cli.nova import COMPUTE_BINARY
from watcher_maintenance import names
from watcher_maintenance.dashboard import api
from watcher_maintenance.planning import options
from watcher_maintenance.planning import weighers


def node_parameters(hosts):
    """``maintenance_node`` for one host, ``maintenance_nodes`` for
    several."""
    if len(hosts) == 1:
        return {'maintenance_node': hosts[0]}
    return {'maintenance_nodes': list(hosts)}


def drain_parameters(hosts, data):
    """host_drain's parameters from the Enter Maintenance choices."""
    params = node_parameters(hosts)
    if data.get('backup_node'):
        params['backup_node'] = data['backup_node']
    params.update(
        placement=data.get('placement') or weighers.SPREAD,
        disable_live_migration=not data.get('allow_live_migration'),
        skip_unmovable=bool(data.get('skip_unmovable')),
        max_parallel_migrations=int(data.get('max_parallel_migrations')
                                    or 1))
    return params


def restore_parameters(hosts, data):
    """host_restore's parameters from the Exit Maintenance choices."""
    params = node_parameters(hosts)
    params['return_guests'] = data.get('return_guests') or \
        options.RETURN_NONE
    if data.get('force'):
        params['force'] = True
    return params


def _described(options_class, name):
    """The parameter's description, as the strategy publishes it."""
    return options_class.schema()['properties'][name]['description']


def _hosts(text):
    return [h for h in (text or '').split(',') if h]


class MaintenanceForm(forms.SelfHandlingForm):
    hosts = forms.CharField(widget=forms.HiddenInput())

    strategy = None
    verb = None
    kind = None     # the modal's URL name and template
    title = None

    def parameters(self, hosts, data):
        raise NotImplementedError

    def handle(self, request, data):
        hosts = _hosts(data['hosts'])
        params = self.parameters(hosts, data)
        try:
            audit = api.watcher(request).create_audit(self.strategy, params)
        except Exception as error:  # noqa: BLE001 - watcherclient errors
            exceptions.handle(request, _(
                'Watcher refused the %(strategy)s audit for %(hosts)s: '
                '%(error)s') % {'strategy': self.strategy,
                                'hosts': ', '.join(hosts), 'error': error})
            return False
        messages.info(request, _(
            'Audit %(audit)s created: Watcher is planning how to %(verb)s '
            '%(hosts)s.') % {'audit': audit['uuid'], 'verb': self.verb,
                             'hosts': ', '.join(hosts)})
        return audit


class EnterForm(MaintenanceForm):
    backup_node = forms.ThemableChoiceField(
        label=_("Backup node"), required=False,
        help_text=_described(options.DrainOptions, 'backup_node'))
    placement = forms.ThemableChoiceField(
        label=_("Placement"),
        choices=[(weighers.SPREAD, _("Spread: balance free capacity")),
                 (weighers.PACK, _("Pack: fill the fullest hosts first"))],
        initial=weighers.SPREAD)
    allow_live_migration = forms.BooleanField(
        label=_("Allow live migration"), required=False, initial=True,
        help_text=_("Unticked, running guests are cold-migrated "
                    "(restarted on their new host)."))
    skip_unmovable = forms.BooleanField(
        label=_("Skip unmovable guests"), required=False, initial=False,
        help_text=_described(options.DrainOptions, 'skip_unmovable'))
    max_parallel_migrations = forms.IntegerField(
        label=_("Parallel migrations"), min_value=1, initial=1,
        help_text=_described(options.DrainOptions,
                             'max_parallel_migrations'))

    strategy = names.DRAIN_STRATEGY
    verb = 'drain'
    kind = 'enter'
    title = _("Enter Maintenance")

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        draining = set(_hosts(self.initial.get('hosts')
                              or self.data.get('hosts')))
        try:
            others = sorted(s.host for s in nova.service_list(
                request, binary=COMPUTE_BINARY)
                if s.binary == COMPUTE_BINARY and s.host not in draining)
        except Exception:
            exceptions.handle(request, _('Unable to list the compute hosts '
                                         'for the backup node.'))
            others = []
        self.fields['backup_node'].choices = [
            ('', _("None: place each guest"))] + [(h, h) for h in others]

    def parameters(self, hosts, data):
        return drain_parameters(hosts, data)


class ExitForm(MaintenanceForm):
    return_guests = forms.ChoiceField(
        label=_("Return guests"), widget=forms.RadioSelect(),
        choices=[(options.RETURN_NONE, _("None: only enable the host")),
                 (options.RETURN_DRAINED,
                  _("Drained: move back the guests the last drain moved "
                    "away"))],
        initial=options.RETURN_NONE)
    force = forms.BooleanField(
        label=_("Force"), required=False, initial=False,
        help_text=_described(options.RestoreOptions, 'force'))

    strategy = names.RESTORE_STRATEGY
    verb = 'bring back'
    kind = 'exit'
    title = _("Exit Maintenance")

    def parameters(self, hosts, data):
        return restore_parameters(hosts, data)
