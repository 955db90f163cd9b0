"""Effects the chapter predicts, measured by real short trainings on digits (no special cases)."""

import pytest

from ablation_lab.train import train


@pytest.mark.slow
def test_zero_init_stays_at_chance_while_kaiming_learns(make_cfg):
    fit = ["trainer.max_epochs=5"]
    zeros = train(make_cfg("init=zeros", *fit, fast=False))
    kaiming = train(make_cfg("init=kaiming_normal", *fit, fast=False))
    assert zeros["val/acc_best"] < 0.2  # 10 classes: chance is 0.1
    assert kaiming["val/acc_best"] > 0.9
