from django.apps import AppConfig


class HostMaintenanceConfig(AppConfig):
    name = 'watcher_maintenance.dashboard'
    # "dashboard" alone is too common a label to share a Horizon with.
    label = 'watcher_maintenance_dashboard'
    verbose_name = 'Watcher host maintenance'
