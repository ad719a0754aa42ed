"""Signal pipeline: per-station streaming detectors that turn samples into conditions.

`StationPipeline` is the single implementation used by the live engine and (through
`oximon.analysis`) by batch analysis, so both always agree.
"""

from oximon.pipeline.station import StationPipeline

__all__ = ["StationPipeline"]
