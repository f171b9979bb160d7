"""Writes tests/golden/mindspore.npz: MindSpore 2.10 trajectories (CPU).

MindSpore is too heavy for the test environment, so it runs here, in its own
virtual environment, and its trajectories are committed:

    python3.11 -m venv /tmp/venv-ms
    /tmp/venv-ms/bin/pip install "mindspore==2.10.0"
    /tmp/venv-ms/bin/python tests/golden/make_mindspore.py

Each case runs 200 steps of ``optimizer(gradients)`` on the problem of
``tests/compat_runner.py`` (the inputs are stored too), with a per-step
learning-rate list (MindSpore's ``dynamic_lr``) that changes every step;
gradients are multiplied by the case's ``loss_scale``, as a scaled loss
would make them. ``Lamb`` and ``LARS`` have no CPU kernel and are absent.
"""

import json
import math
import os

import mindspore as ms
import numpy as np
from mindspore import Parameter, Tensor, nn

STEPS = 200
NAMES = ['layer/bias', 'layer/weight']
SHAPES = {'layer/bias': (4,), 'layer/weight': (3, 4)}


def lr_list(lr):
  """A warmup then a cosine: a different value at every step."""
  return [float(np.float32(lr * min(1.0, (i + 1) / 10) * (0.55 + 0.45 * math.cos(math.pi * i / STEPS))))
          for i in range(STEPS)]


# (name, class, loss_scale, arguments); 'learning_rate' is a base rate for lr_list.
CASES = [
    ('momentum', 'Momentum', 8.0, dict(learning_rate=0.05, momentum=0.9, weight_decay=0.01)),
    ('momentum_nesterov', 'Momentum', 1.0,
     dict(learning_rate=0.05, momentum=0.9, use_nesterov=True)),
    ('sgd', 'SGD', 1.0, dict(learning_rate=0.05, momentum=0.9, dampening=0.2,
                             weight_decay=0.01)),
    ('sgd_nesterov', 'SGD', 4.0, dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ('adam', 'Adam', 1.0, dict(learning_rate=0.02, weight_decay=0.01, eps=1e-6)),
    ('adam_nesterov', 'Adam', 2.0, dict(learning_rate=0.02, use_nesterov=True)),
    ('adam_amsgrad', 'Adam', 1.0, dict(learning_rate=0.02, use_amsgrad=True,
                                       weight_decay=0.01)),
    ('adam_weight_decay', 'AdamWeightDecay', 1.0,
     dict(learning_rate=0.02, weight_decay=0.05)),
    ('rmsprop', 'RMSProp', 1.0, dict(learning_rate=0.01, momentum=0.5, weight_decay=0.01)),
    ('rmsprop_centered', 'RMSProp', 1.0,
     dict(learning_rate=0.01, centered=True, epsilon=1e-6)),
    ('adagrad', 'Adagrad', 1.0, dict(learning_rate=0.1, weight_decay=0.01)),
    ('momentum_groups', 'Momentum', 1.0, dict(
        learning_rate=0.05, momentum=0.9, weight_decay=0.02,
        groups=[{'params': 'layer/bias', 'lr': 0.1, 'weight_decay': 0.0},
                {'params': 'layer/weight', 'grad_centralization': True}])),
]


def problem(seed=0):
  rng = np.random.default_rng(seed)
  theta0 = {n: rng.normal(size=SHAPES[n]).astype(np.float32) for n in NAMES}
  coef = {n: rng.uniform(0.5, 2.0, size=SHAPES[n]).astype(np.float32) for n in NAMES}
  noise = {n: (0.5 * rng.normal(size=(STEPS,) + SHAPES[n])).astype(np.float32)
           for n in NAMES}
  return theta0, coef, noise


def run(cls, loss_scale, args, theta0, coef, noise):
  args = dict(args)
  ws = {n: Parameter(Tensor(theta0[n]), name=n.replace('/', '.')) for n in NAMES}
  lr = lr_list(args.pop('learning_rate'))
  groups = args.pop('groups', None)
  if groups is None:
    params = [ws[n] for n in NAMES]
  else:
    params = []
    for g in groups:
      g = dict(g)
      g['params'] = [ws[g['params']]]
      if 'lr' in g:
        g['lr'] = lr_list(g['lr'])
      params.append(g)
  if cls not in ('AdamWeightDecay',) and loss_scale != 1.0:
    args['loss_scale'] = loss_scale
  opt = getattr(nn, cls)(params, learning_rate=lr, **args)
  out = {n: [] for n in NAMES}
  for t in range(STEPS):
    grads = []
    for n in NAMES:
      w = ws[n].asnumpy()
      grads.append(Tensor((loss_scale * (coef[n] * (w - np.float32(0.5)) + noise[n][t])
                           ).astype(np.float32)))
    opt(tuple(grads))
    for n in NAMES:
      out[n].append(ws[n].asnumpy().copy())
  return {n: np.stack(v) for n, v in out.items()}


def main():
  ms.set_context(mode=ms.PYNATIVE_MODE)
  theta0, coef, noise = problem()
  arrays = {}
  for n in NAMES:
    arrays[f'theta0:{n}'] = theta0[n]
    arrays[f'coef:{n}'] = coef[n]
    arrays[f'noise:{n}'] = noise[n]
  for case, cls, loss_scale, args in CASES:
    path = run(cls, loss_scale, args, theta0, coef, noise)
    arrays[f'config:{case}'] = np.array(json.dumps(
        dict(cls=cls, loss_scale=loss_scale, args=args)))
    for n in NAMES:
      arrays[f'path:{case}:{n}'] = path[n]
    print(case, 'done')
  out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mindspore.npz')
  np.savez_compressed(out, mindspore_version=np.array(ms.__version__), **arrays)
  print(f'wrote {out} ({len(CASES)} cases, MindSpore {ms.__version__})')


if __name__ == '__main__':
  main()
