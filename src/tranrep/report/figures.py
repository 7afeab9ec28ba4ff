"""Figures of the replication report: attention heatmaps and training curves.

Every figure is drawn with matplotlib's Agg canvas (no pyplot, no global state), written as a PNG
file atomically and also returned as bytes so the HTML report can embed it as a data URI.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tranrep.io import write_bytes

log = logging.getLogger(__name__)

DPI = 120
HEATMAP_CMAP = "viridis"
MAX_SAMPLES = 8
SAMPLE_COLUMNS = 4
# Fixed metadata keeps the PNG bytes independent of the matplotlib version string.
PNG_METADATA: dict[str, str | None] = {"Software": None}


@dataclass(frozen=True)
class FigureOutput:
    """One figure written to disk, with what the report needs to show it."""

    key: str
    path: Path
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """The PNG as a base64 ``data:`` URI, for a self-contained HTML page."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def relative_to(self, folder: Path) -> str:
        """The PNG's path relative to ``folder``, with forward slashes (for LaTeX)."""
        return Path(os.path.relpath(self.path.resolve(), folder.resolve())).as_posix()


def slug(text: str) -> str:
    """A file-name-safe lower-case form of ``text``: runs of other characters become '-'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def _new_figure(width: float, height: float) -> Figure:
    """A figure bound to the Agg canvas.

    No layout engine: seaborn redraws the whole figure after each heatmap, and constrained
    layout on every one of those redraws made the sample grid very slow. The margins are
    trimmed when saving instead (``bbox_inches="tight"``).
    """
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: Path) -> bytes:
    """Render ``fig`` to PNG, write it atomically to ``path`` and return the bytes."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", dpi=DPI, metadata=PNG_METADATA, bbox_inches="tight", pad_inches=0.1
    )
    data = buffer.getvalue()
    write_bytes(path, data)
    log.info("wrote figure %s", path)
    return data


def draw_heatmap(
    ax: Any,
    matrix: Sequence[Sequence[float]],
    tasks: Sequence[str],
    title: str,
    *,
    colorbar: bool = True,
) -> None:
    """Draw one attention matrix on ``ax``: values annotated, colour scale fixed to [0, 1]."""
    values = np.asarray(matrix, dtype=float)
    size = values.shape[0]
    font = 9 if size <= 4 else 7
    sns.heatmap(
        values,
        ax=ax,
        vmin=0.0,
        vmax=1.0,
        cmap=HEATMAP_CMAP,
        annot=True,
        fmt=".2f",
        annot_kws={"size": font},
        xticklabels=list(tasks),
        yticklabels=list(tasks),
        square=True,
        cbar=colorbar,
        linewidths=0.5,
        linecolor="white",
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("task j (contributes)")
    ax.set_ylabel("target task i")
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8)


def attention_mean_figure(
    entry: Mapping[str, Any], title: str, caption: str, path: Path
) -> FigureOutput:
    """Figure 2 panel: the mean attention matrix of one (problem, method)."""
    tasks = list(entry["tasks"])
    side = 2.6 + 0.55 * len(tasks)
    fig = _new_figure(side + 1.0, side)
    draw_heatmap(fig.subplots(), entry["mean"], tasks, title)
    return FigureOutput(path.stem, path, caption, save_figure(fig, path))


def attention_samples_figure(
    entry: Mapping[str, Any], title: str, caption: str, path: Path
) -> FigureOutput | None:
    """Figure 3: the attention matrices of up to eight test samples in a grid."""
    samples = list(entry.get("samples") or [])[:MAX_SAMPLES]
    if not samples:
        return None
    indices = list(entry.get("sample_index") or range(len(samples)))
    tasks = list(entry["tasks"])
    ncols = min(SAMPLE_COLUMNS, len(samples))
    nrows = math.ceil(len(samples) / ncols)
    panel = 1.2 + 0.45 * len(tasks)
    fig = _new_figure(panel * ncols + 1.2, panel * nrows + 0.6)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    fig.subplots_adjust(wspace=0.45, hspace=0.6)
    for ax in axes:
        ax.set_visible(False)
    for position, ax in enumerate(axes[: len(samples)]):
        # seaborn redraws the whole figure after every heatmap; showing only the panel being
        # drawn keeps that cost linear in the number of panels instead of quadratic.
        ax.set_visible(True)
        label = indices[position] if position < len(indices) else position
        draw_heatmap(ax, samples[position], tasks, f"test sample {label}", colorbar=False)
        ax.set_visible(False)
    for ax in axes[: len(samples)]:
        ax.set_visible(True)
    fig.colorbar(axes[0].collections[0], ax=list(axes[: len(samples)]), shrink=0.8, pad=0.02)
    fig.suptitle(title, fontsize=11, y=0.98)
    return FigureOutput(path.stem, path, caption, save_figure(fig, path))


def _curve_bands(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, min and max of ``val_metric`` over seeds, per epoch."""
    grouped = frame.groupby("epoch")["val_metric"].agg(["mean", "min", "max"])
    return grouped.dropna(subset=["mean"]).sort_index()


def training_curve_figure(
    curves: pd.DataFrame,
    methods: Sequence[str],
    display: Mapping[str, str],
    metric: str,
    title: str,
    caption: str,
    path: Path,
) -> FigureOutput | None:
    """Validation metric by epoch, one line per method (mean over seeds, min-max band)."""
    present = [m for m in methods if (curves["method"] == m).any()]
    if not present:
        return None
    fig = _new_figure(7.5, 4.2)
    ax = fig.subplots()
    palette = sns.color_palette("tab10", n_colors=max(len(present), 1))
    for colour, method in zip(palette, present, strict=True):
        bands = _curve_bands(curves[curves["method"] == method])
        if bands.empty:
            continue
        label = display.get(method, method)
        ax.plot(bands.index, bands["mean"], color=colour, label=label, linewidth=1.4)
        ax.fill_between(bands.index, bands["min"], bands["max"], color=colour, alpha=0.18)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    return FigureOutput(path.stem, path, caption, save_figure(fig, path))
