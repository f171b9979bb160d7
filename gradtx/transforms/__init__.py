"""Gradient transformations, one module per concept; public names are re-exported by ``gradtx``."""
