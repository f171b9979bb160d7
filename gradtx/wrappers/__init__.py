"""Wrappers around transformations (masking, partitions, accumulation, ...); re-exported by ``gradtx``."""
