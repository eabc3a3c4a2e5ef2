"""Errors raised by planatlas: one base class, one clear line each.

Every failure a user can cause raises a :class:`PlanatlasError` subclass whose
message a planner understands: Chinese first, English in brackets after it,
with the value that was refused. The CLI and the app catch the base class and
print the message as one line; a traceback never reaches a planner.

Each subclass also subclasses the built-in error a caller would expect, so
``except ValueError`` code keeps working.
"""

from __future__ import annotations


class PlanatlasError(Exception):
    """Base class of every error planatlas raises on purpose."""


class ParameterError(PlanatlasError, ValueError):
    """An option or argument has a value planatlas cannot use (negative distance, unknown method …)."""


class ReportError(PlanatlasError, ValueError):
    """The report text is empty, undecodable or not a work report."""


class UnknownPlaceError(PlanatlasError, LookupError):
    """A place name is not in the gazetteer."""


class UnknownLayerError(PlanatlasError, KeyError):
    """A layer name is not one planatlas knows or the store holds."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CRSError(PlanatlasError, ValueError):
    """A layer has no CRS, the wrong CRS, or CRSs that do not match."""


class DatumError(PlanatlasError, ValueError):
    """An unknown geodetic datum name, or coordinates that cannot be in it."""


class EmptyLayerError(PlanatlasError, ValueError):
    """A layer or selection has no features where some are needed."""


class InputFileError(PlanatlasError, ValueError):
    """An input file is malformed, too large, unsafe or of an unknown format."""


class StoreError(PlanatlasError, OSError):
    """The GeoPackage store (or another file planatlas writes, or its data folder) cannot be read or written."""


class DamagedStoreError(StoreError):
    """The store exists but is damaged: truncated, not a GeoPackage, or missing what it lists.

    Kept apart from :class:`StoreError` because the default store is rebuilt
    when it is damaged (``layers.build.ensure_default_store``), while a store
    that merely cannot be written is not.
    """


class NetworkDataError(PlanatlasError, ValueError):
    """A street network is missing, malformed, or does not cover the facilities."""


class OfflineError(PlanatlasError, ConnectionError):
    """An online source was asked for and the network cannot be reached."""


class UnknownPresetError(PlanatlasError, ValueError):
    """A standards preset id planatlas does not know (the message lists the known ids)."""


class PlanatlasWarning(UserWarning):
    """Something a planner must be told that does not stop the work (Chinese first, English in brackets).

    The CLI prints these as ``planatlas: 注意：…`` lines and the app shows them;
    other libraries' warnings are not shown to a planner.
    """
