"""Models take a `Blocks` factory (activation, norm, dropout) and never branch on technique names."""
