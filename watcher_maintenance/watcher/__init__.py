"""Adapters that plug the planning core into OpenStack Watcher."""
