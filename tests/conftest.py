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


_TESTS_SINCE_CLEAR = [0]


def pytest_runtest_teardown(item, nextitem):  # pylint: disable=unused-argument
  """Clears JAX's caches every 200 tests of a worker (see pytest_runtest_setup for the rest).

  A long-lived test process jits thousands of distinct functions; past the
  capacity of JAX's dispatch cache, a fresh ``jax.jit`` function no longer
  records its executable (``_cache_size()`` stays 0), and the suite's
  no-recompilation checks would fail for reasons of the test process, not of
  gradtx. Each check passes in a fresh process.
  """
  _TESTS_SINCE_CLEAR[0] += 1
  if _TESTS_SINCE_CLEAR[0] >= 200:
    _TESTS_SINCE_CLEAR[0] = 0
    jax.clear_caches()


def _clear_executable_caches():
  """Empties the C++ caches of jitted executables that ``_cache_size`` reads.

  Unlike ``jax.clear_caches()``, it keeps the Python-level staging and
  compilation caches, so that the test's eager operations do not all compile
  again (that made each no-recompilation test take about 4 s).
  """
  from jax._src import pjit  # pylint: disable=g-import-not-at-top
  pjit._cpp_pjit_cache_fun_only.clear()  # pylint: disable=protected-access
  pjit._cpp_pjit_cache_explicit_attributes.clear()  # pylint: disable=protected-access
  jax._src.lib._jax.PjitFunctionCache.clear_all()  # pylint: disable=protected-access


def pytest_runtest_setup(item):
  """A test that reads ``_cache_size()`` starts from empty executable caches."""
  fn = getattr(item, 'function', None)
  code = getattr(fn, '__code__', None)
  if code is not None and '_cache_size' in code.co_names:
    _clear_executable_caches()
