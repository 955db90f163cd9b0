"""Start from the weights of an earlier run's checkpoint (transfer learning).

Every tensor whose name and shape match is copied; a classifier head whose shape differs (another
number of classes) stays freshly initialized. `freeze_backbone` trains only the head.
"""

from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.utils.checkpoints import load_checkpoint


def head_of(model: nn.Module) -> nn.Linear:
    """The classifier: the last Linear layer of the model."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


def load_pretrained(model: nn.Module, cfg) -> nn.Module:
    path = cfg.get("path")
    if not path:
        raise ConfigError("init=pretrained needs init.path=<run>/checkpoints/last.ckpt")
    state = load_checkpoint(path, "init.path")
    weights = {k[len("net.") :]: v for k, v in state.get("state_dict", {}).items() if k.startswith("net.")}
    if not weights:
        raise ConfigError(f"init.path='{path}' holds no network weights of an ablation-train run")
    own = model.state_dict()
    matching = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    head = head_of(model)
    head_names = {n for n, p in model.named_parameters() if p is head.weight or p is head.bias}
    missing = set(own) - set(matching) - head_names
    if missing:
        raise ConfigError(
            f"init.path='{path}' does not fit this model: {len(missing)} tensors missing or of another "
            f"shape (e.g. {sorted(missing)[0]}); use the model, activation and data shape it was trained with"
        )
    model.load_state_dict(matching, strict=False)
    if cfg.get("freeze_backbone", False):
        for p in model.parameters():
            p.requires_grad_(False)
        for p in head.parameters():
            p.requires_grad_(True)
    return model
