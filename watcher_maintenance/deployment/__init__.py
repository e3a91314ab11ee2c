"""The deployment test bed: Watcher as separate services over RabbitMQ
and MariaDB, with this package installed. See doc/source/deployment.rst.
"""
