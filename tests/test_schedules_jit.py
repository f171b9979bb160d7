"""Every schedule under jit with a traced int32 step and under vmap over steps.

Also: the plot helper and the ``python -m gradtx schedule`` command.
"""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from gradtx import schedules
from gradtx.schedules import basic, cosine, huggingface, keras, mindspore, mxnet
from gradtx.schedules import torch as torch_schedules

MODULES = (basic, cosine, huggingface, keras, mindspore, mxnet, torch_schedules)

REGISTRY = {
    'constant_schedule': dict(value=0.5),
    'polynomial_schedule': dict(init_value=1.0, end_value=0.1, power=2.0,
                                transition_steps=50, transition_begin=5),
    'linear_schedule': dict(init_value=0.0, end_value=1.0, transition_steps=30),
    'piecewise_constant_schedule': dict(init_value=1.0, boundaries_and_scales={
        10: 0.5, 40: 0.1}),
    'piecewise_interpolate_schedule': dict(interpolate_type='cosine',
                                           init_value=1.0,
                                           boundaries_and_scales={20: 0.1}),
    'join_schedules': dict(schedules=[gradtx.constant_schedule(1.0),
                                      gradtx.linear_schedule(1.0, 0.0, 20)],
                           boundaries=[10]),
    'exponential_decay': dict(init_value=1.0, transition_steps=10,
                              decay_rate=0.7, staircase=True, end_value=0.2),
    'cosine_decay_schedule': dict(init_value=1.0, decay_steps=40, alpha=0.1),
    'warmup_cosine_decay_schedule': dict(init_value=0.0, peak_value=1.0,
                                         warmup_steps=10, decay_steps=60),
    'warmup_constant_schedule': dict(init_value=0.0, peak_value=1.0,
                                     warmup_steps=10),
    'warmup_exponential_decay_schedule': dict(
        init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5,
        decay_rate=0.8),
    'sgdr_schedule': dict(cosine_kwargs=[dict(
        init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=30)] * 3),
    'cosine_onecycle_schedule': dict(transition_steps=60, peak_value=1.0),
    'linear_onecycle_schedule': dict(transition_steps=60, peak_value=1.0),
    'constant_schedule_with_warmup': dict(learning_rate=1.0,
                                          num_warmup_steps=10),
    'linear_schedule_with_warmup': dict(learning_rate=1.0, num_warmup_steps=10,
                                        num_training_steps=60),
    'cosine_schedule_with_warmup': dict(learning_rate=1.0, num_warmup_steps=10,
                                        num_training_steps=60),
    'cosine_with_hard_restarts_schedule_with_warmup': dict(
        learning_rate=1.0, num_warmup_steps=10, num_training_steps=60,
        num_cycles=3),
    'polynomial_decay_schedule_with_warmup': dict(
        learning_rate=1.0, num_warmup_steps=10, num_training_steps=60,
        power=2.0),
    'inverse_sqrt_schedule': dict(learning_rate=1.0, num_warmup_steps=10),
    'cosine_with_min_lr_schedule_with_warmup': dict(
        learning_rate=1.0, num_warmup_steps=10, num_training_steps=60,
        min_lr=0.1),
    'wsd_schedule': dict(learning_rate=1.0, num_warmup_steps=10,
                         num_decay_steps=20, num_training_steps=60,
                         warmup_type='1-sqrt', decay_type='1-sqrt'),
    'piecewise_constant_decay': dict(boundaries=[10, 30],
                                     values=[1.0, 0.5, 0.1]),
    'inverse_time_decay': dict(initial_learning_rate=1.0, decay_steps=10,
                               decay_rate=0.5, staircase=True),
    'polynomial_decay': dict(initial_learning_rate=1.0, decay_steps=20,
                             cycle=True),
    'cosine_decay': dict(initial_learning_rate=0.0, decay_steps=40,
                         warmup_target=1.0, warmup_steps=10),
    'cosine_decay_restarts': dict(initial_learning_rate=1.0,
                                  first_decay_steps=10, m_mul=0.8),
    'schedule_from_values': dict(values=[0.1 * i for i in range(30)]),
    'natural_exp_decay': dict(learning_rate=1.0, decay_rate=0.1,
                              decay_steps=5, is_stair=True),
    'piecewise_constant_lr': dict(milestone=[10, 30, 50],
                                  learning_rates=[1.0, 0.5, 0.1]),
    'exponential_decay_lr': dict(learning_rate=1.0, decay_rate=0.9,
                                 total_step=60, step_per_epoch=5,
                                 decay_epoch=2),
    'natural_exp_decay_lr': dict(learning_rate=1.0, decay_rate=0.1,
                                 total_step=60, step_per_epoch=5,
                                 decay_epoch=2),
    'inverse_decay_lr': dict(learning_rate=1.0, decay_rate=0.5, total_step=60,
                             step_per_epoch=5, decay_epoch=2),
    'cosine_decay_lr': dict(min_lr=0.01, max_lr=1.0, total_step=60,
                            step_per_epoch=5, decay_epoch=8),
    'polynomial_decay_lr': dict(learning_rate=1.0, end_learning_rate=0.01,
                                total_step=60, step_per_epoch=5,
                                decay_epoch=4, power=2.0,
                                update_decay_epoch=True),
    'warmup_lr': dict(learning_rate=1.0, total_step=60, step_per_epoch=5,
                      warmup_epoch=4),
    'factor_scheduler': dict(step=10, factor=0.5, base_lr=1.0,
                             warmup_steps=5),
    'multi_factor_scheduler': dict(step=[10, 30], factor=0.5, base_lr=1.0,
                                   warmup_steps=5),
    'poly_scheduler': dict(max_update=50, base_lr=1.0, warmup_steps=5),
    'cosine_scheduler': dict(max_update=50, base_lr=1.0, warmup_steps=5),
    'step_lr': dict(learning_rate=1.0, step_size=10, gamma=0.5),
    'multi_step_lr': dict(learning_rate=1.0, milestones=[10, 30], gamma=0.5),
    'exponential_lr': dict(learning_rate=1.0, gamma=0.95),
    'linear_lr': dict(learning_rate=1.0, start_factor=0.1, total_iters=20),
    'polynomial_lr': dict(learning_rate=1.0, total_iters=40, power=2.0),
    'cosine_annealing_lr': dict(learning_rate=1.0, T_max=20),
    'cosine_annealing_warm_restarts': dict(learning_rate=1.0, T_0=5, T_mult=2),
    'cyclic_lr': dict(base_lr=0.1, max_lr=1.0, step_size_up=7,
                      step_size_down=5, mode='triangular2'),
    'one_cycle_lr': dict(max_lr=1.0, total_steps=60, three_phase=True),
}

