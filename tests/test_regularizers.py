"""The math of each regularizer in techniques/regularizers.py and how they compose."""

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks
from ablation_lab.techniques.activations import build_activation
from ablation_lab.techniques.regularizers import build_regularization


def plan(**groups):
    return build_regularization(OmegaConf.create(groups))


def test_none_is_an_empty_plan():
    p = plan()
    assert p.names == [] and p.dropout is None and not p.batchnorm and p.penalties == []


def test_two_regularizers_compose():
    p = plan(dropout={"p": 0.3}, weight_decay={"lambda": 1e-3, "decoupled": True})
    assert p.names == ["dropout", "weight_decay"]
    assert p.dropout().p == 0.3 and p.weight_decay == 1e-3 and p.decoupled_weight_decay


def test_inverted_dropout_keeps_training_mean_and_is_identity_at_eval():
    torch.manual_seed(0)
    drop = plan(dropout={"p": 0.5}).dropout()
    x = torch.ones(1_000_000)
    y = drop.train()(x)
    assert (y == 0).float().mean().item() == pytest.approx(0.5, abs=0.005)
    assert y.mean().item() == pytest.approx(1.0, rel=0.02)
    assert torch.equal(drop.eval()(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rate_out_of_range_is_refused(p):
    with pytest.raises(ConfigError, match=rf"regularization.dropout.p={p} is out of range"):
        plan(dropout={"p": p})


def test_coupled_weight_decay_gradient_is_lambda_w_on_weights_only():
    lam = 0.01
    net = nn.Linear(5, 3)
    (penalty,) = plan(weight_decay={"lambda": lam, "decoupled": False}).penalties
    penalty(net).backward()
    torch.testing.assert_close(net.weight.grad, lam * net.weight.detach())
    assert net.bias.grad is None


def test_batchnorm_block_order_and_eval_uses_running_stats():
    act = build_activation(OmegaConf.create({"name": "relu"}))
    p = plan(batchnorm={"order": "bn_act_dropout"}, dropout={"p": 0.5})
    block = Blocks(act, p.batchnorm, p.order, p.dropout).linear(4, 4)
    assert [type(m).__name__ for m in block] == ["Linear", "BatchNorm1d", "ReLU", "Dropout"]
    p2 = plan(batchnorm={"order": "dropout_bn_act"}, dropout={"p": 0.5})
    block2 = Blocks(act, p2.batchnorm, p2.order, p2.dropout).linear(4, 4)
    assert [type(m).__name__ for m in block2] == ["Linear", "Dropout", "BatchNorm1d", "ReLU"]
    bn = block[1]
    torch.manual_seed(0)
    block.train()(torch.randn(256, 4) * 3 + 5)
    block.eval()
    x = torch.randn(8, 4)
    expected = (block[0](x) - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    torch.testing.assert_close(bn(block[0](x)), expected * bn.weight + bn.bias)


def test_unknown_regularizer_and_order_are_refused():
    with pytest.raises(ConfigError, match="unknown regularization 'dropblock'"):
        plan(dropblock={"p": 0.1})
    with pytest.raises(ConfigError, match="order 'act_bn'"):
        plan(batchnorm={"order": "act_bn"})


def test_l1_gradient_is_lambda_sign_w():
    lam = 0.003
    net = nn.Linear(5, 3)
    (penalty,) = plan(l1={"lambda": lam}).penalties
    penalty(net).backward()
    torch.testing.assert_close(net.weight.grad, lam * net.weight.detach().sign())


def test_plain_dropout_matches_inverted_in_expectation():
    torch.manual_seed(0)
    x = torch.rand(1_000_000) + 0.5
    inverted, plain_ = (
        plan(dropout={"p": 0.3}).dropout(),
        plan(dropout={"p": 0.3, "inverted": False}).dropout(),
    )
    # inverted: E_train = x, test = x; plain: E_train = (1−p)x, test = (1−p)x; ratio train/test equal
    assert inverted.train()(x).mean().item() / inverted.eval()(x).mean().item() == pytest.approx(
        1.0, rel=0.01
    )
    assert plain_.train()(x).mean().item() / plain_.eval()(x).mean().item() == pytest.approx(1.0, rel=0.01)
    torch.testing.assert_close(plain_.eval()(x), 0.7 * x)
    assert torch.equal(plain_.eval()(x), plain_.eval()(x))


def test_alpha_dropout_keeps_selu_mean_and_variance():
    torch.manual_seed(0)
    h = torch.selu(torch.randn(2_000_000))
    out = plan(alpha_dropout={"p": 0.2}).dropout().train()(h)
    assert out.mean().item() == pytest.approx(h.mean().item(), abs=0.01)
    assert out.var().item() == pytest.approx(h.var().item(), rel=0.02)


def test_confidence_penalty_subtracts_beta_times_entropy():
    from ablation_lab.module import ClassifierModule

    p = plan(confidence_penalty={"beta": 0.5})
    module = ClassifierModule(nn.Linear(2, 3), nn.Identity(), nn.Sequential(), OmegaConf.create({}), p, 3)
    logits, y = torch.randn(8, 3), torch.randint(0, 3, (8,))
    probs = logits.softmax(-1)
    entropy = -(probs * probs.log()).sum(-1).mean()
    torch.testing.assert_close(
        module.loss(logits, y), torch.nn.functional.cross_entropy(logits, y) - 0.5 * entropy
    )


def test_stochastic_depth_survival_rate_linear_decay_and_deterministic_eval():
    from ablation_lab.models.resnet import ResNet

    act = build_activation(OmegaConf.create({"name": "relu"}))
    p = plan(stochastic_depth={"p_last": 0.5})
    blocks = Blocks(act, drop_path_last=p.drop_path)
    drops = [blocks.drop_path(i, 9) for i in range(1, 10)]
    assert [round(1 - d.p, 4) for d in drops] == [round(1 - i / 9 * 0.5, 4) for i in range(1, 10)]
    torch.manual_seed(0)
    last = drops[-1].train()
    kept = (last(torch.ones(20000, 4)) != 0).all(1).float().mean().item()
    assert kept == pytest.approx(0.5, abs=0.015)
    net = ResNet((3, 8, 8), 10, blocks, depth=20).eval()
    x = torch.randn(4, 3, 8, 8)
    torch.testing.assert_close(net(x), net(x), rtol=0, atol=1e-6)  # a dropped block moves it by ≫ 1e-3


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_a_runs_stochastic_depth_drops_per_example_or_per_mini_batch(make_cfg, mode):
    """row: each example keeps a branch with probability p_l on its own; batch (Huang et al. 2016):
    the whole mini-batch keeps or drops it together. Read off the ResNet a run builds."""
    from torchvision.ops import StochasticDepth

    from ablation_lab.build import build_model

    knobs = ["regularization=stochastic_depth", f"regularization.stochastic_depth.mode={mode}"]
    net = build_model(make_cfg("model=resnet", "model.depth=8", *knobs))
    drops = [m for m in net.modules() if isinstance(m, StochasticDepth)]
    assert len(drops) == 3 and {d.mode for d in drops} == {mode}
    torch.manual_seed(0)
    with torch.no_grad():  # the last branch, p_L = 0.5: a mask row per call, a column per example
        masks = torch.stack([(drops[-1].train()(torch.ones(64, 4)) != 0).all(1) for _ in range(400)]).float()
    assert masks.mean().item() == pytest.approx(0.5, abs=0.03)
    kept_per_call = masks.mean(1)
    if mode == "batch":
        assert set(kept_per_call.tolist()) == {0.0, 1.0}
    else:
        assert ((kept_per_call > 0) & (kept_per_call < 1)).all()
        assert kept_per_call.std().item() == pytest.approx((0.25 / 64) ** 0.5, rel=0.2)


def test_fractional_max_pool_replaces_pooling_and_refuses_models_without_it():
    from ablation_lab.models.cnn import CNN

    act = build_activation(OmegaConf.create({"name": "relu"}))
    p = plan(fractional_max_pool={"ratio": 0.75, "test_passes": 3})
    net = CNN((1, 28, 28), 10, Blocks(act, pool_ratio=p.pool_ratio), channels=(4, 8))
    pools = [m for m in net.modules() if isinstance(m, nn.FractionalMaxPool2d)]
    assert len(pools) == 2 and p.test_passes == 3
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_early_stopping_becomes_a_lightning_callback_of_the_run(make_cfg):
    from lightning.pytorch.callbacks import EarlyStopping

    from ablation_lab.build import build_callbacks

    def stoppers(*overrides):
        cfg = make_cfg(*overrides)
        callbacks = build_callbacks(cfg, build_regularization(cfg.regularization), sweep=False)
        return [c for c in callbacks if isinstance(c, EarlyStopping)]

    (cb,) = stoppers("regularization=early_stopping", "regularization.early_stopping.patience=2")
    assert cb.patience == 2 and cb.monitor == "val/acc" and cb.mode == "max"
    assert stoppers() == []


COMPILED_SLOW = pytest.param(True, marks=pytest.mark.slow, id="compiled")


@pytest.mark.parametrize("compiled", [pytest.param(False, id="eager"), COMPILED_SLOW])
def test_aux_classifier_trains_its_heads_and_inference_never_runs_them(make_cfg, compiled):
    import lightning as L
    import torch._dynamo

    from ablation_lab.build import build_datamodule, build_module

    def fit(module, dm):
        quiet = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False}
        L.Trainer(fast_dev_run=True, **quiet).fit(module, dm)

    net = ("model=mlp", "model.depth=4", "model.width=32")
    cfg = make_cfg("regularization=aux_classifier", *net)
    cfg.compile = compiled  # compiled: the heads read the features of the compiled net's own pass
    torch._dynamo.reset()
    if compiled:  # a run before it in this process compiled the same net without hooks (a sweep)
        earlier = make_cfg(*net)
        earlier.compile = True
        dm = build_datamodule(earlier)
        fit(build_module(earlier, dm), dm)
    dm = build_datamodule(cfg)
    module = build_module(cfg, dm)
    (head,) = module.aux_heads.heads
    assert head[-1].in_features == 32
    before = head[-1].weight.detach().clone()
    calls = []
    head.register_forward_hook(lambda *a: calls.append(1))
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    fit(module, dm)
    assert not torch.equal(head[-1].weight.detach(), before)  # the aux loss reached it
    assert (torch._dynamo.utils.counters["stats"]["unique_graphs"] > graphs) == compiled
    n = len(calls)
    module.eval()(dm.val.x[:4])
    module.predict(dm.val.x[:4])
    assert len(calls) == n  # inference ignores the heads


@pytest.mark.parametrize(
    ("depth", "positions", "tapped"),
    [(2, [0.5], [1]), (3, [0.5], [2]), (9, [0.5], [5]), (4, [0.0, 0.99], [1, 3])],
)
def test_aux_classifier_taps_an_intermediate_block_never_the_last(make_cfg, depth, positions, tapped):
    from ablation_lab.build import build_model
    from ablation_lab.techniques.aux_heads import tap_modules
    from ablation_lab.techniques.regularizer_modules import feature_taps

    net = build_model(make_cfg("regularization=aux_classifier", f"model.depth={depth}", "model.width=16"))
    blocks = feature_taps(net)
    assert [blocks.index(m) + 1 for m in tap_modules(net, positions)] == tapped


def test_aux_classifier_on_a_single_hidden_block_is_refused(make_cfg):
    from ablation_lab.build import build_model

    with pytest.raises(ConfigError, match="needs at least 2 hidden blocks.*has 1"):
        build_model(make_cfg("regularization=aux_classifier", "model.depth=1"))


@pytest.mark.parametrize("order", [["dropout", "alpha_dropout"], ["alpha_dropout", "dropout"]])
def test_dropout_and_alpha_dropout_exclude_each_other_in_either_order(order):
    with pytest.raises(
        ConfigError, match=rf"regularization=\[{order[0]},{order[1]}\]: choose one of the two"
    ):
        plan(**{name: {"p": 0.1} for name in order})


def _dropout_positions(net) -> list[str]:
    """For each dropout module: the type of the layer right before it ('Linear', 'Conv2d', 'Flatten'...)."""
    flat = [m for m in net.modules() if not list(m.children())]
    return [type(flat[i - 1]).__name__ for i, m in enumerate(flat) if isinstance(m, nn.Dropout)]


@pytest.mark.parametrize(
    ("model", "placement", "expected"),
    [
        (["model=mlp"], "fc", ["ReLU", "ReLU"]),  # after both hidden blocks, none on the input
        (["model=mlp"], "head", ["ReLU"]),
        (["model=cnn"], "fc", ["Flatten"]),  # a conv net's only fc layer is the classifier
        (["model=cnn"], "blocks", ["ReLU", "ReLU", "ReLU"]),
        (["model=resnet", "model.depth=8"], "fc", ["Flatten"]),
    ],
)
def test_dropout_placement_puts_dropout_where_it_says(make_cfg, model, placement, expected):
    from ablation_lab.build import build_model

    net = build_model(
        make_cfg("regularization=dropout", f"regularization.dropout.placement={placement}", *model)
    )
    assert _dropout_positions(net) == expected


@pytest.mark.parametrize(("optim", "decoupled", "lam"), [("adamw", True, 0.1), ("sgd", False, 5e-4)])
def test_weight_decay_default_is_the_literature_value_of_its_form(make_cfg, optim, decoupled, lam):
    p = build_regularization(make_cfg(f"optim={optim}", "regularization=weight_decay").regularization)
    assert p.decoupled_weight_decay is decoupled and p.weight_decay == lam
    assert len(p.penalties) == (0 if decoupled else 1)
