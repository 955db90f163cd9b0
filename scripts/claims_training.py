"""The chapter's claims about normalization and regularization (techniques.md §6, the last three):
trained over seeds, each with its numbers and a Welch test where seeds allow one."""

from claims_lib import Budget, beyond_noise, compare, describe, fit_seeds, verdict

from ablation_lab.report.stats import welch


def fixup(budget: Budget) -> bool:
    """Fixup trains a deep ResNet without normalization (ResNet-56 on digits): within 0.03 of the
    BatchNorm ResNet, while the same net without normalization under Kaiming init does not train."""
    depth = 56 if budget.scale == 1.0 else 32
    base = ["model=resnet", f"model.depth={depth}", f"trainer.max_epochs={budget.epochs(8)}"]
    arms = {
        "batchnorm": base,
        "fixup (no norm)": [*base, "model.norm=none", "init=fixup"],
        "kaiming (no norm)": [*base, "model.norm=none", "init=kaiming_normal"],
    }
    acc = {name: fit_seeds(budget, *ov) for name, ov in arms.items()}
    print(f"ResNet-{depth}, {budget.epochs(8)} epochs, AdamW 2e-3; test/acc over seeds:")
    for name, values in acc.items():
        print(f"  {name:18s} {describe(values)}")
    print(f"  fixup − batchnorm: {compare(acc['fixup (no norm)'], acc['batchnorm'])}")
    print(f"  fixup − kaiming (no norm): {compare(acc['fixup (no norm)'], acc['kaiming (no norm)'])}")
    close = welch(acc["fixup (no norm)"], acc["batchnorm"]).diff > -0.03
    fails = welch(acc["fixup (no norm)"], acc["kaiming (no norm)"]).diff > 0.2
    why = [] if close else ["fixup more than 0.03 below batchnorm"]
    why += [] if fails else ["the net without normalization trains too"]
    return verdict("fixup", close and fails, "; ".join(why))


def bn_before_dropout(budget: Budget) -> bool:
    """BN → act → dropout beats dropout → BN → act (the variance shift, Li et al. 2019): CNN on
    digits with BN and dropout p=0.3 in every conv block; better test/acc beyond seed noise."""
    base = [
        "model=cnn",
        "regularization=[batchnorm,dropout]",
        "regularization.dropout.p=0.3",
        "regularization.dropout.placement=blocks",
        f"trainer.max_epochs={budget.epochs(15)}",
    ]
    acc = {
        order: fit_seeds(budget, *base, f"regularization.batchnorm.order={order}")
        for order in ("bn_act_dropout", "dropout_bn_act")
    }
    print(f"CNN 32-64-128, {budget.epochs(15)} epochs; test/acc over seeds:")
    for order, values in acc.items():
        print(f"  {order:15s} {describe(values)}")
    print(f"  bn_act_dropout − dropout_bn_act: {compare(acc['bn_act_dropout'], acc['dropout_bn_act'])}")
    ok = beyond_noise(acc["bn_act_dropout"], acc["dropout_bn_act"])
    seeds = len(acc["bn_act_dropout"]) > 1
    why = "" if ok else "difference within seed noise" if seeds else "one seed"
    return verdict("bn_before_dropout", ok, why)


def small_data(budget: Budget) -> bool:
    """Mixup and cutout help most on small training sets: their test/acc gain over no
    regularization with 10% of the training split is positive beyond seed noise (Welch p < 0.05)
    and larger than their gain with all of it."""
    epochs = budget.epochs(30)
    gains = {}
    print(f"CNN 32-64-128, {epochs} epochs (the 10% runs take 10× fewer steps); test/acc over seeds:")
    acc = {
        (reg, frac): fit_seeds(
            budget,
            "model=cnn",
            f"regularization={reg}",
            f"data.train_fraction={frac}",
            f"trainer.max_epochs={epochs}",
        )
        for frac in (0.1, 1.0)
        for reg in ("none", "mixup", "cutout")
    }
    for (reg, frac), values in acc.items():
        print(f"  {reg:7s} {int(frac * 100):3d}%  {describe(values)}")
    for reg in ("mixup", "cutout"):
        small, full = (welch(acc[reg, f], acc["none", f]) for f in (0.1, 1.0))
        gains[reg] = beyond_noise(acc[reg, 0.1], acc["none", 0.1]) and small.diff > full.diff
        print(
            f"  {reg}: gain at 10% {compare(acc[reg, 0.1], acc['none', 0.1])}; "
            f"at 100% {compare(acc[reg, 1.0], acc['none', 1.0])}"
        )
    fails = [r for r, ok in gains.items() if not ok]
    return verdict("small_data", not fails, f"not for {', '.join(fails)} on digits" if fails else "")


CLAIMS = {"fixup": fixup, "bn_before_dropout": bn_before_dropout, "small_data": small_data}
