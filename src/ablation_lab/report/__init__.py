"""Reading a sweep: per-cell statistics over seeds, verdicts beyond seed noise, figures, report."""
