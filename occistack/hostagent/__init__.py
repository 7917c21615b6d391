"""The process that runs on every host: registers with the management server, heartbeats,
long-polls its commands, runs them through ``drivers`` and answers. It imports only
``drivers`` and its own ``protocol``."""
