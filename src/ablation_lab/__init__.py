"""ablation-lab: every technique of the one-time setup of training as one Hydra axis."""

__version__ = "0.1.0"
