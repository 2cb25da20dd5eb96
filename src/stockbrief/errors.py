"""The errors a user can cause, and nothing else.

Every exception stockbrief raises on purpose derives from :class:`StockbriefError`; the CLI prints
its message on one line and exits non-zero, so the message must say what went wrong, where, and
what to do about it::

    StockbriefError
    ├── InputError          a file or value supplied by the user is wrong (file, row, field)
    │   └── ConflictError   a row would change data already stored (use --replace)
    ├── NotFoundError       a ticker, date or file that is not there
    ├── StoreError          the store cannot be opened or migrated
    └── ProviderError       a live data provider failed or is unreachable
"""

from __future__ import annotations

from pathlib import Path


class StockbriefError(Exception):
    """Base of every error stockbrief raises for a user to read."""


class InputError(StockbriefError, ValueError):
    """Bad user input; names the file, the 1-based data row (header excluded) and the field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ConflictError(InputError):
    """Incoming rows would overwrite different values already in the store.

    ``key`` holds the key columns of the first conflicting row, so a caller that knows where
    the rows came from can name the file and row.
    """

    def __init__(
        self,
        message: str,
        *,
        key: dict[str, object],
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.key = key
        super().__init__(message, file=file, row=row, field=field)


class NotFoundError(StockbriefError, LookupError):
    """A ticker, file or date the user asked for does not exist."""


class StoreError(StockbriefError):
    """The store file cannot be opened, is locked, or was written by a newer version."""


class ProviderError(StockbriefError):
    """A live data provider failed, refused, or cannot be reached."""
