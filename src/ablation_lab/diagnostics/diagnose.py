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
    print(f"{'layer':>9s} {'mean':>10s} {'std':>10s} {'dead':>6s} {'saturated':>9s}")
    for r in rows:
        sat = "-" if r["sat_frac"] is None else f"{r['sat_frac']:.3f}"
        print(f"{r['layer']:>9s} {r['mean']:10.4f} {r['std']:10.4g} {r['dead_frac']:6.3f} {sat:>9s}")


def plot(rows: list[dict], out: Path, title: str, max_panels: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = sorted(
        {round(i * (len(rows) - 1) / max(1, max_panels - 1)) for i in range(min(max_panels, len(rows)))}
    )
    values = torch.cat([rows[i]["sample"] for i in picks])
    lo, hi = torch.quantile(values, 0.005).item(), torch.quantile(values, 0.995).item()
    bins = torch.linspace(lo, hi if hi > lo else lo + 1e-6, 51).numpy()
    fig, axes = plt.subplots(1, len(picks), figsize=(2.2 * len(picks), 2.6), sharex=True, squeeze=False)
    for ax, i in zip(axes[0], picks, strict=True):  # one x range: shrinking and saturation show
        r = rows[i]
        ax.hist(r["sample"].clamp(lo, hi).numpy(), bins=bins, color="tab:blue")
        ax.set_title(f"{r['layer']}\nμ={r['mean']:.2g} σ={r['std']:.2g}", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"activations at init: {title}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "activations.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(range(1, len(rows) + 1), [max(r["std"], 1e-12) for r in rows], marker="o", markersize=3)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("activation std")
    ax.set_title(title, fontsize=9)
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
    title = f"{cfg.model.name} {cfg.activation.name} {cfg.init.name}"
    plot(rows, out, title, int(cfg.max_panels))
    (out / "stats.json").write_text(
        json.dumps([{k: v for k, v in r.items() if k != "sample"} for r in rows], indent=2)
    )
    print_table(rows)
    print(f"diagnose: {out / 'activations.png'}  {out / 'std.png'}")
