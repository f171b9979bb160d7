"""torch.optim state <-> gradtx state, with PyTorch executed.

Train k steps in PyTorch, convert its ``state_dict()``, continue in gradtx
(gradients by JAX at gradtx's own params): the trajectory equals PyTorch's
own continuation to 1e-5 relative. And back: train in gradtx, export, load
into the torch optimizer, continue in PyTorch: equals gradtx's continuation.
Continuing from a fresh gradtx state instead is far off, so the converted
moments, step counts and group learning rates are what make the match.
"""

from __future__ import annotations

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip('torch')

import gradtx  # noqa: E402
from gradtx.checkpoint import from_torch_state_dict, to_torch_state_dict  # noqa: E402

K, MORE = 6, 8
PATHS = {'fc1.weight': 'fc1/kernel', 'fc1.bias': 'fc1/bias',
         'fc2.weight': 'fc2/kernel', 'fc2.bias': 'fc2/bias'}
LAYOUTS = {'fc1.weight': (1, 0), 'fc2.weight': (1, 0)}  # torch (out, in) -> (in, out)

_rng = np.random.default_rng(0)
X = _rng.normal(size=(16, 4)).astype(np.float32)
Y = _rng.normal(size=(16, 2)).astype(np.float32)
INIT = {'fc1.weight': _rng.normal(size=(3, 4)).astype(np.float32) * 0.5,
        'fc1.bias': _rng.normal(size=(3,)).astype(np.float32) * 0.1,
        'fc2.weight': _rng.normal(size=(2, 3)).astype(np.float32) * 0.5,
        'fc2.bias': _rng.normal(size=(2,)).astype(np.float32) * 0.1}


def torch_model():
  model = torch.nn.Sequential()
  model.add_module('fc1', torch.nn.Linear(4, 3))
  model.add_module('act', torch.nn.Tanh())
  model.add_module('fc2', torch.nn.Linear(3, 2))
  with torch.no_grad():
    for name, p in model.named_parameters():
      p.copy_(torch.from_numpy(INIT[name]))
  return model


def torch_steps(model, opt, n, scheduler=None):
  """n steps; returns the flat params after each."""
  x, y = torch.from_numpy(X), torch.from_numpy(Y)
  out = []
  for _ in range(n):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    if scheduler is not None:
      scheduler.step()
    out.append(torch_flat(model))
  return out


def torch_flat(model) -> np.ndarray:
  return np.concatenate([p.detach().numpy().ravel() for _, p in model.named_parameters()])


def to_jax_params(model) -> dict:
  p = {n: t.detach().numpy() for n, t in model.named_parameters()}
  return {'fc1': {'kernel': jnp.asarray(p['fc1.weight'].T), 'bias': jnp.asarray(p['fc1.bias'])},
          'fc2': {'kernel': jnp.asarray(p['fc2.weight'].T), 'bias': jnp.asarray(p['fc2.bias'])}}


def jax_flat(params) -> np.ndarray:
  """In torch's order and layout, to compare with torch_flat."""
  return np.concatenate([np.asarray(a).ravel() for a in (
      params['fc1']['kernel'].T, params['fc1']['bias'],
      params['fc2']['kernel'].T, params['fc2']['bias'])])


def jax_loss(params):
  h = jnp.tanh(X @ params['fc1']['kernel'] + params['fc1']['bias'][None, :])
  return jnp.mean((h @ params['fc2']['kernel'] + params['fc2']['bias'][None, :] - Y) ** 2)


def gradtx_steps(opt, params, state, n):
  step = jax.jit(lambda p, s: opt.update(jax.grad(jax_loss)(p), s, p))
  out = []
  for _ in range(n):
    updates, state = step(params, state)
    params = gradtx.apply_updates(params, updates)
    out.append(jax_flat(params))
  return out, params, state


def max_rel(a, b) -> float:
  a, b = np.asarray(a), np.asarray(b)
  return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# --- the matching optimizers -----------------------------------------------------
