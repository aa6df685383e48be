"""The channel catalogue: every SDO channel solarray knows, its FITS identity and its ML scaling.

This is the one place that knows wavelengths. Everything else refers to channels by canonical name
(``aia171``, ``hmi_m``, ...). Scaling maps physical units to [-1, 1] and back exactly:

* AIA (DN/s per full-resolution pixel): clip to ``[vmin, vmax]``, log10, linear map to [-1, 1].
* HMI (Gauss): clip to ``±b_max``, divide by ``b_max``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Channel:
    """One observable. ``wavelength`` in Å; ``unit`` is the physical unit of level-1.5 data."""

    name: str
    instrument: str  # "AIA" or "HMI"
    wavelength: float  # Å
    unit: str  # "DN/s" or "G"
    cmap: str  # a sunpy colormap name
    scaling: str  # "log" (AIA) or "linear" (HMI)
    vmin: float = 0.0  # log scaling: lower clip, DN/s
    vmax: float = 0.0  # log scaling: upper clip, DN/s
    b_max: float = 0.0  # linear scaling: clip at ±b_max, G
    # FITS identity of level-1 files, as JSOC writes them.
    telescop: str = ""
    instrume: str = ""
    content: str = ""  # HMI CONTENT keyword
    exptime: float = 0.0  # typical exposure, s (0: data are already a rate / field)
    cadence: float = 12.0  # s
    # Typical quiet-Sun level: DN/s per full-resolution pixel (AIA, HMI continuum); noise in G (HMI).
    quiet_sun: float = 0.0

    @property
    def is_magnetic(self) -> bool:
        return self.unit == "G"

    def scale(self, data: np.ndarray) -> np.ndarray:
        """Physical units → [-1, 1] (float32). NaN stays NaN."""
        data = np.asarray(data, dtype=np.float64)
        if self.scaling == "log":
            lo, hi = np.log10(self.vmin), np.log10(self.vmax)
            logged = np.log10(np.clip(data, self.vmin, self.vmax))
            out = 2.0 * (logged - lo) / (hi - lo) - 1.0
        elif self.scaling == "linear":
            out = np.clip(data, -self.b_max, self.b_max) / self.b_max
        else:  # pragma: no cover - catalogue is static
            raise ValueError(f"channel {self.name}: unknown scaling {self.scaling!r}")
        return out.astype(np.float32)

    def unscale(self, scaled: np.ndarray) -> np.ndarray:
        """Exact inverse of :meth:`scale` for values inside the clip range (float64)."""
        scaled = np.asarray(scaled, dtype=np.float64)
        if self.scaling == "log":
            lo, hi = np.log10(self.vmin), np.log10(self.vmax)
            return 10.0 ** ((scaled + 1.0) / 2.0 * (hi - lo) + lo)
        return scaled * self.b_max


def _aia(wl: int, instrume: str, vmin: float, vmax: float, quiet: float,
         exptime: float = 2.0, cadence: float = 12.0) -> Channel:
    return Channel(
        name=f"aia{wl}", instrument="AIA", wavelength=float(wl), unit="DN/s", cmap=f"sdoaia{wl}",
        scaling="log", vmin=vmin, vmax=vmax, telescop="SDO/AIA", instrume=instrume,
        exptime=exptime, cadence=cadence, quiet_sun=quiet,
    )


def _hmi(name: str, content: str, b_max: float = 1500.0) -> Channel:
    return Channel(
        name=name, instrument="HMI", wavelength=6173.0, unit="G", cmap="hmimag",
        scaling="linear", b_max=b_max, telescop="SDO/HMI", instrume="HMI_FRONT2",
        content=content, cadence=45.0 if name == "hmi_m" else 720.0, quiet_sun=10.0,
    )


CATALOGUE: dict[str, Channel] = {
    c.name: c
    for c in [
        _aia(94, "AIA_4", 0.05, 2e3, 1.5),
        _aia(131, "AIA_1", 0.3, 1e4, 7.0),
        _aia(171, "AIA_3", 5.0, 3e4, 500.0),
        _aia(193, "AIA_2", 5.0, 4e4, 700.0),
        _aia(211, "AIA_2", 1.0, 2e4, 200.0),
        _aia(304, "AIA_3", 1.0, 2e4, 100.0),
        _aia(335, "AIA_1", 0.1, 3e3, 10.0),
        _aia(1600, "AIA_4", 5.0, 1e4, 80.0, exptime=1.0, cadence=24.0),
        _aia(1700, "AIA_4", 50.0, 3e4, 1000.0, exptime=1.0, cadence=24.0),
        _hmi("hmi_m", "MAGNETOGRAM"),
        _hmi("hmi_bx", "BX"),
        _hmi("hmi_by", "BY"),
        _hmi("hmi_bz", "BZ"),
        # HMI continuum intensity (not rendered by default; real test files are continuum).
        Channel(name="hmi_ic", instrument="HMI", wavelength=6173.0, unit="DN/s", cmap="hmimag",
                scaling="log", vmin=1e3, vmax=1e5, telescop="SDO/HMI", instrume="HMI_FRONT2",
                content="CONTINUUM", cadence=45.0, quiet_sun=5e4),
    ]
}

#: Channels rendered by default: all AIA passbands and the HMI LOS magnetogram.
VECTOR_CHANNELS: tuple[str, ...] = ("hmi_bx", "hmi_by", "hmi_bz")
DEFAULT_CHANNELS: tuple[str, ...] = tuple(
    n for n in CATALOGUE if n not in VECTOR_CHANNELS and n != "hmi_ic"
)


def get(name: str) -> Channel:
    """The catalogue entry for ``name``; a clear error listing the known names otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(
            f"unknown channel {name!r}; expected one of {', '.join(CATALOGUE)}"
        ) from None


