"""The report's figures, each made to be read at a glance: y-axes that fit the data, labelled axes,
legends beside the plot (never over it), one colour per cell in every figure."""

from pathlib import Path

from ablation_lab.report.analysis import CellStats
from ablation_lab.report.runs import Cell, curves

DIAGNOSTICS = (  # metrics.json diagnostics_step0 key prefix, axis label, log scale
    ("z_diag/act_std", "activation std", True),
    ("z_diag/dead_frac", "dead fraction (units 0 on the batch)", False),
    ("z_diag/sat_frac", "saturated fraction (sigmoid/tanh)", False),
    ("z_diag/grad_norm", "gradient norm ‖∂L/∂W‖", True),
)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False  # labels are the user's text: `$\frac$` is no formula
    import matplotlib.pyplot as plt

    return plt


def _colors(n: int) -> list:
    cmap = _plt().get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _short(cell: Cell) -> str:
    """The cell's values only (the axis names go in the axis label or the legend title)."""
    return ", ".join(cell.values.values()) or "all runs"


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _plain_log(ax) -> None:
    """Log scale with plain numbers on the ticks (0.3, not 3×10⁻¹)."""
    from matplotlib.ticker import FuncFormatter

    ax.set_yscale("log", nonpositive="mask")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain if _decades(ax) < 1.5 else FuncFormatter(lambda v, _: ""))


def _decades(ax) -> float:
    import math

    lo, hi = ax.get_ylim()
    return math.log10(hi / lo) if lo > 0 and hi > 0 else 0.0


def _fit(ax, values: list[float], pad: float = 0.15) -> None:
    """Y limits around the data (not from 0): a 0.96 vs 0.98 difference must show."""
    values = [v for v in values if v is not None]
    if not values:
        return
    lo, hi = min(values), max(values)
    span = hi - lo or max(abs(hi) * 0.05, 1e-3)
    ax.set_ylim(lo - pad * span, hi + pad * span)