STEPS = np.arange(80, dtype=np.int32)


def test_registry_covers_every_schedule():
  public = {n for m in MODULES for n in m.__all__}
  assert public == set(REGISTRY)
  for name in public:
    assert getattr(gradtx, name) is getattr(schedules, name)


@pytest.mark.parametrize('name', sorted(REGISTRY))
def test_jit_traced_int32_step_and_vmap(name):
  schedule = getattr(gradtx, name)(**REGISTRY[name])
  eager = np.asarray([float(schedule(int(t))) for t in STEPS])
  assert np.all(np.isfinite(eager))
  jitted = jax.jit(schedule)
  traced = np.asarray([float(jitted(jnp.int32(t))) for t in STEPS[::7]])
  np.testing.assert_allclose(traced, eager[::7], rtol=2e-6, atol=1e-7)
  mapped = jax.jit(jax.vmap(lambda t: jnp.asarray(schedule(t),
                                                  jnp.float32)))(STEPS)
  assert mapped.shape == STEPS.shape
  np.testing.assert_allclose(np.asarray(mapped), eager, rtol=2e-6, atol=1e-7)
  # One compilation serves every step (no Python branching on the step).
  assert jitted._cache_size() == 1  # pylint: disable=protected-access


def test_used_as_learning_rate_inside_jit():
  tx = gradtx.adam(gradtx.warmup_cosine_decay_schedule(0.0, 0.1, 5, 50))
  params = {'w': jnp.ones(3)}
  state = tx.init(params)

  @jax.jit
  def step(params, state):
    updates, state = tx.update({'w': 2 * params['w']}, state, params)
    return gradtx.apply_updates(params, updates), state

  for _ in range(20):
    params, state = step(params, state)
  assert np.all(np.asarray(params['w']) < 1.0)


def test_plot_writes_png(tmp_path):
  pytest.importorskip('matplotlib')
  out = schedules.plot(
      {'cosine': gradtx.warmup_cosine_decay_schedule(0.0, 1.0, 20, 100),
       'step': gradtx.step_lr(1.0, 30)}, 100, tmp_path / 'lr.png')
  with open(out, 'rb') as f:
    assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_plot_bad_steps(tmp_path):
  with pytest.raises(ValueError, match='steps'):
    schedules.plot(gradtx.step_lr(1.0, 3), 0, tmp_path / 'x.png')


def test_evaluate_schedule_falls_back_for_python_schedules():
  values = schedules.evaluate_schedule(lambda t: 1.0 if t < 3 else 0.5, 5)
  np.testing.assert_allclose(values, [1, 1, 1, 0.5, 0.5])


def test_cli_prints_and_plots(tmp_path):
  pytest.importorskip('matplotlib')
  out = tmp_path / 'lr.png'
  res = subprocess.run(
      [sys.executable, '-m', 'gradtx', 'schedule',
       'warmup_cosine_decay_schedule', '--init_value', '0.0',
       '--peak_value', '1.0', '--warmup_steps', '20', '--decay_steps', '100',
       '--steps', '120', '-o', str(out)],
      capture_output=True, text=True, check=True,
      env=dict(os.environ, JAX_PLATFORMS='cpu'))
  assert 'first: 0 (step 0)' in res.stdout
  assert 'peak:  1 (step 20)' in res.stdout
  assert 'last:  0 (step 119)' in res.stdout
  assert out.read_bytes()[:4] == b'\x89PNG'


def test_cli_unknown_schedule():
  from gradtx.__main__ import main  # pylint: disable=g-import-not-at-top
  with pytest.raises(SystemExit, match='unknown schedule'):
    main(['schedule', 'no_such_schedule'])
