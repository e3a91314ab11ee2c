from django.utils.translation import gettext_lazy as _
from horizon import tabs

from watcher_maintenance.dashboard import tables
from watcher_maintenance.dashboard import views


class MaintenanceTab(tabs.TableTab):
    """Admin -> Compute -> Hypervisors -> Maintenance (``EXTRA_TABS``)."""

    table_classes = (tables.HostsTable,)
    name = _("Maintenance")
    slug = "maintenance"
    template_name = "horizon/common/_detail_table.html"
    permissions = ('openstack.services.infra-optim',)

    def get_compute_hosts_data(self):
        return views.load_hosts(self.request)
