"""Every activation and every init with every model: fits one batch, or is refused in one line."""

from pathlib import Path

import pytest
from conftest import SMALL_MODELS
from smoke_checks import fit

from ablation_lab.errors import ConfigError
from ablation_lab.train import train

CONF = Path(__file__).resolve().parents[1] / "conf"
SMALL = SMALL_MODELS
REFUSED = {
    ("activation=maxout", "resnet"): "changes layer width",
    **{("init=fixup", m): "init=fixup needs model=resnet" for m in ("mlp", "cnn", "plain_deep")},
}


def options(group: str) -> list[str]:
    return [f"{group}={p.stem}" for p in sorted((CONF / group).glob("*.yaml")) if p.stem != "pretrained"]


@pytest.mark.parametrize("model", list(SMALL))
@pytest.mark.parametrize("option", options("activation") + options("init"))
def test_option_with_model_fits_one_batch_or_is_refused(make_cfg, monkeypatch, option, model):
    extra = ["model.norm=none"] if (option, model) == ("init=fixup", "resnet") else []
    cfg = make_cfg(option, *SMALL[model], *extra)
    if (option, model) in REFUSED:
        with pytest.raises(ConfigError, match=REFUSED[option, model]):
            train(cfg)
        return
    fit(cfg, monkeypatch)


@pytest.mark.parametrize("model", list(SMALL))
def test_pretrained_with_each_model_fits_one_batch(make_cfg, tmp_path, monkeypatch, model):
    train(make_cfg(*SMALL[model]))
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    moved = tmp_path / "source.ckpt"
    ckpt.rename(moved)
    fit(make_cfg(*SMALL[model], "init=pretrained", f"init.path={moved}"), monkeypatch)
