"""Situational map: WCS of the preprocessed frame, PNG output with contours, bad input."""

import json

import astropy.units as u
import numpy as np
import pytest
from matplotlib.path import Path
from matplotlib.transforms import Bbox
from scipy import ndimage

from solarray.core.frame_header import sample_frame_header
from solarray.data.shard_reader import meta_header
from solarray.viz.map_labels import LABEL_GID
from solarray.viz.situational_map import UNDATED, frame_map, situational_map, situational_map_figure
from tests import spnet_helpers as H


def test_frame_header_puts_the_limb_at_one_solar_radius():
    meta = json.dumps({"channels": {"hmi_m": {"header": {
        "DATE-OBS": "2024-01-05T00:00:22.5", "RSUN_OBS": 975.9, "DSUN_OBS": 1.471e11,
        "HGLN_OBS": 0.0, "HGLT_OBS": -2.9}}}})
    m = frame_map(np.zeros((64, 64), np.float32), "hmi_m",
                  sample_frame_header(64, source_header=meta_header(meta)))
    # RSUN_OBS follows from DSUN_OBS (R☉ = 696 000 km), as in real headers
    assert m.rsun_obs.to_value(u.arcsec) == pytest.approx(975.9, rel=1e-4)
    assert m.observer_coordinate.lat.to_value(u.deg) == pytest.approx(-2.9)
    # The frame spans ±1.1 R☉: the image edge is 1.1·RSUN_OBS from the centre.
    edge = m.pixel_to_world(63.5 * u.pix, 31.5 * u.pix)
    assert edge.Tx.to_value(u.arcsec) == pytest.approx(1.1 * 975.9, rel=1e-3)
    centre = m.pixel_to_world(31.5 * u.pix, 31.5 * u.pix)
    assert abs(centre.Tx.to_value(u.arcsec)) < 1e-6 and abs(centre.Ty.to_value(u.arcsec)) < 1e-6
    cmap = m.plot_settings["cmap"]
    assert getattr(cmap, "name", cmap) == "gray"  # magnetograms in grey, as forecasters read them
    # Defaults when meta is missing: Earth at DATE-OBS (2024-01-01: near perihelion).
    d = sample_frame_header(64, UNDATED)
    assert 975 < d["RSUN_OBS"] < 977


def test_situational_map_png(tmp_path):
    data = H.make_samples(1, seed=2)
    png = situational_map(data["image"][0], H.CHANNELS, data["masks"][0], tmp_path / "m.png",
                          truth=data["masks"][0], present=[1, 1, 0])
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 3 * img.shape[0] // 2
    # The AR contour colour appears in the picture.
    cyan = (img[..., 0] < 0.1) & (img[..., 1] > 0.8) & (img[..., 2] > 0.9)
    assert cyan.sum() > 20
    assert not list(tmp_path.glob(".*tmp*"))


def test_situational_map_bad_input(tmp_path):
    data = H.make_samples(1)
    with pytest.raises(ValueError, match=r"image must be \[C=2"):
        situational_map(data["image"][0], ("hmi_m", "aia193"), None, tmp_path / "x.png")
    with pytest.raises(ValueError, match="masks must be"):
        situational_map(data["image"][0], H.CHANNELS, data["masks"][0][:, :32],
                            tmp_path / "x.png")


def _regions(ar_mask: np.ndarray) -> list[dict]:
    """Region rows as the analysis stage gives them (centroid, [x0, y0, x1, y1) box); the last
    without a box, as other callers may pass."""
    lab, n = ndimage.label(ar_mask)
    rows = []
    for k in range(1, n + 1):
        ys, xs = np.nonzero(lab == k)
        rows.append({"number": 13600 + k, "pixel_x": xs.mean(), "pixel_y": ys.mean(),
                     "p_m24": 0.1 * k,
                     "bbox": [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]})
    rows[-1].pop("bbox")
    return rows