def resolve(names: Iterable[str] | str | None) -> tuple[str, ...]:
    """Validate a channel list (comma string or iterable); ``None`` → :data:`DEFAULT_CHANNELS`."""
    if names is None:
        return DEFAULT_CHANNELS
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = tuple(names)
    if not out:
        raise ValueError("channel list is empty; expected one or more of " + ", ".join(CATALOGUE))
    for n in out:
        get(n)
    if len(set(out)) != len(out):
        raise ValueError(f"channel list has duplicates: {', '.join(out)}")
    return out


def fits_identity(name: str) -> dict[str, object]:
    """Header keywords that identify ``name`` in a level-1 FITS file (TELESCOP, INSTRUME, ...)."""
    c = get(name)
    ident: dict[str, object] = {
        "TELESCOP": c.telescop,
        "INSTRUME": c.instrume,
        "WAVELNTH": c.wavelength if c.instrument == "HMI" else int(c.wavelength),
        "WAVEUNIT": "angstrom",
        "BUNIT": "Gauss" if c.is_magnetic else "DN",
        "PIXLUNIT": "Gauss" if c.is_magnetic else "DN",
    }
    if c.instrument == "AIA":
        ident["WAVE_STR"] = f"{int(c.wavelength)}_THIN" if c.wavelength < 1000 else f"{int(c.wavelength)}"
    else:
        ident["CONTENT"] = c.content
    return ident


def channel_from_header(header: Mapping[str, object]) -> str | None:
    """The canonical channel name a FITS header describes, or ``None`` if it is not one we know.

    AIA: ``INSTRUME`` starts with ``AIA`` and ``WAVELNTH`` picks the passband. HMI: ``INSTRUME`` or
    ``TELESCOP`` names HMI and the first word of ``CONTENT`` picks the observable (continuum
    intensity is ``hmi_ic``).
    """
    instrume = str(header.get("INSTRUME", "")).strip().upper()
    telescop = str(header.get("TELESCOP", "")).strip().upper()
    if instrume.startswith("AIA"):
        try:
            wl = int(round(float(header.get("WAVELNTH", "nan"))))
        except (TypeError, ValueError):
            return None
        name = f"aia{wl}"
        return name if name in CATALOGUE else None
    if instrume.startswith("HMI") or telescop.endswith("HMI"):
        content = str(header.get("CONTENT", "")).strip().upper()
        word = content.split()[0] if content else ""
        for c in CATALOGUE.values():
            if c.instrument == "HMI" and c.content.split()[0] == word:
                return c.name
    return None
