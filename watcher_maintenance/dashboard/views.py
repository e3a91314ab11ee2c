"""Host list, the Enter / Exit modals, the plan review and the results.

The plan and result rows are the CLI's (``cli.render``), so the panel
shows exactly what ``openstack optimize maintenance enter/show`` shows.
"""

from django import shortcuts
from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic
from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon import tables

from watcher_maintenance import names
from watcher_maintenance.cli import render
from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.dashboard import api
from watcher_maintenance.dashboard import forms as maintenance_forms
from watcher_maintenance.dashboard import hosts as maintenance_hosts
from watcher_maintenance.dashboard import tables as maintenance_tables

INDEX_URL = 'horizon:admin:host_maintenance:index'
# Seconds between reloads of a page whose audit or plan is still running.
REFRESH_SECONDS = 3
STEP_COLUMNS = (_('Step'), _('Action'), _('Guest / target'), _('From → To'),
                _('How'))
INDICATOR_COLUMNS = (_('Indicator'), _('Value'), _('Description'))
RESULT_COLUMNS = (_('Guest'), _('Project'), _('From'), _('To'),
                  _('Live/cold'), _('Result'), _('Message'))
NODE_COLUMNS = (_('Host'), _('Service Status'), _('State'),
                _('Guests still on it'))
VERBS = {names.DRAIN_STRATEGY: _('Enter maintenance'),
         names.RESTORE_STRATEGY: _('Exit maintenance')}


def load_hosts(request):
    """The host table's rows: Nova's compute services with Watcher's
    latest maintenance audit and plan of each."""
    try:
        nova = api.NovaView(request)
    except Exception:
        exceptions.handle(request, _('Unable to read the compute hosts '
                                     'from Nova.'))
        return []
    try:
        ops = api.watcher(request)
        audits, plans = ops.latest_audits(), ops.plans_by_audit()
    except Exception:
        exceptions.handle(request, _('Unable to read the maintenance '
                                     'audits from Watcher.'))
        audits, plans = {}, {}
    return maintenance_hosts.host_rows(nova.services, nova.guests_on,
                                       audits, plans)


def _one_node(nodes):
    return nodes[0] if len(nodes) == 1 else None


def _nova(request):
    try:
        return api.NovaView(request)
    except Exception:
        exceptions.handle(request, _('Unable to read servers from Nova: '
                                     'guests\' projects and hosts are not '
                                     'shown.'))
        return None


def _guest_lookup(nova):
    return nova.guest if nova is not None else (lambda uuid: None)


class IndexView(tables.DataTableView):
    table_class = maintenance_tables.HostsTable
    template_name = 'host_maintenance/index.html'
    page_title = _("Host Maintenance")

    def get_data(self):
        return load_hosts(self.request)


class MaintenanceFormView(forms.ModalFormView):
    """The Enter or Exit modal; its form class says which."""

    cancel_url = reverse_lazy(INDEX_URL)

    @property
    def template_name(self):
        return 'host_maintenance/%s.html' % self.form_class.kind

    @property
    def url(self):
        return 'horizon:admin:host_maintenance:%s' % self.form_class.kind

    def hosts(self):
        source = self.request.POST if self.request.method == 'POST' \
            else self.request.GET
        if source.get('hosts'):
            return [h for h in source['hosts'].split(',') if h]
        return source.getlist('host')

    def get(self, request, *args, **kwargs):
        if not self.hosts():
            messages.error(request, _('Choose at least one compute host.'))
            return shortcuts.redirect(INDEX_URL)
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        return {'hosts': ','.join(self.hosts())}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['hosts'] = self.hosts()
        context['submit_url'] = reverse(self.url)
        return context

    @property
    def page_title(self):
        return '%s: %s' % (self.form_class.title, ', '.join(self.hosts()))

    def get_success_url_from_handled(self, audit):
        return reverse(maintenance_tables.AUDIT_URL, args=[audit['uuid']])


class EnterView(MaintenanceFormView):
    form_class = maintenance_forms.EnterForm
    submit_label = _("Plan the drain")


class ExitView(MaintenanceFormView):
    form_class = maintenance_forms.ExitForm
    submit_label = _("Plan the return")


def _step(row):
    moves = row['from'] or row['to']
    return [row['step'], row['action'], row['target'],
            '%s → %s' % (row['from'], row['to']) if moves else '', row['how']]


def plan_context(ops, nova, audit, plan):
    """What the review and results pages both show of a plan."""
    nodes = watcher_ops.audit_nodes(audit)
    actions = ops.actions_of(plan['uuid'])
    node = _one_node(nodes)
    guest = _guest_lookup(nova)
    return {
        'plan': plan,
        'nodes': nodes,
        'plan_actions': actions,
        'steps': [_step(row) for row in render.plan_rows(actions, guest,
                                                         node)],
        'step_columns': STEP_COLUMNS,
        'indicators': [[i['name'], ('%s %s' % (i['value'], i['unit'])).strip(),
                        i['description']] for i in render.indicators(plan)],
        'indicator_columns': INDICATOR_COLUMNS,
        'results': render.result_rows(actions, guest, plan['state'], node),
    }