@pytest.fixture(scope="module")
def drawn_map():
    """A drawn 128² map with every AIA panel kind the service shows and labelled regions."""
    data = H.make_samples(1, size=128, seed=2)
    image, masks = data["image"][0], data["masks"][0]
    channels = (*H.CHANNELS, "aia171", "aia94")
    rng = np.random.default_rng(0)
    image = np.concatenate([image, rng.uniform(-1, 1, (2, 128, 128)).astype(np.float32)])
    panels = [(c, c) for c in channels]
    regions = _regions(masks[0])
    assert len(regions) >= 2
    fig = situational_map_figure(image, channels, masks, sample_frame_header(128, UNDATED),
                                 regions=regions, panels=panels, title="a\ntwo-line title")
    fig.canvas.draw()
    return fig, channels, masks, regions


def test_map_colours_read_as_forecasters_expect(drawn_map):
    """The magnetogram in grey with limits symmetric about 0 G; each AIA panel in its own
    instrument colour map."""
    fig, channels, _, _ = drawn_map
    assert len(fig.axes) == len(channels)
    for ax, ch in zip(fig.axes, channels, strict=True):
        im = ax.images[0]
        if ch == "hmi_m":
            assert im.cmap.name == "gray"
            assert im.norm.vmax > 0 and im.norm.vmin == pytest.approx(-im.norm.vmax)
        else:
            assert im.cmap.name == "sdo" + ch  # aia171 → sdoaia171
            assert im.norm.vmin < im.norm.vmax


def test_map_axis_labels_inside_the_figure(drawn_map):
    """No title, tick or axis label of any panel, nor the legend, is clipped by the figure's edge."""
    fig = drawn_map[0]
    renderer = fig.canvas.get_renderer()
    assert fig.axes[0].coords[1].get_axislabel() == "Helioprojective latitude"
    edge = fig.bbox.padded(0.5)  # display pixels
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]  # WCSAxes: with its axis labels
    boxes += [a.get_window_extent(renderer) for a in [*fig.legends, *fig.texts]]  # + suptitle
    assert len(boxes) == len(fig.axes) + 2
    for box in boxes:
        assert edge.x0 <= box.x0 and box.x1 <= edge.x1 and edge.y0 <= box.y0 \
            and box.y1 <= edge.y1, (box, fig.bbox)


def test_region_labels_sit_beside_their_contours(drawn_map):
    """Every label is outside its region's box and crosses no AR contour line (on every panel),
    and no two labels of a panel overlap."""
    fig, _, masks, regions = drawn_map
    lab, _ = ndimage.label(masks[0])
    for ax in fig.axes:
        anns = {a.get_gid(): a for a in ax.texts if (a.get_gid() or "").startswith(LABEL_GID)}
        assert set(anns) == {f"{LABEL_GID} {r['number']}" for r in regions}
        # One closed line per region (a compound path's intersects_bbox joins its pieces).
        ar_paths = [Path(poly) for c in ax.collections if c.get_gid() == "contour AR"
                    for p in c.get_paths() for poly in p.to_polygons(closed_only=False)]
        assert ar_paths
        boxes = []
        for r in regions:
            ann = anns[f"{LABEL_GID} {r['number']}"]
            patch = ann.get_bbox_patch().get_window_extent()
            box = Bbox(ax.transData.inverted().transform(patch))  # data pixels
            ys, xs = np.nonzero(lab == lab[int(round(r["pixel_y"])), int(round(r["pixel_x"]))])
            region = Bbox([[xs.min() - 0.5, ys.min() - 0.5], [xs.max() + 0.5, ys.max() + 0.5]])
            assert not box.overlaps(region), (r["number"], box, region)
            assert not any(p.intersects_bbox(box, filled=False) for p in ar_paths), r["number"]
            assert -0.5 <= box.x0 and box.x1 <= 127.5 and -0.5 <= box.y0 and box.y1 <= 127.5
            boxes.append(box)
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
