"""Signal pipeline: per-station streaming detectors that turn samples into conditions.

`StationPipeline` is the single implementation used by the live engine and (through
`oximon.analysis`) by batch analysis, so both always agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oximon.pipeline.station import StationPipeline

__all__ = ["StationPipeline"]


def __getattr__(name: str) -> Any:
    """`StationPipeline` on first use: batch analysis imports `oximon.pipeline.grid`
    without paying for the streaming pipeline's import."""
    if name == "StationPipeline":
        from oximon.pipeline.station import StationPipeline

        return StationPipeline
    raise AttributeError(name)
