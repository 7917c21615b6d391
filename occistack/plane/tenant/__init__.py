"""The tenants' use cases: computes, storage, networks, their links, tags and affinity groups."""
