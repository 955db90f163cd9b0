"""ablation-diagnose: the chapter's "too small / too big / just right" figure for any config.

One batch of training images through the freshly initialized model, no update: per-layer
activation histograms (activations.png), per-layer std (std.png), stats.json, and a table.
"""

import json
import sys
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig

from ablation_lab.build import build_datamodule, build_model
from ablation_lab.diagnostics.probes import layer_name, record_activations
from ablation_lab.errors import EXIT_FAILED
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.run_record import one_line


def layer_stats(cfg: DictConfig) -> list[dict]:
    """Per-layer activation statistics of one batch through the model of `cfg` at init."""
    torch.manual_seed(int(cfg.seed))
    dm = build_datamodule(cfg)
    x = dm.fit_preprocess()(dm.train.x[: int(cfg.batch)].float())
    net = build_model(cfg).train()
    with torch.no_grad(), record_activations(net) as records:
        net(x)
    return [
        {
            "layer": layer_name(i),
            "mean": r.mean,
            "std": r.std,
            "dead_frac": r.dead_fraction,
            "sat_frac": r.saturated_fraction,
            "sample": r.sample,
        }
        for i, r in enumerate(records)
        if r is not None
    ]


def print_table(rows: list[dict]) -> None:
    print(f"{'layer':>9s} {'mean':>11s} {'std':>11s} {'dead':>6s} {'saturated':>9s}")
    for r in rows:
        sat = "-" if r["sat_frac"] is None else f"{r['sat_frac']:.3f}"
        print(f"{r['layer']:>9s} {r['mean']:11.4g} {r['std']:11.4g} {r['dead_frac']:6.3f} {sat:>9s}")


def describe(cfg: DictConfig) -> str:
    """The full setting in one line: each axis with its knobs, e.g. init=normal(std=0.01)."""

    def knobs(node) -> str:
        items = [f"{k}={v}" for k, v in node.items() if k not in ("name", "_target_")]
        return f"({', '.join(items)})" if items else ""

    reg = "+".join(cfg.get("regularization") or {}) or "none"
    model = knobs(cfg.model)
    return (
        f"{cfg.model.name}{model} · activation={cfg.activation.name}{knobs(cfg.activation)} · "
        f"init={cfg.init.name}{knobs(cfg.init)} · regularization={reg} · data={cfg.data.name} "
        f"({cfg.data.preprocess}) · seed={cfg.seed}"
    )


def _panels(rows: list[dict], max_panels: int) -> list[int]:
    return sorted(
        {round(i * (len(rows) - 1) / max(1, max_panels - 1)) for i in range(min(max_panels, len(rows)))}
    )


def plot(rows: list[dict], out: Path, title: str, max_panels: int) -> None:
    """activations.png: a grid of per-layer histograms on one shared x-range (so shrinking and
    saturation show), values outside it counted, never piled at the edge; std.png: std per layer,
    on a log axis only when it spans more than a decade."""
    import math
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = _panels(rows, max_panels)
    values = torch.cat([rows[i]["sample"] for i in picks])
    values = values[torch.isfinite(values)]  # an init that overflows leaves inf and nan: counted as beyond
    if values.numel() == 0:
        values = torch.tensor([-1.0, 1.0])
    lo, hi = torch.quantile(values, 0.001).item(), torch.quantile(values, 0.999).item()
    hi = hi if hi > lo else lo + 1e-6
    ncols = min(5, len(picks))
    nrows = math.ceil(len(picks) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.6 * nrows + 0.9), squeeze=False)
    for ax, i in zip(axes.flat, picks, strict=False):
        r, sample = rows[i], rows[i]["sample"]
        inside = sample[(sample >= lo) & (sample <= hi)]
        ax.hist(inside.numpy(), bins=50, range=(lo, hi), color="tab:blue", weights=None)
        overflow = (~torch.isfinite(sample)).float().mean().item()  # inf or nan: the init overflowed
        beyond = 1 - inside.numel() / max(1, sample.numel()) - overflow
        note = f", {beyond:.1%} beyond" if beyond >= 0.0005 else ""
        note += f", {overflow:.0%} inf/nan" if overflow > 0 else ""
        ax.set_title(f"{r['layer']}: mean {r['mean']:.3g}, std {r['std']:.3g}{note}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("activation value", fontsize=7)
        ax.set_ylabel("count", fontsize=7)
    for ax in list(axes.flat)[len(picks) :]:
        ax.axis("off")
    fig.suptitle("activations at init, one batch\n" + "\n".join(textwrap.wrap(title, 130)), fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "activations.png", dpi=100)
    plt.close(fig)

    stds = [max(r["std"], 1e-30) if math.isfinite(r["std"]) else math.nan for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(range(1, len(rows) + 1), stds, marker="o", markersize=3)
    if max(stds) / min(stds) > 10:
        ax.set_yscale("log")
    else:  # a narrow range on a linear axis from 0: a 2.5% step stays a 2.5% step
        ax.set_ylim(0, max(stds) * 1.15)
    ax.set_xlabel("layer")
    ax.set_ylabel("activation std")
    ax.grid(alpha=0.3)
    ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "std.png", dpi=100)
    plt.close(fig)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="diagnose")
def hydra_entry(cfg: DictConfig) -> None:
    try:
        rows = layer_stats(cfg)
    except Exception as err:
        print(f"ablation-diagnose: error: {one_line(err)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    out = Path(cfg.paths.output_dir)
    title = describe(cfg)
    plot(rows, out, title, int(cfg.max_panels))
    (out / "stats.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "sample"} for r in rows], indent=2)
    )
    print_table(rows)
    print(f"diagnose: {out / 'activations.png'}  {out / 'std.png'}")
