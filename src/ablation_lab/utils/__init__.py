"""Small helpers of the CLIs: run folders, config checks, hparams, summaries."""
