"""The chapter's claims about initialization and activations (techniques.md §6, the first five)."""

import torch
from claims_lib import Budget, config, fit, verdict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ablation_lab.diagnostics.diagnose import layer_stats


def zero_init(budget: Budget) -> bool:
    """Zero/constant init does not learn; hidden units stay identical. Random init breaks symmetry."""
    print("init          val/acc_best  max |row_i − row_0| of hidden layer 1 after training")
    rows = {}
    for init in ("zeros", "constant", "kaiming_normal"):
        metrics, out = fit(f"init={init}", "trainer.max_epochs=10")
        state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
        w = state["net.1.0.weight"]
        spread = (w - w[0]).abs().max().item()
        rows[init] = (metrics["val/acc_best"], spread)
        print(f"{init:14s} {metrics['val/acc_best']:12.4f}  {spread:.3g}")
    same = all(rows[i][1] < 1e-6 for i in ("zeros", "constant"))
    stuck = rows["zeros"][0] < 0.2
    return verdict(
        "zero_init", same and stuck and rows["kaiming_normal"][0] > 0.9 and rows["kaiming_normal"][1] > 0.1
    )


def _std_table(cases: dict[str, list[str]], layers=(1, 2, 5, 10, 15, 20, 25, 30)) -> dict[str, list[dict]]:
    stats = {
        name: layer_stats(config("model=plain_deep", "model.depth=30", *ov)) for name, ov in cases.items()
    }
    print("layer " + "".join(f"{name:>22s}" for name in stats))
    for i in layers:
        print(f"{i:5d} " + "".join(f"{s[i - 1]['std']:22.4g}" for s in stats.values()))
    return stats


def depth_std(budget: Budget) -> bool:
    """30-layer ReLU net: Xavier shrinks the activation std geometrically, Kaiming keeps it (×2)."""
    stats = _std_table({"xavier_normal": ["init=xavier_normal"], "kaiming_normal": ["init=kaiming_normal"]})
    xs = [r["std"] for r in stats["xavier_normal"]]
    ks = [r["std"] for r in stats["kaiming_normal"]]
    factor = (xs[-1] / xs[0]) ** (1 / (len(xs) - 1))
    ratios = [xs[i + 1] / xs[i] for i in range(len(xs) - 1)]
    print(
        f"xavier: std shrinks by ×{factor:.3f} per layer (1/√2 = 0.707); per-layer ratios "
        f"{min(ratios):.3f}..{max(ratios):.3f}"
    )
    print(f"kaiming: std stays within [{min(ks):.3f}, {max(ks):.3f}], max/min = {max(ks) / min(ks):.2f}")
    return verdict("depth_std", factor < 0.8 and max(ratios) < 0.9 and max(ks) / min(ks) < 2)


def normal_sigma(budget: Budget) -> bool:
    """Normal init: σ=0.01 makes deep tanh activations vanish, σ=1 saturates them."""
    stats = _std_table(
        {
            "tanh σ=0.01": ["activation=tanh", "init=normal", "init.std=0.01"],
            "tanh σ=1": ["activation=tanh", "init=normal", "init.std=1.0"],
        }
    )
    small, large = stats["tanh σ=0.01"], stats["tanh σ=1"]
    sat = [r["sat_frac"] for r in large]
    print(
        f"σ=0.01: layer-30 std {small[-1]['std']:.3g}; σ=1: saturated fraction "
        f"(|tanh'| < 0.05) {min(sat):.3f}..{max(sat):.3f} over the 30 layers"
    )
    return verdict("normal_sigma", small[-1]["std"] < 1e-6 and min(sat[1:]) > 0.5)


def selu(budget: Budget) -> bool:
    """SELU + LeCun normal keeps mean≈0, std≈1 over 30+ layers without BN."""
    rows = layer_stats(config("model=plain_deep", "model.depth=50", "activation=selu", "init=lecun_normal"))
    for i in (1, 10, 20, 30, 40, 50):
        print(f"layer {i:2d}: mean {rows[i - 1]['mean']:+.3f}  std {rows[i - 1]['std']:.3f}")
    worst_mean = max(abs(r["mean"]) for r in rows)
    worst_std = max(abs(r["std"] - 1) for r in rows)
    print(f"over 50 layers: max |mean| {worst_mean:.3f}, max |std − 1| {worst_std:.3f}")
    return verdict("selu", worst_mean < 0.15 and worst_std < 0.15)


def relu_vs_sigmoid(budget: Budget, target: float = 0.9) -> bool:
    """Sigmoid and tanh nets need several times (> 2×) the steps of a ReLU net to reach a target
    accuracy (plain SGD, lr 0.05, 3 hidden layers, digits, up to 60 epochs)."""
    steps = {}
    for act in ("relu", "tanh", "sigmoid"):
        metrics, out = fit(
            f"activation={act}",
            "optim=sgd",
            "optim.optimizer.momentum=0",
            "optim.optimizer.nesterov=false",
            "optim.optimizer.lr=0.05",
            "model.depth=3",
            "trainer.max_epochs=60",
            "optim.scheduler=null",
        )
        acc = EventAccumulator(str(out), size_guidance={"scalars": 0})
        acc.Reload()
        hits = [s.step for s in acc.Scalars("val/acc") if s.value >= target]
        steps[act] = hits[0] if hits else None
        shown = steps[act] if steps[act] is not None else "never (60 epochs)"
        print(f"{act:8s} steps to val/acc ≥ {target}: {shown}   (best {metrics['val/acc_best']:.4f})")
    relu = steps["relu"]
    slower = {}
    for act in ("tanh", "sigmoid"):
        slower[act] = relu is not None and (steps[act] is None or steps[act] > 2 * relu)
        ratio = "never" if steps[act] is None else f"{steps[act] / relu:.2f}×" if relu else "-"
        print(f"{act} needs {ratio} the steps of ReLU: {'slower' if slower[act] else 'not 2× slower'}")
    fails = [a for a, ok in slower.items() if not ok]
    return verdict("relu_vs_sigmoid", not fails, f"not for {', '.join(fails)} on digits" if fails else "")


CLAIMS = {
    "zero_init": zero_init,
    "depth_std": depth_std,
    "normal_sigma": normal_sigma,
    "selu": selu,
    "relu_vs_sigmoid": relu_vs_sigmoid,
}
