"""What the launching process tells a sweep's jobs for their progress line (utils/progress.py):
how many jobs the sweep has and when it started. Environment variables reach every launcher's
workers that inherit the environment; without them a job shows its own progress only."""

SWEEP_JOBS = "ABLATION_LAB_SWEEP_JOBS"
SWEEP_START = "ABLATION_LAB_SWEEP_START"
