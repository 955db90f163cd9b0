"""The chapter's pictures: per-layer activation and gradient statistics, in TensorBoard and PNG."""
