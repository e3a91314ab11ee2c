"""Small cluster builders for the sandbox's topologies in tests.

Hosts of 8 vCPU, 16 GiB RAM and 200 GiB disk; guests of 2 vCPU, 2 GiB
RAM and 20 GiB disk, unless a test says otherwise.
"""


def host(name, **spec):
    return dict({'name': name, 'vcpus': 8, 'memory_mb': 16384,
                 'disk_gb': 200}, **spec)


def guest(name, on, **spec):
    return dict({'name': name, 'host': on, 'vcpus': 2, 'memory_mb': 2048,
                 'disk_gb': 20}, **spec)
