"""Errors raised by planatlas.

Each error subclasses the built-in error a caller would expect, so existing
``except ValueError`` code keeps working, while the CLI and the app can catch
:class:`PlanatlasError` to show one clear line instead of a traceback.
"""

from __future__ import annotations


class PlanatlasError(Exception):
    """Base class of every error planatlas raises on purpose."""


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
    """The GeoPackage store cannot be read or written."""


class NetworkDataError(PlanatlasError, ValueError):
    """A street network is missing, malformed, or does not cover the facilities."""


class OfflineError(PlanatlasError, ConnectionError):
    """An online source was asked for and the network cannot be reached."""


class UnknownPresetError(PlanatlasError, ValueError):
    """A standards preset id planatlas does not know (the message lists the known ids)."""
