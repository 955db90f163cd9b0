"""Datasets held in memory as uint8 tensors and served as whole batches."""
