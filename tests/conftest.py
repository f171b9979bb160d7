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


import pytest  # noqa: E402  pylint: disable=g-import-not-at-top,wrong-import-position


def _jit_cache_works() -> bool:
  f = jax.jit(lambda x: x + 1)
  f(jax.numpy.ones(2))
  f(jax.numpy.ones(2))
  return f._cache_size() == 1  # pylint: disable=protected-access


_REPORTED: list = []


@pytest.fixture(autouse=True)
def _jit_cache_is_left_working(request):
  """A test must not leave JAX's jit cache disabled for the tests after it.

  Several tests assert that a second call does not recompile
  (``_cache_size() == 1``); a test that left the dispatch cache off would make
  them fail far from the cause. This names the culprit instead.
  """
  yield
  if _REPORTED or _jit_cache_works():
    return
  _REPORTED.append(request.node.nodeid)  # report the first culprit only
  pytest.fail(f'{request.node.nodeid} left the jit dispatch cache disabled')
