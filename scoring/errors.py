"""The one exception type of the scoring package.

Every problem with the input (a missing file or column, a non-numeric cell, a
duplicated organisation, an empty table, a bad method file) is raised as
:class:`ScoringError` with a one-line message that names the file (or table),
the row and the column, so the command line can print it and exit with code 2.
"""


class ScoringError(ValueError):
    """Bad input to the scoring package; ``str(err)`` is a one-line message."""


def where(source, line=None, column=None):
    """Format a location: ``data-summary.csv line 5, column 'likes'``."""
    text = str(source)
    if line is not None:
        text += f" line {line}"
    if column is not None:
        text += f"{',' if line is not None else ''} column {column!r}"
    return text


def reader_went_away() -> int:
    """After a BrokenPipeError on stdout (output piped into ``head`` & co.): point stdout at
    /dev/null so the interpreter's last flush cannot raise again, and give the exit status."""
    import os
    import sys

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1
