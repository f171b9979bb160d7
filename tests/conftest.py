"""Test configuration: 8 simulated CPU devices, set before JAX is imported."""

import os

os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=8'
).strip()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ.setdefault('KERAS_BACKEND', 'jax')

import jax  # noqa: E402  pylint: disable=g-import-not-at-top

jax.config.update('jax_numpy_rank_promotion', 'raise')
