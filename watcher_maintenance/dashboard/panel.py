from django.utils.translation import gettext_lazy as _
import horizon


class HostMaintenance(horizon.Panel):
    name = _("Host Maintenance")
    slug = "host_maintenance"
    # Only when Watcher is in the service catalog; the Admin dashboard
    # already asks for the admin role.
    permissions = ('openstack.services.infra-optim',)
