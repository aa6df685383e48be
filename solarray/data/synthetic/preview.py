"""``preview.png`` of a synthetic (or any level-1) set: one panel per channel, masks outlined."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

from solarray.core import channels as chans
from solarray.core.atomic import atomic_path
from solarray.core.features import FEATURE_COLOURS, FEATURE_KINDS

PREVIEW_PX = 256


def _find(out: Path, name: str, t: Time) -> Path | None:
    files = sorted((out / "fits" / name).glob("*.fits"))
    if not files:
        return None
    times = [abs((Time(fits.getval(f, "DATE-OBS", ext=-1 if "Comp" in str(f) else 0)) - t).sec)
             for f in files]
    return files[int(np.argmin(times))]


def write_preview(out: Path, t: Time, names: tuple[str, ...]) -> Path:
    """Plot the frame nearest ``t`` of every channel with the ground-truth masks' contours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sunpy.map
    from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval

    mask_file = out / "masks" / f"masks_{t.datetime.strftime('%Y%m%dT%H%M%S')}.fits"
    masks, mask_wcs = None, None
    if mask_file.exists():
        with fits.open(mask_file) as hdul:
            masks = hdul[0].data.astype(float)
            mask_wcs = WCS(hdul[0].header, naxis=2)
    ncol = min(5, len(names))
    nrow = int(np.ceil(len(names) / ncol))
    fig = plt.figure(figsize=(3.2 * ncol, 3.4 * nrow))
    for k, name in enumerate(names):
        path = _find(out, name, t)
        if path is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = sunpy.map.Map(path)
            if m.data.shape[0] > PREVIEW_PX:
                import astropy.units as u

                m = m.resample([PREVIEW_PX, PREVIEW_PX] * u.pix)
            if abs(float(m.meta.get("crota2", 0.0))) > 1.0:
                m = m.rotate(order=1, missing=np.nan)  # show HMI north up
        ax = fig.add_subplot(nrow, ncol, k + 1, projection=m)
        ch = chans.get(name)
        data = m.data
        if ch.is_magnetic:
            norm = ImageNormalize(vmin=-300, vmax=300)
        else:
            finite = data[np.isfinite(data)]
            norm = ImageNormalize(finite, interval=PercentileInterval(99.7), stretch=AsinhStretch(0.05))
        m.plot(axes=ax, norm=norm, cmap="gray" if ch.is_magnetic else ch.cmap, title=name)
        if masks is not None:
            for plane, kind in enumerate(FEATURE_KINDS):
                if masks[plane].any():
                    ax.contour(masks[plane], levels=[0.5], colors=FEATURE_COLOURS[kind],
                               linewidths=0.6, transform=ax.get_transform(mask_wcs))
        ax.coords[0].set_ticklabel_visible(False)
        ax.coords[1].set_ticklabel_visible(False)
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.suptitle(f"solarray synthetic Sun {t.isot[:19]}  (mask contours: "
                 f"{', '.join(FEATURE_KINDS)} in the situational map's colours)")
    fig.tight_layout()
    path = out / "preview.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return path
