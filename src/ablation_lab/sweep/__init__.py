"""Sweeps at scale: one folder whatever the launcher, a fair share of cores or GPUs per job,
finished cells kept, killed ones resumed."""
