"""Test configuration: 8 simulated CPU devices, set before JAX is imported."""

import os

# 8 simulated devices; and LLVM's cheaper pipeline for the thousands of small
# programs the suite compiles (about a fifth less CPU time; the programs and
# their float semantics are XLA's, only the machine-code optimisation is
# lighter). Subprocesses started by tests inherit both.
os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '')
    + ' --xla_force_host_platform_device_count=8'
    + ' --xla_backend_optimization_level=0'
    + ' --xla_llvm_disable_expensive_passes=true'
).strip()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ.setdefault('KERAS_BACKEND', 'jax')

import jax  # noqa: E402  pylint: disable=g-import-not-at-top

jax.config.update('jax_numpy_rank_promotion', 'raise')
