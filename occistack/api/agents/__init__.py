"""The host agents' face: the channel through which ``occistack-agent`` processes talk to the plane."""
