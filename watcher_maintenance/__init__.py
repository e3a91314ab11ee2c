"""watcher-maintenance: host maintenance for OpenStack Watcher."""