def cell_scores(rows: list[CellStats], path: Path) -> Path:
    """Mean test accuracy (the tested score) and val/acc_best (which chose the checkpoint) per cell,
    with their 95% intervals and every seed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(rows) + 3.5), 4.2))
    shown = []
    pairs = ((lambda r: r.test, "test/acc", "tab:orange"), (lambda r: r.val, "val/acc_best", "tab:blue"))
    bars = []
    for i, row in enumerate(rows):
        for j, (stat, metric, color) in enumerate(pairs):
            summary = stat(row)
            if not summary.n:
                continue
            x = i + (j - 0.5) * 0.32
            label = metric if i == 0 else None
            ax.plot([x], [summary.mean], "o", color=color, markersize=6, label=label, zorder=4)
            if summary.low is not None:  # accuracy lives in [0, 1]: so does its interval
                bars.append((x, max(0.0, summary.low), min(1.0, summary.high), color))
            seeds = row.cell.scores(metric)
            ax.scatter([x + 0.08] * len(seeds), seeds, s=10, color=color, alpha=0.45, zorder=3)
            shown += [*seeds, summary.mean]
    spans = [hi - lo for _, lo, hi, _ in bars]
    seeds_span = (max(shown) - min(shown)) if shown else 0.0
    # intervals are drawn whole unless one is far wider than the data (2 seeds: t = 12.7)
    fitted = shown + [
        v for _, lo, hi, _ in bars for v in (lo, hi) if not spans or hi - lo <= 4 * max(seeds_span, 1e-3)
    ]
    _fit(ax, fitted, pad=0.15)
    bottom, top = ax.get_ylim()
    for x, lo, hi, color in bars:  # a cap where the interval ends, an arrow where it leaves the plot
        ax.vlines(x, max(lo, bottom), min(hi, top), color=color, linewidth=1.4, zorder=2)
        for end, edge, arrow in ((lo, bottom, "v"), (hi, top, "^")):
            inside = bottom <= end <= top
            ax.plot(
                [x],
                [end if inside else edge],
                "_" if inside else arrow,
                color=color,
                markersize=9 if inside else 6,
            )
    if any(lo < bottom or hi > top for _, lo, hi, _ in bars):
        ax.text(
            0.99,
            0.01,
            "▲▼ interval continues beyond the axis",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="0.35",
        )
    ax.set_xticks(range(len(rows)), [_short(r.cell) for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_xlabel(", ".join(rows[0].cell.values) if rows and rows[0].cell.values else "")
    ax.set_ylabel("accuracy: mean, 95% interval, seeds")
    ax.set_title("cells, best test/acc first (val/acc_best shown, not tested)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def learning_curves(cells: list[Cell], path: Path) -> Path | None:
    """val/acc and train/loss against epoch per cell: mean over seeds, band from min to max."""
    plt = _plt()
    data = [[curves(run) for run in cell.runs] for cell in cells]
    if not any(c for runs in data for c in runs):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for tag, ax, ylabel in (
        ("val/acc", axes[0], "validation accuracy"),
        ("train/loss", axes[1], "training loss"),
    ):
        shown = []
        for cell, runs, color in zip(cells, data, _colors(len(cells)), strict=True):
            series = [r[tag] for r in runs if r.get(tag)]
            if not series:
                continue
            length = min(len(s) for s in series)
            stacked = list(zip(*(s[:length] for s in series), strict=True))
            epochs = range(1, length + 1)
            mean = [sum(v) / len(v) for v in stacked]
            ax.plot(epochs, mean, color=color, label=_short(cell), linewidth=1.6)
            if len(series) > 1:
                ax.fill_between(
                    epochs, [min(v) for v in stacked], [max(v) for v in stacked], color=color, alpha=0.15
                )
            shown += [v for vals in stacked for v in vals]
        if tag == "train/loss" and shown and min(shown) > 0 and max(shown) / min(shown) > 30:
            _plain_log(ax)
        elif tag == "val/acc":
            _fit(ax, shown, pad=0.05)
        ax.set_xlabel("epoch")
        _integer_ticks(ax)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[1].legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        title=", ".join(cells[0].values) or None,
        title_fontsize=8,
    )
    axes[0].set_title("validation accuracy (mean over seeds, band: min–max)", fontsize=10)
    axes[1].set_title("training loss", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _per_layer(cell: Cell, prefix: str) -> list[float]:
    """Mean over the cell's seeds of a step-0 diagnostic, layer by layer."""
    rows = [r.record.get("diagnostics_step0") or {} for r in cell.runs]
    layers = sorted({k for r in rows for k in r if k.startswith(prefix + "/")})
    return [sum(r.get(k, 0.0) for r in rows) / len(rows) for k in layers]


def init_diagnostics(cells: list[Cell], path: Path) -> Path | None:
    """The chapter's pictures at initialization, side by side for the arms: per-layer activation
    std, dead and saturated fractions, gradient norm (metrics.json diagnostics_step0)."""
    panels = [(p, label, log) for p, label, log in DIAGNOSTICS if any(_per_layer(c, p) for c in cells)]
    if not panels:
        return None
    plt = _plt()
    ncols = 2 if len(panels) > 1 else 1
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols + 2.8, 3.3 * nrows), squeeze=False)
    styles = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (1, 3)), "x")]
    for ax, (prefix, label, log) in zip(axes.flat, panels, strict=False):
        for k, (cell, color) in enumerate(zip(cells, _colors(len(cells)), strict=True)):
            values = _per_layer(cell, prefix)
            if values:  # equal lines stay visible: each cell its own dash and marker, drawn thinner on top
                layers = range(1, len(values) + 1)
                dash, marker = styles[k % len(styles)]
                ax.plot(
                    layers,
                    values,
                    linestyle=dash,
                    marker=marker,
                    markersize=4,
                    fillstyle="none",
                    linewidth=1.8 - 0.25 * min(k, 4),
                    color=color,
                    label=_short(cell),
                    alpha=0.9,
                )
        values = [v for line in ax.get_lines() for v in line.get_ydata()]
        positive = [v for v in values if v > 0]
        spans_decades = positive and max(positive) / min(positive) > 100
        if (log and values and len(positive) == len(values)) or spans_decades:
            _plain_log(ax)  # zeros (a dead layer's gradient) are left out of a log axis, not plotted at 0
        ax.margins(y=0.12)  # the top line inside the last tick
        ax.set_xlabel("layer")
        _integer_ticks(ax)
        ax.set_ylabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    title = ", ".join(cells[0].values) or None
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, title=title)
    fig.suptitle("at initialization (step 0, one batch, mean over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
