"""Park 2019's translation table for checkpoints on a shard directory (``solarray evaluate
translation``): CC, RE, PPE10 per generated passband and their average, on inverse-scaled on-disk
pixels, for translation checkpoints and the baselines, plus side-by-side PNGs (input, target,
generated, difference)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from solarray.core.checkpoints import run_name
from solarray.core.errors import UsageError
from solarray.core.frame import FRAME_RSUN
from solarray.core.ray_connect import connect
from solarray.data.dataset import channels_of, require_shards
from solarray.models import load_model
from solarray.translate.baselines import LinearFromB, MeanImage
from solarray.translate.data import check_channels, downsample, load_pairs
from solarray.translate.evaluation import score_channels, table_rows
from solarray.translate.figures import side_by_side
from solarray.translate.predict import check_outputs, check_translator, generate


def _models(checkpoints: Sequence[str]) -> list:
    models = []
    for c in checkpoints:
        if not os.path.exists(c):
            raise UsageError(f"--checkpoint: no such file or directory: {c}")
        try:
            m = load_model(c)
            check_translator(m, c)
        except (OSError, ValueError, KeyError) as err:
            raise UsageError(f"--checkpoint {c}: {err}") from None
        models.append((c, m))
    return models


def evaluate_translation(checkpoints: Sequence[str], data: str, split: str | None = "test",
                         outputs: Sequence[str] | None = None, baselines: bool = False,
                         frame: float = FRAME_RSUN, out: str | None = None, figures: int = 3,
                         log: Callable[[str], None] = print) -> list[dict]:
    """The table rows (:func:`solarray.translate.evaluation.table_rows`) of every checkpoint in
    ``checkpoints`` on the ``split`` samples of ``data`` (``None``: all), scoring ``outputs``
    (default each model's own) and, with ``baselines``, the mean training image and the linear
    fit on |B|. ``out``: write ``figures`` side-by-side PNGs per checkpoint there. Checks run
    before Ray starts (UsageError naming the flag); progress lines go to ``log``."""
    require_shards("--data", data)
    if frame <= 0:
        raise UsageError(f"--frame must be > 0, got {frame}")
    models = _models(checkpoints)
    wanted = list(outputs) if outputs else None
    try:
        available = channels_of(data)
    except (OSError, ValueError) as err:
        raise UsageError(f"--data: {err}") from None
    for path, m in models:
        try:
            if wanted:
                check_outputs(m, wanted, f"--checkpoint {path}")
            check_channels(available, [*m.config.inputs, *(wanted or m.config.outputs)],
                           f"--data {data}")
        except ValueError as err:
            raise UsageError(str(err)) from None
    connect()
    rows: list[dict] = []
    baseline_done = False
    for path, m in models:
        outs = list(wanted or m.config.outputs)
        pairs = load_pairs(data, m.config.inputs, outs, split)
        factor = pairs.x.shape[-1] // m.config.image_size
        if factor < 1 or pairs.x.shape[-1] != factor * m.config.image_size:
            raise UsageError(f"--checkpoint {path}: the model reads {m.config.image_size} px "
                             f"images; the data are {pairs.x.shape[-1]} px")
        x, y = downsample(pairs.x, factor), downsample(pairs.y, factor)
        if factor > 1:
            log(f"{path}: data mean-pooled ×{factor} to the model's {m.config.image_size} px")
        pred_all = generate(m, x)
        pred = pred_all[:, [list(m.config.outputs).index(c) for c in outs]]
        name = run_name(path)
        rows += table_rows(name, score_channels(pred, y, outs, frame))
        if baselines and not baseline_done:
            rows += _baseline_rows(data, available, m, outs, split, factor, y, frame)
            baseline_done = True
        if out:
            for i in range(min(figures, len(x))):
                png = side_by_side(x[i], y[i], pred[i], m.config.inputs, outs,
                                   os.path.join(out, f"{name}_{pairs.sample_id[i]}.png"
                                                .replace(":", "")),
                                   title=f"{name}: {pairs.sample_id[i]}")
                log(f"Figure written to {png}")
    return rows


def _baseline_rows(data: str, available, m, outs: list[str], split: str | None, factor: int, y,
                   frame: float) -> list[dict]:
    train = load_pairs(data, ("hmi_m",) if "hmi_m" in available else m.config.inputs[:1], outs,
                       "train")
    tx, ty = downsample(train.x, factor), downsample(train.y, factor)
    mean = MeanImage().fit(ty).predict(len(y))
    rows = table_rows("mean training image", score_channels(mean, y, outs, frame))
    if "hmi_m" in available:
        test_b = load_pairs(data, ("hmi_m",), outs[:1], split).x[:, 0]
        lin = LinearFromB().fit(tx[:, 0], ty).predict(downsample(test_b, factor))
        rows += table_rows("linear on |B|", score_channels(lin, y, outs, frame))
    return rows


__all__ = ["evaluate_translation"]
