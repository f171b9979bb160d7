"""Optimizers: short chains of transformations; public names are re-exported by ``gradtx``."""
