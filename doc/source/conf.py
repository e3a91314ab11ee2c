# Sphinx configuration for the watcher-maintenance documentation.
project = 'watcher-maintenance'
copyright = '2026, watcher-maintenance developers'
extensions = []
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