def sgd_factory(learning_rate, weight_decay):
  """torch SGD(momentum=0.9, weight_decay): L2 decay added before the momentum."""
  return gradtx.chain(
      gradtx.inject_hyperparams(gradtx.add_decayed_weights)(weight_decay),
      gradtx.inject_hyperparams(gradtx.sgd)(learning_rate, momentum=0.9))


def sgd_groups():
  return gradtx.ParamGroups(
      [{'name': 'head', 'params': 'fc2/.*', 'learning_rate': 0.05, 'weight_decay': 0.0}],
      optimizer=sgd_factory, learning_rate=0.1, weight_decay=1e-2).transformation()


def torch_sgd_groups(model):
  return torch.optim.SGD(
      [{'params': list(model.fc1.parameters())},
       {'params': list(model.fc2.parameters()), 'lr': 0.05, 'weight_decay': 0.0}],
      lr=0.1, momentum=0.9, weight_decay=1e-2)


CASES = {
    'sgd_momentum_two_groups_lr_schedule': (
        torch_sgd_groups, sgd_groups,
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)),
    'adam_l2': (
        lambda m: torch.optim.Adam(m.parameters(), lr=0.02, betas=(0.8, 0.99),
                                   eps=1e-7, weight_decay=1e-2),
        lambda: gradtx.chain(
            gradtx.inject_hyperparams(gradtx.add_decayed_weights)(0.5),
            gradtx.inject_hyperparams(gradtx.adam)(1.0, b1=0.5, b2=0.5, eps=1.0)),
        None),
    'adamw': (
        lambda m: torch.optim.AdamW(m.parameters(), lr=0.02, betas=(0.85, 0.995),
                                    weight_decay=0.05),
        lambda: gradtx.inject_hyperparams(gradtx.adamw)(
            1.0, b1=0.5, b2=0.5, eps=1e-8, weight_decay=0.5),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
}


@pytest.mark.parametrize('name', list(CASES))
def test_torch_state_continues_in_gradtx(name):
  make_torch, make_gradtx, make_scheduler = CASES[name]
  model = torch_model()
  topt = make_torch(model)
  torch_steps(model, topt, K, make_scheduler(topt) if make_scheduler else None)
  params = to_jax_params(model)
  state_dict = copy.deepcopy(topt.state_dict())  # torch updates its buffers in place
  expected = torch_steps(model, topt, MORE)  # torch's own continuation

  opt = make_gradtx()
  state = from_torch_state_dict(state_dict, opt.init(params), PATHS, layouts=LAYOUTS)
  got, _, _ = gradtx_steps(opt, params, state, MORE)
  errors = [max_rel(g, e) for g, e in zip(got, expected)]
  assert max(errors) < 1e-5, errors
  # Without the converted state (moments, steps, group lr and decay) it is far off.
  fresh, _, _ = gradtx_steps(opt, params, opt.init(params), MORE)
  assert max_rel(fresh[-1], expected[-1]) > 1e-3


def _hyper(state):
  return [dict(h) for h in (x.hyperparams for x in jax.tree.leaves(
      state, is_leaf=lambda y: hasattr(y, 'hyperparams')) if hasattr(x, 'hyperparams'))]


def test_group_values_land_in_the_injected_hyperparameters():
  model = torch_model()
  topt = torch_sgd_groups(model)
  sched = torch.optim.lr_scheduler.StepLR(topt, step_size=4, gamma=0.5)
  torch_steps(model, topt, K, sched)
  opt = sgd_groups()
  state = from_torch_state_dict(topt.state_dict(), opt.init(to_jax_params(model)),
                                PATHS, layouts=LAYOUTS)
  lrs = sorted(float(h['learning_rate']) for h in _hyper(state) if 'learning_rate' in h)
  wds = sorted(float(h['weight_decay']) for h in _hyper(state) if 'weight_decay' in h)
  assert lrs == pytest.approx([0.025, 0.05]) and wds == pytest.approx([0.0, 0.01])


