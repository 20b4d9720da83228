"""Errors the project raises on bad input, so callers and the CLI can report them by name."""


class BassnetError(Exception):
    """Base class: a problem with the user's input, reported without a traceback by the CLI."""


class ConfigError(BassnetError, ValueError):
    """Bad parameters: an unknown dataset, a non-positive count, a missing soundfont, ..."""


class AudioError(BassnetError, ValueError):
    """Audio that cannot be used: unreadable, empty, non-finite, silent, mismatched stems."""


class ManifestError(BassnetError, ValueError):
    """A manifest that cannot be used: missing columns, duplicate ids, missing files."""


class DataError(BassnetError, ValueError):
    """Training data that cannot be used: no shards, NaN features, tracks shorter than a window."""


class OutputError(BassnetError, ValueError):
    """An output path that cannot be used: a folder, not writable, or one of the inputs."""
