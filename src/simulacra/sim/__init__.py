"""Simulation: targets, user simulators and the episode loop (``sim.users``,
``sim.targets``, ``sim.loop``, ``sim.episode``)."""

__all__: list[str] = []
