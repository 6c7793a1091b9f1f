"""An example simulacra plugin: a user simulator, a target kind, a backend, a rater kind,
a task suite and a tool environment, each one module and one registration."""
