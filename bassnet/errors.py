"""Errors the project raises on bad input, so callers and the CLI can report them by name."""


class BassnetError(Exception):
    """Base class: a problem with the user's input, reported without a traceback by the CLI."""


class ConfigError(BassnetError, ValueError):
    """Bad parameters: an unknown dataset, a non-positive count, a missing soundfont, ..."""