@pytest.mark.parametrize('name', ['sgd_momentum_two_groups_lr_schedule', 'adamw'])
def test_gradtx_state_continues_in_torch(name):
  make_torch, make_gradtx, _ = CASES[name]
  model = torch_model()
  topt = make_torch(model)
  opt = make_gradtx()
  params = to_jax_params(model)
  # Start gradtx from torch's hyperparameters (a state with no steps taken).
  state = from_torch_state_dict(topt.state_dict(), opt.init(params), PATHS, layouts=LAYOUTS)
  _, params, state = gradtx_steps(opt, params, state, K)
  state = gradtx.set_hyperparams(state, learning_rate=0.03) if name == 'adamw' else state
  expected, _, _ = gradtx_steps(opt, params, state, MORE)

  with torch.no_grad():  # the torch model at gradtx's params
    for tname, path in PATHS.items():
      a, b = path.split('/')
      value = np.asarray(params[a][b])
      dict(model.named_parameters())[tname].copy_(torch.from_numpy(
          np.array(value.T if b == "kernel" else value)))
  topt.load_state_dict(to_torch_state_dict(state, topt.state_dict(), PATHS, layouts=LAYOUTS))
  if name == 'adamw':
    assert topt.param_groups[0]['lr'] == pytest.approx(0.03)
  got = torch_steps(model, topt, MORE)
  errors = [max_rel(g, e) for g, e in zip(got, expected)]
  assert max(errors) < 1e-5, errors


def test_round_trip_keeps_every_buffer_amsgrad_included():
  model = torch_model()
  topt = torch.optim.Adam(model.parameters(), lr=0.02, amsgrad=True)
  torch_steps(model, topt, K)
  opt = gradtx.amsgrad(0.02)
  before = copy.deepcopy(topt.state_dict())
  state = from_torch_state_dict(before, opt.init(to_jax_params(model)), PATHS, layouts=LAYOUTS)
  assert int(state[0].count) == K
  after = to_torch_state_dict(state, before, PATHS, layouts=LAYOUTS)
  for i in range(4):
    for key in ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step'):
      np.testing.assert_allclose(after['state'][i][key].numpy(),
                                 before['state'][i][key].numpy(), rtol=1e-6)
  # nu_max holds torch's maximum debiased at the current step.
  kernel = before['state'][0]['max_exp_avg_sq'].numpy().T / (1 - 0.999 ** K)
  np.testing.assert_allclose(state[0].nu_max['fc1']['kernel'], kernel, rtol=1e-6)


def test_param_names_in_the_state_dict_give_the_numbering():
  model = torch_model()
  topt = torch.optim.Adam(model.named_parameters(), lr=0.02)
  torch_steps(model, topt, 2)
  sd = topt.state_dict()
  assert sd['param_groups'][0]['param_names'] == list(PATHS)
  shuffled = dict(reversed(list(PATHS.items())))
  opt = gradtx.adam(0.02)
  state = from_torch_state_dict(sd, opt.init(to_jax_params(model)), shuffled, layouts=LAYOUTS)
  np.testing.assert_array_equal(state[0].mu['fc2']['bias'], sd['state'][3]['exp_avg'].numpy())


def test_errors_name_the_parameter():
  model = torch_model()
  topt = torch.optim.Adam(model.parameters(), lr=0.02)
  torch_steps(model, topt, 1)
  sd = topt.state_dict()
  template = gradtx.adam(0.02).init(to_jax_params(model))
  three = {k: v for k, v in PATHS.items() if k != 'fc2.bias'}
  with pytest.raises(ValueError, match='has 4 parameters, the mapping param_paths names 3'):
    from_torch_state_dict(sd, template, three, layouts=LAYOUTS)
  with pytest.raises(ValueError, match="moment for the parameter 'fc2/bias', which param_paths"):
    from_torch_state_dict(sd, template, three | {'other': 'x'}, layouts=LAYOUTS)
  with pytest.raises(ValueError, match=r"'fc1.weight': its state has shape \(3, 4\).*layouts"):
    from_torch_state_dict(sd, template, PATHS)
  sd['state'][1]['step'] = torch.tensor(7.0)
  with pytest.raises(ValueError, match='different step counts'):
    from_torch_state_dict(sd, template, PATHS, layouts=LAYOUTS)
