"""Storage drivers: volumes on a libvirt storage pool (``libvirt_pool``, primary storage) and
templates on NFS secondary storage spoken to over the NFS protocol with libnfs (``secondary``).

Import the modules themselves: this package imports nothing, so that the fakes, which need only
``checksums``, load neither libvirt's pools nor libnfs.
"""
