"""The module the ``example`` entry point names: importing it registers its extensions."""

from simulacra_example import backends, envs, raters, report_tab, targets, users

__all__ = ["backends", "envs", "raters", "report_tab", "targets", "users"]
