"""Techniques: one registry per config group, mirrored by conf/<group>/<option>.yaml."""
