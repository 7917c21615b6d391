"""Placement: the topology of hosts and pools, their capacity, the planner and its explanations."""
