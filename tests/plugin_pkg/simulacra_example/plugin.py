"""The module the ``example`` entry point names: importing it registers its extensions."""

from simulacra_example import backends, envs, raters, targets, users

__all__ = ["backends", "envs", "raters", "targets", "users"]
