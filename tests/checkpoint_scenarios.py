"""Training runs for the exact-resume tests, and the worker that resumes them.

Each :class:`Scenario` is a pure, jittable training step on a carry
``{'params', 'opt_state', 'extra'}``. ``tests/test_checkpoint_resume.py``
runs this file as a script twice. First

  python tests/checkpoint_scenarios.py train CKPT_DIR FIRST.pkl

runs every scenario for ``STEPS`` steps, saving the carries at step ``K`` with
:func:`gradtx.checkpoint.save`. Then a fresh process that never ran the first
``K`` steps,

  python tests/checkpoint_scenarios.py resume CKPT_DIR OUT.pkl

rebuilds the optimizers, restores the carries, continues them to ``STEPS``
and writes the results for the test to compare bit for bit.

The worker has other modes used by the fault and sharding tests (see
``main``). Nothing runs on import.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import sys
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

import gradtx
import gradtx.checkpoint  # not yet re-exported by gradtx
from tests.test_battery import loss_fn, make_params  # the battery's problem

STEPS = 12
K = 5
_INF_STEP = 1  # the step whose gradients overflow in the loss-scale scenario


def lr_schedule(step):
  """A learning rate that changes every step (warmup, then cosine)."""
  step = jnp.asarray(step, jnp.float32)
  warm = jnp.minimum((step + 1.0) / 4.0, 1.0)
  return 0.05 * warm * (0.55 + 0.45 * jnp.cos(jnp.pi * step / 20.0))


# Monitored values for the plateau and early-stopping scenarios: the best is
# at step 1, so that at K the patience is partly used up.
VALUES = jnp.array([5.0, 4.0, 4.5, 4.2, 4.1, 4.3, 4.4, 4.6, 4.8, 4.9, 5.0, 5.1])


@dataclasses.dataclass(frozen=True)
class Scenario:
  """A training run to interrupt at K and resume.

  Attributes:
    name: test id.
    opt: the optimizer.
    step: ``step(carry, t) -> carry``, pure.
    params: ``params() -> params`` (the optimizer's params).
    extra: ``extra() -> tree`` of other state (an early-stopping monitor).
    at_k: ``at_k(carry) -> str or None``: why the carry at K is not in the
      middle of what the scenario means to interrupt (None when it is).
  """

  name: str
  opt: Any
  step: Callable[[Any, Any], Any]
  params: Callable[[], Any] = make_params
  extra: Callable[[], Any] = lambda: ()
  at_k: Optional[Callable[[Any], Optional[str]]] = None

  def init(self) -> dict:
    params = self.params()
    return {'params': params, 'opt_state': self.opt.init(params),
            'extra': self.extra()}


def _grads(params):
  """The gradient of the battery's ``loss_fn``, written out (cheaper to trace)."""
  def leaf(i, p):
    q = p.astype(jnp.float32)
    c = 1.0 + jnp.arange(q.size, dtype=jnp.float32).reshape(q.shape) / q.size
    return (c * (q - 0.3 * i) + 0.3 * jnp.cos(3.0 * q)).astype(p.dtype)
  leaves, treedef = jax.tree.flatten(params)
  return treedef.unflatten([leaf(i, p) for i, p in enumerate(leaves)])


def plain_step(opt, **extra_args):
  def step(carry, t):
    params, state = carry['params'], carry['opt_state']
    kw = {k: f(t) for k, f in extra_args.items()}
    updates, state = opt.update(_grads(params), state, params, **kw)
    return dict(carry, params=gradtx.apply_updates(params, updates), opt_state=state)
  return step


def _battery_scenarios() -> list[Scenario]:
  from tests.cases import all_cases  # pylint: disable=g-import-not-at-top
  out = []
  for case in all_cases():
    # Orbax refuses GaLore's zero-size projectors; gradtx.distributed wrapper
    # states live on a mesh (tests/test_distributed.py). See
    # tests/test_checkpoint_orbax.py.
    if case.name == 'galore' or case.name.startswith(('zero_', 'agreed_')):
      continue
    opt = case.make(lr_schedule)
    out.append(Scenario(f'battery/{case.name}', opt, plain_step(opt)))
  return out


def _loss_scale_scenario() -> Scenario:
  opt = gradtx.with_loss_scale(
      gradtx.adam(lr_schedule),
      gradtx.DynamicLossScale(init_scale=2.0**10, growth_interval=4))

  def step(carry, t):
    params, state = carry['params'], carry['opt_state']
    grads = jax.grad(lambda p: state.loss_scale.scale(loss_fn(p)))(params)
    grads = jax.tree.map(lambda g: jnp.where(t == _INF_STEP, jnp.inf, g), grads)
    updates, state = opt.update(grads, state, params)
    return dict(carry, params=gradtx.apply_updates(params, updates), opt_state=state)

  def at_k(carry):
    c = int(carry['opt_state'].loss_scale.counter)
    return None if 0 < c < 4 else f'loss-scale counter {c} is not mid-growth'

  return Scenario('dynamic_loss_scale_mid_growth', opt, step, at_k=at_k)


def _early_stopping_scenario() -> Scenario:
  monitor = gradtx.early_stopping(patience=5)
  opt = gradtx.adam(lr_schedule)
  inner = plain_step(opt)

  def step(carry, t):
    carry = inner(carry, t)
    return dict(carry, extra=monitor.update(carry['extra'], VALUES[t]))

  def at_k(carry):
    s = carry['extra']
    if bool(s.should_stop) or not 0 < int(s.wait) < 5:
      return f'early stopping is not mid-patience: {s}'
    return None

  return Scenario('early_stopping_mid_patience', opt, step, extra=monitor.init,
                  at_k=at_k)


def _lookahead_scenario() -> Scenario:
  opt = gradtx.lookahead(gradtx.adam(lr_schedule), sync_period=3, slow_step_size=0.5)

  def step(carry, t):
    del t
    params, state = carry['params'], carry['opt_state']
    updates, state = opt.update(_grads(params.fast), state, params)
    return dict(carry, params=gradtx.apply_updates(params, updates), opt_state=state)

  def at_k(carry):
    n = int(carry['opt_state'].steps_since_sync)
    return None if n != 0 else 'lookahead is at a sync point'

  return Scenario('lookahead_between_syncs', opt, step,
                  params=lambda: gradtx.LookaheadParams.init_synced(make_params()),
                  at_k=at_k)


def _special_scenarios() -> list[Scenario]:
  multi = gradtx.MultiSteps(gradtx.adam(lr_schedule), every_k_schedule=3)
  multi_tx = multi.gradient_transformation()
  plateau = gradtx.chain(gradtx.adam(lr_schedule),
                         gradtx.reduce_on_plateau(factor=0.5, patience=4))
  finite = gradtx.apply_if_finite(gradtx.adam(lr_schedule), 5)
  stateful = gradtx.inject_stateful_hyperparams(gradtx.adam)(
      learning_rate=gradtx.WrappedSchedule(gradtx.cosine_onecycle_schedule(20, 0.1)))
  injected = gradtx.inject_hyperparams(gradtx.sgd)(
      learning_rate=gradtx.warmup_cosine_decay_schedule(0.0, 0.1, 3, 20), momentum=0.9)
  noise_then_adam = gradtx.chain(
      gradtx.add_noise(0.01, 0.55, key=jax.random.PRNGKey(7)), gradtx.adam(lr_schedule))
  ema_debiased = gradtx.chain(gradtx.ema(0.8, debias=True),
                              gradtx.scale_by_learning_rate(lr_schedule))

  def finite_step(carry, t):
    params, state = carry['params'], carry['opt_state']
    grads = jax.tree.map(lambda g: jnp.where((t == 3) | (t == 4), jnp.nan, g),
                         _grads(params))
    updates, state = finite.update(grads, state, params)
    return dict(carry, params=gradtx.apply_updates(params, updates), opt_state=state)

  def multi_at_k(carry):
    n = int(carry['opt_state'].mini_step)
    return None if n != 0 else 'MultiSteps is not mid-accumulation'

  def plateau_at_k(carry):
    n = int(carry['opt_state'][1].plateau_count)
    return None if 0 < n < 4 else f'plateau count {n} is not mid-patience'

  def finite_at_k(carry):
    n = int(carry['opt_state'].notfinite_count)
    return None if n == 2 else f'apply_if_finite count {n} is not 2'

  return [
      Scenario('multi_steps_mid_accumulation', multi_tx, plain_step(multi_tx),
               at_k=multi_at_k),
      _loss_scale_scenario(),
      Scenario('reduce_on_plateau_mid_patience', plateau,
               plain_step(plateau, value=lambda t: VALUES[t]), at_k=plateau_at_k),
      _early_stopping_scenario(),
      _lookahead_scenario(),
      Scenario('apply_if_finite_mid_errors', finite, finite_step, at_k=finite_at_k),
      Scenario('inject_stateful_schedule', stateful, plain_step(stateful)),
      Scenario('inject_schedule_sgd', injected, plain_step(injected)),
      Scenario('add_noise_key', noise_then_adam, plain_step(noise_then_adam)),
      Scenario('ema_debiased', ema_debiased, plain_step(ema_debiased)),
      Scenario('adam_bf16_params_f32_moments',
               gradtx.adam(lr_schedule, mu_dtype=jnp.float32, nu_dtype=jnp.float32),
               plain_step(gradtx.adam(lr_schedule, mu_dtype=jnp.float32,
                                      nu_dtype=jnp.float32)),
               params=lambda: make_params(jnp.bfloat16)),
  ]


def all_scenarios() -> list[Scenario]:
  return _special_scenarios() + _battery_scenarios()


def host_leaves(tree: Any) -> list[np.ndarray]:
  """Every leaf as a NumPy array (PRNG keys as their key data)."""
  out = []
  for x in jax.tree.leaves(tree):
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
      x = jax.random.key_data(x)
    out.append(np.asarray(x))
  return out


def abstract_carry(scenario: Scenario) -> dict:
  """The restore target of a scenario's carry, built without running it."""
  params = scenario.params()
  return {
      'params': jax.eval_shape(lambda: params),
      'opt_state': gradtx.checkpoint.abstract_state(scenario.opt, params),
      'extra': jax.eval_shape(scenario.extra),
  }


# Both processes compile every step the same way; cheap optimisation levels
# halve the compile time of the ~100 small programs.
_COMPILER_OPTIONS = {'xla_backend_optimization_level': 0,
                     'xla_llvm_disable_expensive_passes': True}


def run(scenario: Scenario, carry: Any, start: int, stop: int,
        at: Optional[int] = None) -> tuple[Any, Any]:
  """Steps ``carry`` from ``start`` to ``stop``; returns it and its value at ``at``."""
  step = jax.jit(scenario.step, compiler_options=_COMPILER_OPTIONS)
  # Restored arrays are committed to their device; commit the fresh ones
  # too, so that both processes compile (and cache) the same programs.
  carry = jax.device_put(carry, jax.devices()[0])
  saved = None
  for t in range(start, stop):
    if t == at:
      saved = carry
    carry = step(carry, jnp.int32(t))
  return carry, saved


# ---------------------------------------------------------------------------
# The worker (a fresh process).
# ---------------------------------------------------------------------------
def _train(directory: str, out: str) -> None:
  """Runs every scenario to STEPS uninterrupted, saving the carries at K."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  final, at_k, not_mid = {}, {}, {}
  for s in all_scenarios():
    carry, at_k[s.name] = run(s, s.init(), 0, STEPS, at=K)
    final[s.name] = host_leaves(carry)
    why = None if s.at_k is None else s.at_k(at_k[s.name])
    if why is not None:
      not_mid[s.name] = why
  mngr = ocp.CheckpointManager(directory)
  gradtx.checkpoint.save(mngr, K, at_k)
  mngr.wait_until_finished()
  with open(out, 'wb') as f:
    pickle.dump({'final': final, 'not_mid': not_mid}, f)


def _resume(directory: str, out: str) -> None:
  """Restores the carries at K, checks them and continues them to STEPS."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  scenarios = all_scenarios()
  mngr = ocp.CheckpointManager(directory)
  target = {s.name: abstract_carry(s) for s in scenarios}
  restored = gradtx.checkpoint.restore(mngr, target, K)
  results = {}
  for s in scenarios:
    carry = restored[s.name]
    gradtx.checkpoint.check_state(s.opt, carry['params'], carry['opt_state'])
    results[s.name] = host_leaves(run(s, carry, K, STEPS)[0])
  with open(out, 'wb') as f:
    pickle.dump(results, f)


def _restore_sharded(directory: str, out: str) -> None:
  """Restores the 8-device checkpoint of test_orbax onto this process's devices."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  from jax.sharding import Mesh, NamedSharding, PartitionSpec as P  # pylint: disable=g-import-not-at-top
  mesh = Mesh(np.array(jax.devices()), ('data',))
  params = sharded_params(mesh)
  opt = sharded_optimizer()
  target = {'params': params, 'opt_state': gradtx.checkpoint.abstract_state(opt, params)}
  restored = gradtx.checkpoint.restore(ocp.CheckpointManager(directory), target)
  gradtx.checkpoint.check_state(opt, params, restored['opt_state'])
  mu = restored['opt_state'][0].mu['w']
  info = {
      'devices': len(jax.devices()),
      'mu_devices': len(mu.sharding.device_set),
      'mu_spec': str(mu.sharding.spec) if isinstance(mu.sharding, NamedSharding) else None,
      'leaves': host_leaves(restored),
      'after_step': host_leaves(jax.jit(opt.update)(
          restored['params'], restored['opt_state'], restored['params'])[0]),
  }
  del P
  with open(out, 'wb') as f:
    pickle.dump(info, f)


def sharded_params(mesh) -> dict:
  from jax.sharding import NamedSharding, PartitionSpec as P  # pylint: disable=g-import-not-at-top
  w = jnp.arange(32 * 3, dtype=jnp.float32).reshape(32, 3) / 7.0
  return {'w': jax.device_put(w, NamedSharding(mesh, P('data'))),
          'b': jax.device_put(jnp.ones(3), NamedSharding(mesh, P()))}


def sharded_optimizer():
  return gradtx.adamw(lr_schedule, weight_decay=1e-2)


def _save_and_die(directory: str, how: str) -> None:
  """Saves step 1, then is killed while saving later steps.

  ``how='hook'``: SIGKILLs itself once the data of step 2 are written, just
  before Orbax commits them (renames the temporary directory).
  ``how='forever'``: prints ``READY`` and saves big steps 2, 3, ... in a
  loop, for the test to SIGKILL it at a random point of a write.
  """
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  from orbax.checkpoint._src.path import atomicity  # pylint: disable=g-import-not-at-top
  mngr = ocp.CheckpointManager(directory)
  gradtx.checkpoint.save(mngr, 1, fault_tree(1))
  mngr.wait_until_finished()
  if how == 'hook':
    async def finalize(self):
      del self
      os.kill(os.getpid(), signal.SIGKILL)
    atomicity.AtomicRenameTemporaryPath.finalize = finalize
    gradtx.checkpoint.save(mngr, 2, fault_tree(2))
    mngr.wait_until_finished()
  else:
    print('READY', flush=True)
    step = 2
    while True:
      gradtx.checkpoint.save(mngr, step, fault_tree(step, size=1024))
      mngr.wait_until_finished()
      step += 1
  print('NOT KILLED', flush=True)


def fault_tree(step: int, size: int = 64) -> dict:
  """Params and an Adam state (``12·size²`` bytes), different at each step."""
  opt = gradtx.adam(1e-3)
  w = jnp.arange(size * size, dtype=jnp.float32).reshape(size, size) / (size * size)
  params = {'w': w + step, 'b': jnp.arange(7.0) * step}
  _, state = opt.update(params, opt.init(params))
  return {'params': params, 'opt_state': state}


def main(argv):
  mode, directory, arg = argv[1:4]
  if mode == 'train':
    _train(directory, arg)
  elif mode == 'resume':
    _resume(directory, arg)
  elif mode == 'restore_sharded':
    _restore_sharded(directory, arg)
  elif mode == 'save_and_die':
    _save_and_die(directory, arg)
  else:
    raise SystemExit(f'unknown mode {mode!r}')


if __name__ == '__main__':
  main(sys.argv)
