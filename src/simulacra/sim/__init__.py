"""Simulation: targets, user simulators, the episode loop and the runner."""
