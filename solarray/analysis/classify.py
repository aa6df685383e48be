"""Hale (alpha, beta, beta-x) and McIntosh-Z (A B C D E F H) classifiers for active regions.

Per task, two architecturally identical small CNNs (2 × Conv-ReLU-MaxPool, FC 128, dropout,
softmax), one for ARs with |Stonyhurst longitude| ≤ 30° and one beyond, as in seed 004. Inputs are
160×160 crops of the LOS magnetogram: the AR's bounding square expanded by 5 %, padded (where it
leaves the image) with the mean of the square's edge pixels, scaled with the ``hmi_m`` channel
scaling to [-1, 1]. Training uses random 90° rotations, scaling, translation and brightness.

Checkpoints are ``dict(config=..., inner=state_dict, outer=state_dict)`` readable with
``torch.load(path, weights_only=True)``; :meth:`DualClassifier.load` rebuilds the pair.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as Fn

from solarray.core import channels

TASKS = {
    "hale": ("alpha", "beta", "beta-x"),
    "mcintosh": ("A", "B", "C", "D", "E", "F", "H"),
}


@dataclass
class ClassifierConfig:
    """One task's classifier pair. ``classes`` default to the task's classes."""

    task: str = "hale"
    classes: tuple[str, ...] = ()
    in_size: int = 160
    in_channels: int = 1
    conv_channels: tuple[int, int] = (16, 32)
    pool: int = 4  # max-pool size after each conv (160 → 40 → 10)
    fc: int = 128
    dropout: float = 0.5
    lon_split_deg: float = 30.0
    expand: float = 0.05

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task: expected one of {sorted(TASKS)}, got {self.task!r}")
        self.classes = tuple(self.classes) or TASKS[self.task]
        self.conv_channels = tuple(self.conv_channels)
        if self.in_size % (self.pool * self.pool):
            raise ValueError(f"in_size {self.in_size} must be divisible by pool² = {self.pool ** 2}")


class ARNet(nn.Module):
    """2 × (Conv-ReLU-MaxPool) → FC(128)-ReLU-Dropout → logits. Input [B, C, S, S]."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        c1, c2 = cfg.conv_channels
        side = cfg.in_size // (cfg.pool * cfg.pool)
        self.features = nn.Sequential(
            nn.Conv2d(cfg.in_channels, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(cfg.pool),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(cfg.pool),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c2 * side * side, cfg.fc), nn.ReLU(),
                                  nn.Dropout(cfg.dropout), nn.Linear(cfg.fc, len(cfg.classes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
def crop_square(image: np.ndarray, mask: np.ndarray, *, size: int = 160,
                expand: float = 0.05) -> np.ndarray:
    """The AR's bounding square expanded by ``expand``, resampled to [size, size] float32.

    Parts of the square outside the image (and NaN pixels) take the mean of the square's edge
    pixels that lie inside the image.
    """
    image = np.asarray(image, dtype=np.float64)
    ys, xs = np.nonzero(np.asarray(mask, dtype=bool))
    if ys.size == 0:
        raise ValueError("crop_square: the region mask is empty")
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    side = max(int(math.ceil(max(h, w) * (1 + expand))), 4)
    cy, cx = (ys.min() + ys.max()) / 2.0, (xs.min() + xs.max()) / 2.0
    y0, x0 = int(round(cy - (side - 1) / 2.0)), int(round(cx - (side - 1) / 2.0))
    yy, xx = np.arange(y0, y0 + side), np.arange(x0, x0 + side)
    iny = (yy >= 0) & (yy < image.shape[0])
    inx = (xx >= 0) & (xx < image.shape[1])
    sq = np.full((side, side), np.nan)
    sq[np.ix_(iny, inx)] = image[np.ix_(yy[iny], xx[inx])]
    edge = np.concatenate([sq[0], sq[-1], sq[:, 0], sq[:, -1]])
    edge = edge[np.isfinite(edge)]
    fill = float(edge.mean()) if edge.size else float(np.nanmean(sq)) if np.isfinite(sq).any() else 0.0
    sq = np.where(np.isfinite(sq), sq, fill)
    t = torch.from_numpy(sq).float()[None, None]
    return Fn.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def scale_input(crop_gauss: np.ndarray) -> np.ndarray:
    """Gauss → [-1, 1] with the catalogue's ``hmi_m`` scaling."""
    return channels.get("hmi_m").scale(crop_gauss)


def augment(x: torch.Tensor, generator: torch.Generator, *, max_shift: float = 0.08,
            scale: tuple[float, float] = (0.9, 1.1),
            brightness: tuple[float, float] = (0.8, 1.2)) -> torch.Tensor:
    """Random 90° rotation, scaling, translation and brightness per sample of [B, C, S, S]."""
    b = x.shape[0]
    k = torch.randint(0, 4, (b,), generator=generator)
    x = torch.stack([torch.rot90(x[i], int(k[i]), dims=(-2, -1)) for i in range(b)])
    s = torch.empty(b).uniform_(*scale, generator=generator)
    t = torch.empty(b, 2).uniform_(-max_shift, max_shift, generator=generator) * 2
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1 / s
    theta[:, 1, 1] = 1 / s
    theta[:, :, 2] = t
    grid = Fn.affine_grid(theta, list(x.shape), align_corners=False)
    x = Fn.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return x * torch.empty(b, 1, 1, 1).uniform_(*brightness, generator=generator)


# ---------------------------------------------------------------------------------------------
# Training and evaluation
# ---------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    augment: bool = True
    class_balance: bool = True  # inverse-frequency loss weights (seed 004: class imbalance)
    seed: int = 0


def train_net(x: np.ndarray, y: np.ndarray, cfg: ClassifierConfig,
              train: TrainConfig | None = None) -> tuple[ARNet, list[float]]:
    """Train one ARNet on inputs ``x`` [N, C, S, S] (scaled) and class indices ``y`` [N].

    Returns the model (eval mode) and the mean training loss per epoch.
    """
    train = train or TrainConfig()
    torch.manual_seed(train.seed)
    gen = torch.Generator().manual_seed(train.seed)
    net = ARNet(cfg)
    if len(x) == 0:
        net.eval()
        return net, []
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    n_cls = len(cfg.classes)
    weight = None
    if train.class_balance:
        counts = torch.bincount(yt, minlength=n_cls).float()
        weight = torch.where(counts > 0, counts.sum() / (n_cls * counts.clamp(min=1)),
                             torch.zeros(()))
    opt = torch.optim.Adam(net.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    history = []
    for _ in range(train.epochs):
        net.train()
        perm = torch.randperm(len(xt), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(xt), train.batch_size):
            idx = perm[i:i + train.batch_size]
            xb = augment(xt[idx], gen) if train.augment else xt[idx]
            loss = Fn.cross_entropy(net(xb), yt[idx], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        history.append(total / seen)
    net.eval()
    return net, history


def f1_report(y_true, y_pred, classes) -> dict:
    """Macro, weighted and per-class F1 (classes absent from both truth and prediction: NaN)."""
    from sklearn.metrics import f1_score

    labels = list(range(len(classes)))
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    present = [i for i in labels if (np.asarray(y_true) == i).any() or (np.asarray(y_pred) == i).any()]
    return {
        "macro_f1": float(np.mean([per[i] for i in present])) if present else float("nan"),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted",
                                      zero_division=0)),
        "per_class": {c: (float(per[i]) if i in present else float("nan"))
                      for i, c in enumerate(classes)},
        "n": int(len(y_true)),
    }


@dataclass
class DualClassifier:
    """The |lon| ≤ split and > split pair for one task."""

    config: ClassifierConfig = field(default_factory=ClassifierConfig)
    inner: ARNet | None = None
    outer: ARNet | None = None

    def __post_init__(self) -> None:
        self.inner = self.inner or ARNet(self.config).eval()
        self.outer = self.outer or ARNet(self.config).eval()

    def zone(self, lon_deg) -> np.ndarray:
        """True where the inner (|lon| ≤ split) network applies."""
        return np.abs(np.asarray(lon_deg, dtype=float)) <= self.config.lon_split_deg

    def fit(self, x: np.ndarray, y: np.ndarray, lon_deg: np.ndarray,
            train: TrainConfig | None = None) -> dict[str, list[float]]:
        """Train both networks on their longitude zones; returns the loss histories."""
        train = train or TrainConfig()
        z = self.zone(lon_deg)
        self.inner, h_in = train_net(x[z], y[z], self.config, train)
        self.outer, h_out = train_net(x[~z], y[~z], self.config, train)
        return {"inner": h_in, "outer": h_out}

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
        """Softmax probabilities [N, n_classes] from the network of each sample's zone."""
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        out = torch.zeros(len(x), len(self.config.classes))
        z = torch.as_tensor(self.zone(lon_deg))
        for net, sel in ((self.inner, z), (self.outer, ~z)):
            if sel.any():
                out[sel] = torch.softmax(net(x[sel]), dim=1)
        return out.numpy()

    def predict(self, x: np.ndarray, lon_deg: np.ndarray) -> list[str]:
        p = self.predict_proba(x, lon_deg)
        return [self.config.classes[i] for i in p.argmax(axis=1)]

    def save(self, path: str | Path) -> Path:
        """Write ``dict(config, inner, outer)`` atomically (torch.save, weights_only-loadable)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        cfg = asdict(self.config)
        cfg["classes"] = list(cfg["classes"])
        cfg["conv_channels"] = list(cfg["conv_channels"])
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"config": cfg, "inner": self.inner.state_dict(),
                    "outer": self.outer.state_dict()}, tmp)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DualClassifier:
        ck = torch.load(Path(path), weights_only=True, map_location="cpu")
        missing = {"config", "inner", "outer"} - set(ck)
        if missing:
            raise ValueError(f"{path}: not a classifier checkpoint (missing {sorted(missing)})")
        cfg = ClassifierConfig(**ck["config"])
        inner, outer = ARNet(cfg), ARNet(cfg)
        inner.load_state_dict(ck["inner"])
        outer.load_state_dict(ck["outer"])
        return cls(cfg, inner.eval(), outer.eval())


# ---------------------------------------------------------------------------------------------
# Training data from a synthetic Sun directory
# ---------------------------------------------------------------------------------------------
def samples_from_directory(data_dir: str | Path, *, size: int = 160, expand: float = 0.05,
                           max_match_deg: float = 8.0, region_config=None) -> dict:
    """AR crops with truth labels from a synthetic output directory (tables/ar.parquet).

    Each IATools AR entity (from the truth masks) is matched one-to-one to the nearest true AR
    (≤ ``max_match_deg``) of its time step; its magnetogram crop gets that AR's Hale and
    McIntosh classes. Returns ``x`` [N, 1, S, S] (scaled), ``hale``/``mcintosh`` class-index
    arrays, ``lon`` (deg), ``time`` and ``ar_number``.
    """
    import pandas as pd
    from scipy.optimize import linear_sum_assignment

    from solarray.analysis import coords as C
    from solarray.analysis import observe as O

    data_dir = Path(data_dir)
    truth_path = data_dir / "tables" / "ar.parquet"
    if not truth_path.exists():
        raise O.ObservationError(f"{truth_path}: no AR truth table (run `solarray synth`)")
    truth = pd.read_parquet(truth_path)
    t = pd.to_datetime(truth["t_obs"])
    truth["t"] = t.dt.tz_convert(None) if t.dt.tz is not None else t
    xs, hale, mcint, lons, times, nums = [], [], [], [], [], []
    for st in O.list_steps(data_dir).itertuples():
        if st.hmi_m is None:
            continue
        obs = O.analyse_step(st.masks, st.hmi_m, config=region_config)
        ar = obs.result.table
        ar = ar[ar["kind"] == "AR"] if len(ar) else ar
        tr = truth[truth["t"] == st.time]
        if not len(ar) or not len(tr):
            continue
        d = C.great_circle_deg(ar["hgs_lon"].to_numpy()[:, None], ar["hgs_lat"].to_numpy()[:, None],
                               tr["hgs_lon"].to_numpy()[None], tr["hgs_lat"].to_numpy()[None])
        ii, jj = linear_sum_assignment(np.where(d <= max_match_deg, d, 1e6))
        b = np.nan_to_num(obs.b_los, nan=0.0)
        for i, j in zip(ii, jj, strict=True):
            if d[i, j] > max_match_deg:
                continue
            lab = int(ar["label"].iloc[i])
            crop = crop_square(b, obs.result.labels["AR"] == lab, size=size, expand=expand)
            xs.append(scale_input(crop)[None])
            hale.append(TASKS["hale"].index(tr["hale"].iloc[j]))
            mcint.append(TASKS["mcintosh"].index(tr["mcintosh"].iloc[j]))
            lons.append(float(ar["hgs_lon"].iloc[i]))
            times.append(st.time)
            nums.append(int(tr["ar_number"].iloc[j]))
    x = np.stack(xs).astype(np.float32) if xs else np.zeros((0, 1, size, size), np.float32)
    return {"x": x, "hale": np.array(hale, dtype=np.int64), "mcintosh": np.array(mcint, dtype=np.int64),
            "lon": np.array(lons), "time": times, "ar_number": np.array(nums, dtype=np.int64)}