class MaintenancePage(generic.TemplateView):
    """A page about one maintenance audit and its plan."""

    title = None

    def read(self, kind, read, uuid):
        """``read(uuid)`` from Watcher, or back to the host list with a
        message."""
        try:
            return read(uuid)
        except Exception:
            exceptions.handle(self.request, _('Unable to read %(kind)s '
                                              '%(uuid)s.')
                              % {'kind': kind, 'uuid': uuid},
                              redirect=reverse(INDEX_URL))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.page(api.watcher(self.request), **kwargs))
        return context

    def page(self, ops, **kwargs):
        """The page's own context."""
        raise NotImplementedError

    def about(self, audit):
        nodes = watcher_ops.audit_nodes(audit)
        strategy = audit.get('strategy_name')
        return {'audit': audit, 'nodes': nodes, 'hosts': ', '.join(nodes),
                'verb': VERBS.get(strategy, strategy),
                'page_title': self.title % ', '.join(nodes)}


class ReviewView(MaintenancePage):
    """An audit's outcome: its plan to approve or discard, or the
    sentence with which the strategy refused."""

    template_name = 'host_maintenance/review.html'
    title = _('Plan review: %s')

    def page(self, ops, audit_id):
        audit = self.read(_('audit'), ops.audit, audit_id)
        context = self.about(audit)
        context['refresh'] = audit['state'] not in \
            watcher_ops.AUDIT_FINAL and REFRESH_SECONDS
        if audit['state'] == 'SUCCEEDED':
            plan = ops.plan_of(audit['uuid'])
            if plan is not None:
                context.update(plan_context(ops, _nova(self.request), audit,
                                            plan))
                context['results_url'] = reverse(
                    maintenance_tables.PLAN_URL, args=[plan['uuid']])
        elif audit['state'] in watcher_ops.AUDIT_FINAL:
            context['refusal'] = audit.get('status_message') or _(
                'Watcher gave no reason; see the decision-engine log.')
        return context

    def post(self, request, audit_id):
        ops = api.watcher(request)
        plan_id = request.POST.get('plan', '')
        try:
            if request.POST.get('action') == 'approve':
                ops.start_plan(plan_id)
                messages.success(request, _('Action plan %s approved and '
                                            'started.') % plan_id)
                return shortcuts.redirect(maintenance_tables.PLAN_URL,
                                          plan_id)
            if request.POST.get('action') == 'discard':
                ops.cancel_plan(plan_id)
                messages.info(request, _('Action plan %s discarded: nothing '
                                         'was changed.') % plan_id)
                return shortcuts.redirect(INDEX_URL)
        except Exception as error:  # noqa: BLE001 - watcherclient errors
            messages.error(request, _('Watcher refused to change action '
                                      'plan %(plan)s: %(error)s')
                           % {'plan': plan_id, 'error': error})
        return shortcuts.redirect(maintenance_tables.AUDIT_URL, audit_id)


class ResultsView(MaintenancePage):
    """One row per guest of a plan, reloaded while the plan runs, and
    the nodes' state at the end."""

    template_name = 'host_maintenance/results.html'
    title = _('Maintenance results: %s')

    def page(self, ops, plan_id):
        plan = self.read(_('action plan'), ops.plan, plan_id)
        audit = self.read(_('audit'), ops.audit, plan['audit_uuid'])
        nova = _nova(self.request)
        context = plan_context(ops, nova, audit, plan)
        context.update(self.about(audit))
        nodes = context['nodes']
        running = plan['state'] not in watcher_ops.PLAN_FINAL
        results = context['results']
        failures = render.failed(results)
        context.update(
            refresh=running and REFRESH_SECONDS,
            result_columns=RESULT_COLUMNS,
            result_rows=[[row[c] for c in render.RESULT_COLUMNS]
                         for row in results],
            failures=failures,
            progress=render.progress_counts(context['plan_actions']),
            running=running,
            current=running and render.current_step(
                context['plan_actions'], _guest_lookup(nova)),
            node_columns=NODE_COLUMNS,
            node_states=[] if running else self.node_states(nova, nodes))
        return context

    @staticmethod
    def node_states(nova, nodes):
        states = []
        for node in nodes:
            service = nova.service(node) if nova is not None else None
            left = nova.guests_on(node) if nova is not None else None
            states.append([
                node,
                maintenance_hosts.service_text(
                    service.status, service.disabled_reason)
                if service else _('unknown'),
                service.state if service else _('unknown'),
                _('unknown') if left is None else ', '.join(
                    g['name'] for g in left) or _('none'),
            ])
        return states
