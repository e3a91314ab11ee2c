# Horizon "enabled" file of watcher-maintenance's dashboard: copy it into
# openstack_dashboard/local/enabled/ (next to watcher-dashboard's
# _31020_watcher_panelgroup.py, which defines the Optimization group).

# The panel: Admin -> Optimization -> Host Maintenance. It is shown only
# when Watcher ('infra-optim') is in the service catalog.
PANEL = 'host_maintenance'
PANEL_DASHBOARD = 'admin'
PANEL_GROUP = 'watcher'
ADD_PANEL = 'watcher_maintenance.dashboard.panel.HostMaintenance'
ADD_INSTALLED_APPS = ['watcher_maintenance.dashboard']

# A "Maintenance" tab on Admin -> Compute -> Hypervisors.
EXTRA_TABS = {
    'openstack_dashboard.dashboards.admin.hypervisors.tabs.'
    'HypervisorHostTabs': (
        'watcher_maintenance.dashboard.tabs.MaintenanceTab',
    ),
}
