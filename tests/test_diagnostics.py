"""Per-layer diagnostics: their math, what reaches TensorBoard and metrics.json, ablation-diagnose."""

import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from ablation_lab.diagnostics import probes
from ablation_lab.train import train

import tb_events

DEEP = ["model=plain_deep", "model.depth=30", "model.width=256"]


def test_dead_fraction_counts_units_zero_on_the_whole_batch():
    out = torch.relu(torch.randn(64, 10))
    out[:, [2, 7]] = 0
    assert probes.activation_stats(nn.ReLU(), out, 0.05).dead_fraction == pytest.approx(0.2)


def test_saturated_fraction_of_sigmoid_and_tanh():
    x = torch.tensor([-10.0, -0.1, 0.0, 0.1, 10.0])  # two of five saturate
    assert probes.activation_stats(nn.Sigmoid(), torch.sigmoid(x), 0.05).saturated_fraction == pytest.approx(
        0.4
    )
    assert probes.activation_stats(nn.Tanh(), torch.tanh(x), 0.05).saturated_fraction == pytest.approx(0.4)
    assert probes.activation_stats(nn.ReLU(), torch.relu(x), 0.05).saturated_fraction is None


def test_update_ratio_is_norm_of_change_over_norm_of_weight():
    net = nn.Linear(3, 2)
    before = [net.weight.detach().clone()]
    with torch.no_grad():
        net.weight.mul_(1.1)
    assert probes.update_ratios(before, net)[0] == pytest.approx(0.1, rel=1e-4)


def test_step0_numbers_of_30_layer_xavier_vs_kaiming_relu_differ_as_the_chapter_says(make_cfg, tmp_path):
    stds = {}
    for init in ("xavier_normal", "kaiming_normal"):
        train(make_cfg(*DEEP, f"init={init}"))
        record = json.loads((tmp_path / "metrics.json").read_text())
        stds[init] = [record["diagnostics_step0"][f"z_diag/act_std/layer_{i:02d}"] for i in (1, 30)]
    assert stds["xavier_normal"][1] < 1e-3 * stds["xavier_normal"][0]  # shrinks ~1/√2 per layer
    assert 0.5 < stds["kaiming_normal"][1] / stds["kaiming_normal"][0] < 2  # kept


def test_tensorboard_holds_diag_scalars_and_histograms(make_cfg, tmp_path):
    train(make_cfg("model=plain_deep", "model.depth=3", "activation=tanh"))
    acc = tb_events.load(tmp_path)
    scalars, hists = set(acc.Tags()["scalars"]), set(acc.Tags()["histograms"])
    for kind in ("act_mean", "act_std", "dead_frac", "sat_frac", "grad_norm", "update_ratio"):
        assert f"z_diag/{kind}/layer_01" in scalars, kind
    assert {"z_diag/act_hist/layer_03", "z_diag/grad_hist/layer_01"} <= hists
    for tag in hists:  # every measured step's histogram: its counts add up to the values it saw
        for event in acc.Histograms(tag):
            h = event.histogram_value
            assert h.num > 0 and sum(h.bucket) == h.num and h.min <= h.max, tag
    assert 0 in {e.step for e in acc.Scalars("z_diag/act_std/layer_01")}  # the init picture


def test_histogram_counts_as_torch_histc_and_skips_what_is_not_finite():
    from ablation_lab.diagnostics.callback import histogram_value

    values = torch.randn(4096, generator=torch.Generator().manual_seed(0)) * 3 + 1
    (h,) = histogram_value("t", values)
    expected = torch.histc(values, 64, values.min().item(), values.max().item())
    assert h.tag == "t" and h.histo.num == 4096 and sum(h.histo.bucket) == 4096
    # the same bins; a value on a bin edge may land on either side of it (float rounding)
    assert (torch.tensor(h.histo.bucket) - expected).abs().max() <= 1
    assert h.histo.min == pytest.approx(values.min().item()) and h.histo.max == pytest.approx(
        values.max().item()
    )
    assert h.histo.sum == pytest.approx(values.sum().item(), rel=1e-5)
    assert h.histo.bucket_limit[-1] == pytest.approx(values.max().item())
    (d,) = histogram_value("d", torch.tensor([1.0, float("nan"), float("inf"), 3.0]))
    assert d.histo.num == 2 and d.histo.min == 1.0 and d.histo.max == 3.0
    assert histogram_value("n", torch.full((5,), float("nan"))) == []


def test_diagnostics_off_leaves_no_trace(make_cfg, tmp_path):
    train(make_cfg("~callbacks.diagnostics"))
    assert not any(t.startswith("z_diag/") for t in tb_events.load(tmp_path).Tags()["scalars"])
    assert "diagnostics_step0" not in json.loads((tmp_path / "metrics.json").read_text())


@pytest.mark.slow
def test_ablation_diagnose_writes_pngs_and_prints_the_std_table(tmp_path):
    tool = f"{sys.executable[: -len('python')]}ablation-diagnose"
    proc = subprocess.run(
        [tool, *DEEP, "init=xavier_normal"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (out,) = (tmp_path / "logs" / "diagnose").iterdir()
    assert (out / "activations.png").stat().st_size > 10_000 and (out / "std.png").is_file()
    table = [line.split() for line in proc.stdout.splitlines() if line.strip().startswith("layer_")]
    assert len(table) == 30 and float(table[-1][2]) < 1e-3 * float(table[0][2])
    bad = subprocess.run([tool, "init=xavierr"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "unknown init 'xavierr'" in bad.stderr


def test_gradient_stats_norm_and_sample():
    net = nn.Linear(300, 200)
    net(torch.randn(4, 300)).sum().backward()
    ((norm, sample),) = probes.gradient_stats(net)
    assert norm == pytest.approx(net.weight.grad.norm().item())
    assert 0 < sample.numel() <= 2 * probes.HIST_SAMPLES
    assert probes.gradient_stats(nn.Linear(3, 2)) == [None]


def test_dropconnect_layers_show_their_stored_weights_to_the_diagnostics(make_cfg, tmp_path):
    """DropConnect masks inside the layer's forward: gradients and updates are the stored weight's."""
    train(make_cfg("regularization=dropconnect", "callbacks.diagnostics.every_n_steps=1"))
    record = json.loads((tmp_path / "metrics.json").read_text())["diagnostics_step0"]
    for layer in ("layer_01", "layer_02", "layer_03"):
        assert record[f"z_diag/grad_norm/{layer}"] > 0
        assert 0 < record[f"z_diag/update_ratio/{layer}"] < 0.1  # one AdamW step, not two different masks


def test_histograms_are_written_by_rank_zero_only():
    """Under DDP, ranks above 0 hold Lightning's stand-in experiment, whose every call returns None:
    writing their histograms must be a no-op there, not a crash of the rank (and of the run)."""
    from lightning.fabric.loggers.logger import _DummyExperiment

    from ablation_lab.diagnostics.callback import write_histograms

    write_histograms(_DummyExperiment(), {"z_diag/act_hist/layer_01": torch.randn(100)}, step=0)
