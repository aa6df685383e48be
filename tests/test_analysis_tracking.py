"""Tracking across days: rotated entities keep their numbers, new regions get new ones."""

from __future__ import annotations

import astropy.units as u
import numpy as np
from sunpy.sun.models import differential_rotation

from solarray.analysis import coords as C
from solarray.analysis import regions as R
from solarray.analysis.tracking import Tracker, rotate_points
from tests.analysis_maps import make_map

CFG = R.RegionConfig(ar_min_area_msh=1)


def _observe(date, spots):
    m = make_map(np.zeros((128, 128)), date=date)
    g = C.map_geometry(m)
    ar = np.zeros((128, 128), dtype=bool)
    for lon, lat in spots:
        ar |= (C.great_circle_deg(g.lon, g.lat, lon, lat) < 6) & g.on_disk
    return m, R.find_entities({"AR": ar}, m, config=CFG, geometry=g)


def _rotated(lon, lat, days):
    shift = differential_rotation(days * u.day, lat * u.deg, frame_time="synodic")
    return lon + shift.to_value(u.deg), lat


def test_rotate_points_moves_west():
    m2 = make_map(np.zeros((128, 128)), date="2024-01-02T00:00:00")
    x, y, vis = rotate_points(np.array([0.0, 85.0]), np.array([0.0, 0.0]),
                              "2024-01-01T00:00:00", m2)
    assert vis[0] and not vis[1]  # 85° W rotates behind the limb
    g = C.map_geometry(m2)
    lon = g.lon[int(round(y[0])), int(round(x[0]))]
    assert 12.0 < lon < 15.5  # ≈ 13.5°/day synodic at the equator


def test_tracker_keeps_numbers_across_days():
    day1 = [(-40.0, 15.0), (10.0, -20.0), (70.0, 5.0)]
    m1, r1 = _observe("2024-01-01T00:00:00", day1)
    tr = Tracker()
    t1 = tr.update(r1, m1)
    first = {(round(a), round(b)): n for a, b, n in zip(t1["hgs_lon"], t1["hgs_lat"], t1["number"],
                                                        strict=True)}
    assert sorted(first.values()) == [1, 2, 3]
    # Next day: the first two rotated west, the third rotated off the disk, a new one in the east.
    day2 = [_rotated(-40.0, 15.0, 1), _rotated(10.0, -20.0, 1), (-60.0, 5.0)]
    m2, r2 = _observe("2024-01-02T00:00:00", day2)
    t2 = tr.update(r2, m2)
    by_pos = {n: (lo, la) for lo, la, n in zip(t2["hgs_lon"], t2["hgs_lat"], t2["number"],
                                                strict=True)}
    n_a = first[(-40, 15)]
    n_b = first[(10, -20)]
    assert abs(by_pos[n_a][0] - day2[0][0]) < 1.5 and abs(by_pos[n_b][1] + 20) < 1.5
    assert 4 in by_pos and abs(by_pos[4][0] + 60) < 1.5  # new region, new number
    assert {m["method"] for m in tr.matches} == {"overlap"}
    # Third day, empty masks: nothing to number, no crash; numbers never reused.
    m3, r3 = _observe("2024-01-03T00:00:00", [])
    assert len(tr.update(r3, m3)) == 0
    m4, r4 = _observe("2024-01-04T00:00:00", [(0.0, 0.0)])
    assert list(tr.update(r4, m4)["number"]) == [5]
