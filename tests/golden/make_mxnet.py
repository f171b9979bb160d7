"""Writes tests/golden/mxnet.npz: MXNet 1.9.1 trajectories for the compat tests.

MXNet is too heavy for the test environment (it needs numpy<1.24), so it runs
here, in its own virtual environment, and its trajectories are committed:

    python3.10 -m venv /tmp/venv-mxnet
    /tmp/venv-mxnet/bin/pip install "numpy<1.24" "mxnet==1.9.1"
    /tmp/venv-mxnet/bin/python tests/golden/make_mxnet.py

Each case runs 200 updates of ``optimizer.update(i, weight, grad, state)``
on the problem of ``tests/compat_runner.py`` (the inputs are stored in the
file too), with a learning-rate scheduler that changes every step. The file
holds, per case, the JSON of its arguments and the weights after every step.
"""

import json
import os

import mxnet as mx
import numpy as np

STEPS = 200
NAMES = ['layer/bias', 'layer/weight']
SHAPES = {'layer/bias': (4,), 'layer/weight': (3, 4)}

SCHEDULES = {
    'poly': lambda lr: mx.lr_scheduler.PolyScheduler(
        STEPS, base_lr=lr, pwr=2, final_lr=lr / 20, warmup_steps=10,
        warmup_begin_lr=lr / 10),
    'cosine': lambda lr: mx.lr_scheduler.CosineScheduler(
        STEPS, base_lr=lr, final_lr=lr / 50, warmup_steps=5),
}

# (name, MXNet class, learning rate, schedule, arguments)
CASES = [
    ('sgd_momentum', 'SGD', 0.05, 'poly',
     dict(momentum=0.9, wd=0.01, rescale_grad=0.5, clip_gradient=1.0)),
    ('sgd_mults', 'SGD', 0.05, 'cosine',
     dict(wd=0.05, lr_mult={'layer/bias': 2.0}, wd_mult={'layer/bias': 0.0})),
    ('nag', 'NAG', 0.05, 'poly', dict(momentum=0.9, wd=0.01, clip_gradient=1.0)),
    ('adam', 'Adam', 0.02, 'cosine',
     dict(wd=0.01, clip_gradient=1.0, rescale_grad=0.5, epsilon=1e-6)),
    ('rmsprop', 'RMSProp', 0.01, 'poly', dict(wd=0.01, clip_gradient=1.0)),
    ('rmsprop_centered', 'RMSProp', 0.01, 'cosine',
     dict(centered=True, gamma2=0.8, clip_weights=1.5, epsilon=1e-4)),
    ('adagrad', 'AdaGrad', 0.1, 'poly', dict(wd=0.01, clip_gradient=1.0)),
    ('adadelta', 'AdaDelta', 1.0, 'poly', dict(wd=0.01, clip_gradient=1.0, rho=0.95)),
    ('signum', 'Signum', 0.01, 'cosine', dict(momentum=0.9, wd=0.01, wd_lh=0.01)),
    ('signsgd', 'Signum', 0.01, 'poly', dict(momentum=0.0, clip_gradient=0.5)),
    ('ftrl', 'Ftrl', 0.1, 'cosine', dict(lamda1=0.01, beta=1.0, wd=0.01)),
    ('lamb', 'LAMB', 0.02, 'poly',
     dict(wd=0.01, clip_gradient=1.0, lower_bound=0.5, upper_bound=5.0)),
    ('lamb_no_bias_correction', 'LAMB', 0.02, 'cosine', dict(bias_correction=False)),
    ('sgd_fp16_multi_precision', 'SGD', 0.05, 'poly',
     dict(momentum=0.9, wd=0.01, multi_precision=True)),
]


def problem(seed=0):
  rng = np.random.default_rng(seed)
  theta0 = {n: rng.normal(size=SHAPES[n]).astype(np.float32) for n in NAMES}
  coef = {n: rng.uniform(0.5, 2.0, size=SHAPES[n]).astype(np.float32) for n in NAMES}
  noise = {n: (0.5 * rng.normal(size=(STEPS,) + SHAPES[n])).astype(np.float32)
           for n in NAMES}
  return theta0, coef, noise


def run(cls, lr, sched, args, theta0, coef, noise):
  args = dict(args)
  lr_mult, wd_mult = args.pop('lr_mult', None), args.pop('wd_mult', None)
  # learning_rate=lr too: MXNet replaces the scheduler's base_lr with the
  # optimizer's learning_rate (Adam's default 0.001, say) when both are set.
  # No param_idx2name: with names, MXNet zeroes wd for every name that does
  # not end in '_weight' or '_gamma'. Multipliers are keyed by index instead.
  opt = getattr(mx.optimizer, cls)(learning_rate=lr, lr_scheduler=SCHEDULES[sched](lr),
                                   **args)
  opt.set_lr_mult({NAMES.index(k): v for k, v in (lr_mult or {}).items()})
  opt.set_wd_mult({NAMES.index(k): v for k, v in (wd_mult or {}).items()})
  fp16 = args.get('multi_precision', False)
  dtype = np.float16 if fp16 else np.float32
  ws = [mx.nd.array(theta0[n], dtype=dtype) for n in NAMES]
  states = [opt.create_state_multi_precision(i, w) for i, w in enumerate(ws)]
  out = {n: [] for n in NAMES}
  for t in range(STEPS):
    for i, n in enumerate(NAMES):
      w = ws[i].asnumpy().astype(np.float32)
      g = (coef[n] * (w - np.float32(0.5)) + noise[n][t]).astype(dtype)
      opt.update_multi_precision(i, ws[i], mx.nd.array(g, dtype=dtype), states[i])
      out[n].append(ws[i].asnumpy())
  return {n: np.stack(v) for n, v in out.items()}


def main():
  theta0, coef, noise = problem()
  arrays = {}
  for n in NAMES:
    arrays[f'theta0:{n}'] = theta0[n]
    arrays[f'coef:{n}'] = coef[n]
    arrays[f'noise:{n}'] = noise[n]
  for case, cls, lr, sched, args in CASES:
    path = run(cls, lr, sched, args, theta0, coef, noise)
    arrays[f'config:{case}'] = np.array(json.dumps(
        dict(cls=cls, lr=lr, schedule=sched, args=args)))
    for n in NAMES:
      arrays[f'path:{case}:{n}'] = path[n]
  out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mxnet.npz')
  np.savez_compressed(out, mxnet_version=np.array(mx.__version__), **arrays)
  print(f'wrote {out} ({len(CASES)} cases, MXNet {mx.__version__})')


if __name__ == '__main__':
  main()
