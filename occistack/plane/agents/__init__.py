"""The plane's side of the host agents: the gateway that queues commands and takes answers,
the long-poll channel, and the agents that run inside this process for the embedded default."""
