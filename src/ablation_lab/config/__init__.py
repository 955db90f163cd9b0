"""What a config may hold, checked before anything runs and without importing torch: every knob's
type and range (schema.py, one table), the relations between knobs (relations.py), and the
callables a config may instantiate (targets.py)."""
