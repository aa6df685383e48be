"""solarray: SDO data to solar foundation models and an operational flare forecaster, on Ray."""

__version__ = "0.1.0"
