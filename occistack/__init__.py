"""occistack: an IaaS cloud in the mould of Apache CloudStack whose public face is OCCI 1.2."""

__version__ = "0.1.0"
