"""Renders the schedule figures of docs/schedules.md into docs/img/schedules/.

One figure per section of the guide (a small panel per policy, with a few
representative configurations each), the standard warmup-then-decay gallery
of ``examples/schedules_gallery.py``, and the plateau rules on a scripted
loss. Run from the repository root after changing a schedule:

  python docs/make_schedule_plots.py               # every figure
  python docs/make_schedule_plots.py torch keras   # some figures
  python docs/make_schedule_plots.py --out /tmp/figs --list

Needs matplotlib; only its Agg canvas is used (no pyplot, no display).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence

import jax.numpy as jnp
import numpy as np

import gradtx
from gradtx import schedules as gs

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, 'img', 'schedules')
DPI = 96
PANEL_SIZE = (3.0, 1.95)   # inches per panel
COLUMNS = 3
W, T = 20, 100             # warmup and total steps used throughout


class Panel(NamedTuple):
  """One small plot: a title, the steps and ``{label: schedule}``.

  ``covers`` names the gradtx functions drawn when the title is not one.
  """
  title: str
  curves: Mapping[str, Callable[[Any], Any]]
  steps: int = T
  log_scale: bool = False
  covers: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# The panels of each figure. Names match the section they illustrate.
# ---------------------------------------------------------------------------


def _optax_basic() -> list[Panel]:
  knots = {30: 0.5, 60: 0.4}
  return [
      Panel('constant_schedule', {'value=1': gs.constant_schedule(1.0)}),
      Panel('polynomial_schedule', {
          f'power={p}': gs.polynomial_schedule(1.0, 0.1, p, 80, 10)
          for p in (0.5, 1, 2)}),
      Panel('linear_schedule', {
          '0→1 over 50': gs.linear_schedule(0.0, 1.0, 50),
          '1→0, begin 20': gs.linear_schedule(1.0, 0.0, 60, 20)}),
      Panel('piecewise_constant_schedule', {
          '{30: .5, 60: .4}': gs.piecewise_constant_schedule(1.0, knots)}),
      Panel('piecewise_interpolate_schedule', {
          kind: gs.piecewise_interpolate_schedule(kind, 1.0, knots)
          for kind in ('linear', 'cosine')}),
      Panel('exponential_decay', {
          'rate .5 per 20': gs.exponential_decay(1.0, 20, 0.5),
          'staircase': gs.exponential_decay(1.0, 20, 0.5, staircase=True),
          'begin 20, end .3': gs.exponential_decay(
              1.0, 20, 0.5, transition_begin=20, end_value=0.3)}),
      Panel('join_schedules', {
          'linear | const | cosine': gs.join_schedules(
              [gs.linear_schedule(0.0, 1.0, 20), gs.constant_schedule(1.0),
               gs.cosine_decay_schedule(1.0, 40)], [20, 60])}),
  ]


def _optax_cosine() -> list[Panel]:
  return [
      Panel('cosine_decay_schedule', {
          'T=80': gs.cosine_decay_schedule(1.0, 80),
          'alpha=.2': gs.cosine_decay_schedule(1.0, 80, alpha=0.2),
          'exponent=2': gs.cosine_decay_schedule(1.0, 80, exponent=2.0)}),
      Panel('warmup_constant_schedule', {
          '0→1 over 20': gs.warmup_constant_schedule(0.0, 1.0, W)}),
      Panel('warmup_cosine_decay_schedule', {
          'end 0': gs.warmup_cosine_decay_schedule(0.0, 1.0, W, T),
          'end .1, exponent 2': gs.warmup_cosine_decay_schedule(
              0.0, 1.0, W, T, end_value=0.1, exponent=2.0)}),
      Panel('warmup_exponential_decay_schedule', {
          'rate .7 per 10': gs.warmup_exponential_decay_schedule(
              0.0, 1.0, W, 10, 0.7),
          'staircase': gs.warmup_exponential_decay_schedule(
              0.0, 1.0, W, 10, 0.7, staircase=True)}),
      Panel('sgdr_schedule', {
          '3 cycles': gs.sgdr_schedule([
              dict(init_value=0.0, peak_value=peak, warmup_steps=5,
                   decay_steps=steps)
              for peak, steps in ((1.0, 25), (0.7, 35), (0.5, 40))])}),
      Panel('cosine/linear_onecycle_schedule', {
          'cosine': gs.cosine_onecycle_schedule(T, 1.0),
          'linear': gs.linear_onecycle_schedule(T, 1.0)},
            covers=('cosine_onecycle_schedule', 'linear_onecycle_schedule')),
  ]


def _torch() -> list[Panel]:
  return [
      Panel('step_lr', {'size 20, γ .5': gs.step_lr(1.0, 20, 0.5)}),
      Panel('multi_step_lr', {
          '[30, 60, 80], γ .5': gs.multi_step_lr(1.0, [30, 60, 80], 0.5)}),
      Panel('exponential_lr', {
          f'γ={g}': gs.exponential_lr(1.0, g) for g in (0.98, 0.95)}),
      Panel('linear_lr', {
          '1/3→1 over 40': gs.linear_lr(1.0, 1 / 3, 1.0, 40),
          '1→0.1 over 60': gs.linear_lr(1.0, 1.0, 0.1, 60)}),
      Panel('polynomial_lr', {
          f'power={p}': gs.polynomial_lr(1.0, 80, p) for p in (0.5, 1, 2)}),
      Panel('cosine_annealing_lr', {
          'T_max 40, η_min .1': gs.cosine_annealing_lr(1.0, 40, 0.1)}),
      Panel('cosine_annealing_warm_restarts', {
          'T_0 20': gs.cosine_annealing_warm_restarts(1.0, 20),
          'T_0 15, T_mult 2': gs.cosine_annealing_warm_restarts(1.0, 15, 2)}),
      Panel('cyclic_lr', {
          'triangular': gs.cyclic_lr(0.1, 1.0, 10),
          'triangular2': gs.cyclic_lr(0.1, 1.0, 10, mode='triangular2'),
          'exp_range γ .98': gs.cyclic_lr(0.1, 1.0, 10, mode='exp_range',
                                          gamma=0.98)}),
      Panel('one_cycle_lr', {
          'cos': gs.one_cycle_lr(1.0, T),
          'linear': gs.one_cycle_lr(1.0, T, anneal_strategy='linear'),
          'three_phase': gs.one_cycle_lr(1.0, T, three_phase=True)}),
  ]


def _keras() -> list[Panel]:
  return [
      Panel('exponential_decay', {
          'rate .5 per 20': gs.exponential_decay(1.0, 20, 0.5),
          'staircase': gs.exponential_decay(1.0, 20, 0.5, staircase=True)}),
      Panel('piecewise_constant_decay', {
          '[30, 60]': gs.piecewise_constant_decay([30, 60], [1.0, 0.5, 0.2])}),
      Panel('inverse_time_decay', {
          'd 10, r .5': gs.inverse_time_decay(1.0, 10, 0.5),
          'staircase': gs.inverse_time_decay(1.0, 10, 0.5, staircase=True)}),
      Panel('polynomial_decay', {
          'd 30': gs.polynomial_decay(1.0, 30, 0.1),
          'cycle': gs.polynomial_decay(1.0, 30, 0.1, cycle=True),
          'cycle, power 2': gs.polynomial_decay(1.0, 30, 0.1, 2.0, True)}),
      Panel('cosine_decay', {
          'D 100': gs.cosine_decay(1.0, T),
          'warmup 20 to 1, α .1': gs.cosine_decay(
              0.0, 80, alpha=0.1, warmup_target=1.0, warmup_steps=W)}),
      Panel('cosine_decay_restarts', {
          't_mul 2': gs.cosine_decay_restarts(1.0, 15),
          't_mul 1, m_mul .7, α .1': gs.cosine_decay_restarts(
              1.0, 20, t_mul=1.0, m_mul=0.7, alpha=0.1)}),
  ]


def _mindspore() -> list[Panel]:
  spe = 5   # steps per epoch: 100 steps are 20 epochs
  return [
      Panel('piecewise_constant_lr', {
          '[30, 60, 100]': gs.piecewise_constant_lr(
              [30, 60, 100], [1.0, 0.5, 0.2])}),
      Panel('exponential_decay_lr', {
          'rate .5, D 4': gs.exponential_decay_lr(1.0, 0.5, T, spe, 4),
          'is_stair': gs.exponential_decay_lr(1.0, 0.5, T, spe, 4, True)}),
      Panel('natural_exp_decay_lr', {
          'rate .15': gs.natural_exp_decay_lr(1.0, 0.15, T, spe, 4),
          'is_stair, D 4': gs.natural_exp_decay_lr(1.0, 0.15, T, spe, 4,
                                                   True)}),
      Panel('inverse_decay_lr', {
          'rate .5, D 4': gs.inverse_decay_lr(1.0, 0.5, T, spe, 4),
          'is_stair': gs.inverse_decay_lr(1.0, 0.5, T, spe, 4, True)}),
      Panel('cosine_decay_lr', {
          '.1..1, D 20': gs.cosine_decay_lr(0.1, 1.0, T, spe, 20)}),
      Panel('polynomial_decay_lr', {
          'power 2, D 10': gs.polynomial_decay_lr(1.0, 0.1, T, spe, 10, 2.0),
          'update_decay_epoch': gs.polynomial_decay_lr(
              1.0, 0.1, T, spe, 8, 2.0, True)}),
      Panel('warmup_lr', {'W 8 epochs': gs.warmup_lr(1.0, T, spe, 8)}),
      Panel('natural_exp_decay', {
          'rate .5, d 20': gs.natural_exp_decay(1.0, 0.5, 20),
          'is_stair': gs.natural_exp_decay(1.0, 0.5, 20, True)}),
      Panel('schedule_from_values', {
          '80 values': gs.schedule_from_values(
              [0.2 + 0.8 * abs(math.sin(i / 12)) for i in range(80)])}),
  ]


def _mxnet() -> list[Panel]:
  return [
      Panel('factor_scheduler', {
          'step 20, ×.5': gs.factor_scheduler(20, 0.5, base_lr=1.0),
          'warmup 10': gs.factor_scheduler(20, 0.5, base_lr=1.0,
                                           warmup_steps=10)}),
      Panel('multi_factor_scheduler', {
          '[30, 60, 80], ×.5': gs.multi_factor_scheduler(
              [30, 60, 80], 0.5, base_lr=1.0),
          'constant warmup 20': gs.multi_factor_scheduler(
              [30, 60, 80], 0.5, base_lr=1.0, warmup_steps=W,
              warmup_begin_lr=0.2, warmup_mode='constant')}),
      Panel('poly_scheduler', {
          'pwr 2': gs.poly_scheduler(T, 1.0),
          'pwr 1, warmup 20, final .1': gs.poly_scheduler(
              T, 1.0, pwr=1, final_lr=0.1, warmup_steps=W)}),
      Panel('cosine_scheduler', {
          'final .1': gs.cosine_scheduler(T, 1.0, final_lr=0.1),
          'warmup 20': gs.cosine_scheduler(T, 1.0, warmup_steps=W)}),
  ]


def _huggingface() -> list[Panel]:
  return [
      Panel('constant_schedule_with_warmup', {
          'W 20': gs.constant_schedule_with_warmup(1.0, W)}),
      Panel('linear_schedule_with_warmup', {
          'W 20, T 100': gs.linear_schedule_with_warmup(1.0, W, T)}),
      Panel('cosine_schedule_with_warmup', {
          f'num_cycles={c}': gs.cosine_schedule_with_warmup(1.0, W, T, c)
          for c in (0.5, 1.5)}),
      Panel('cosine_with_hard_restarts_schedule_with_warmup', {
          'num_cycles=3': gs.cosine_with_hard_restarts_schedule_with_warmup(
              1.0, W, T, 3)}),
      Panel('polynomial_decay_schedule_with_warmup', {
          f'power={p}, lr_end .1': gs.polynomial_decay_schedule_with_warmup(
              1.0, W, T, lr_end=0.1, power=p) for p in (1.0, 2.0)}),
      Panel('inverse_sqrt_schedule', {
          'W 20': gs.inverse_sqrt_schedule(1.0, W),
          'W 20, timescale 5': gs.inverse_sqrt_schedule(1.0, W, 5)}),
      Panel('cosine_with_min_lr_schedule_with_warmup', {
          'min_lr .2': gs.cosine_with_min_lr_schedule_with_warmup(
              1.0, W, T, min_lr=0.2),
          'min_lr_rate .5, 1.5 cycles':
              gs.cosine_with_min_lr_schedule_with_warmup(
                  1.0, W, T, num_cycles=1.5, min_lr_rate=0.5)}),
      Panel('wsd_schedule', {
          f'{w} / {d}': gs.wsd_schedule(
              1.0, W, 30, num_training_steps=T, warmup_type=w, decay_type=d,
              min_lr_ratio=0.05)
          for w, d in (('linear', 'cosine'), ('cosine', 'linear'),
                       ('1-sqrt', '1-sqrt'))}),
  ]


FIGURES: dict[str, tuple[str, Callable[[], list[Panel]]]] = {
    'optax_basic': ('Optax schedules: polynomial, piecewise, exponential',
                    _optax_basic),
    'optax_cosine': ('Optax schedules: cosine, warmup, SGDR, one-cycle',
                     _optax_cosine),
    'torch': ('PyTorch lr_scheduler', _torch),
    'keras': ('Keras 3 schedules', _keras),
    'mindspore': ('MindSpore (5 steps per epoch)', _mindspore),
    'mxnet': ('MXNet lr_scheduler (x = num_update)', _mxnet),
    'huggingface': (f'Hugging Face (warmup {W} of {T} steps)', _huggingface),
}


# ---------------------------------------------------------------------------
# Drawing.
# ---------------------------------------------------------------------------


def _figure(width: float, height: float):
  from matplotlib.backends.backend_agg import FigureCanvasAgg  # pylint: disable=g-import-not-at-top
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  fig = Figure(figsize=(width, height), dpi=DPI)
  FigureCanvasAgg(fig)
  return fig


def _style(ax, title: str) -> None:
  ax.set_title(title, fontsize=8 if len(title) <= 38 else 6.8,
               family='monospace')
  ax.tick_params(labelsize=6.5, length=2, pad=1.5)
  ax.grid(True, alpha=0.3, linewidth=0.5)
  ax.margins(x=0.01)


def _shrink(path: str) -> str:
  """Rewrites the PNG at ``path`` with a 64-colour palette (about 3x smaller).

  Line plots have few distinct colours; the antialiasing shades lost here are
  not visible at this size.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top  (matplotlib needs Pillow)
  with Image.open(path) as image:
    rgb = image.convert('RGB')
  # Octree keeps the line colours (median cut darkens some of them).
  palette = rgb.quantize(colors=64, method=Image.Quantize.FASTOCTREE,
                         dither=Image.Dither.NONE)
  palette.save(path, format='png', optimize=True)
  return path


def _save(fig, path: str) -> str:
  fig.savefig(path, format='png', dpi=DPI)
  return _shrink(path)


def draw_panels(panels: Sequence[Panel], title: str, path: str) -> str:
  """Writes a grid of ``panels`` (``COLUMNS`` wide) as one PNG at ``path``."""
  rows = -(-len(panels) // COLUMNS)
  cols = min(COLUMNS, len(panels))
  fig = _figure(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows + 0.25)
  for i, panel in enumerate(panels):
    ax = fig.add_subplot(rows, cols, i + 1)
    ts = np.arange(panel.steps)
    top = 0.0
    for label, schedule in panel.curves.items():
      values = gs.evaluate_schedule(schedule, panel.steps)
      ax.plot(ts, values, label=label, linewidth=1.3)
      top = max(top, float(values.max()))
    if panel.log_scale:
      ax.set_yscale('log')
    else:   # learning rates: show the distance to zero
      ax.set_ylim(0.0, 1.08 * top if top > 0 else 1.0)
    _style(ax, panel.title)
    ax.legend(fontsize=6, handlelength=1.4, borderpad=0.3, labelspacing=0.2,
              framealpha=0.7)
  fig.suptitle(title, fontsize=9.5)
  top = 1.0 - 0.22 / fig.get_figheight()   # room for the suptitle
  fig.tight_layout(pad=0.4, h_pad=0.6, w_pad=0.5, rect=(0.0, 0.0, 1.0, top))
  return _save(fig, path)


def _load_gallery() -> Callable[[], dict]:
  """``gallery()`` of examples/schedules_gallery.py (not a package)."""
  path = os.path.join(HERE, os.pardir, 'examples', 'schedules_gallery.py')
  spec = importlib.util.spec_from_file_location('_schedules_gallery', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def draw_gallery(path: str) -> str:
  """The standard warmup-then-decay figure, drawn with ``gradtx.schedules.plot``."""
  gallery = _load_gallery()
  gs.plot(gallery.gallery(), gallery.TOTAL, path,
          title=f'Warmup ({gallery.WARMUP} steps) then decay, '
          f'{gallery.TOTAL} steps')
  return _shrink(path)


def _plateau_scales(tx, losses: np.ndarray) -> np.ndarray:
  """The plateau scale after each evaluation of ``losses`` (jitted loop)."""
  import jax  # pylint: disable=g-import-not-at-top
  params = jnp.zeros([1], jnp.float32)

  def body(state, loss):
    _, state = tx.update(params, state, params, value=loss)
    return state, gradtx.plateau_scale(state)

  _, scales = jax.jit(lambda xs: jax.lax.scan(body, tx.init(params), xs))(
      jnp.asarray(losses, jnp.float32))
  return np.asarray(scales, np.float64)


def draw_plateau(path: str) -> str:
  """The three plateau rules on one scripted loss sequence."""
  n = 100
  t = np.arange(n)
  # Falls until step 30, stalls (noise above the best value), falls again
  # over steps 48-58 and stalls for good.
  rng = np.random.default_rng(0)
  noise = 0.004 * np.abs(rng.standard_normal(n))
  falling = 1.0 / (1.0 + t / 5.0)
  second = falling[30] - 0.06 * np.clip((t - 48) / 10.0, 0.0, 1.0)
  losses = np.where(t <= 30, falling,
                    np.where((t >= 48) & (t <= 58), second, second + noise))
  rules = {
      'torch_reduce_on_plateau': gradtx.stateful_schedules.torch_reduce_on_plateau(
          factor=0.5, patience=5, cooldown=2, min_scale=0.05),
      'keras_reduce_on_plateau': gradtx.stateful_schedules.keras_reduce_on_plateau(
          factor=0.5, patience=5, cooldown=2, min_scale=0.05, min_delta=1e-3),
      'reduce_on_plateau (Optax)': gradtx.stateful_schedules.reduce_on_plateau(
          factor=0.5, patience=5, cooldown=2, min_scale=0.05, rtol=1e-3),
  }
  fig = _figure(PANEL_SIZE[0] * 2, PANEL_SIZE[1] + 0.25)
  ax = fig.add_subplot(1, 2, 1)
  ax.plot(t, losses, linewidth=1.0, color='0.3')
  _style(ax, 'monitored value (scripted loss)')
  ax = fig.add_subplot(1, 2, 2)
  for label, tx in rules.items():
    ax.step(t, _plateau_scales(tx, losses), where='post', label=label,
            linewidth=1.3)
  _style(ax, 'plateau_scale(state)')
  ax.set_ylim(0.0, 1.08)
  ax.legend(fontsize=6, handlelength=1.4, borderpad=0.3, labelspacing=0.2,
            loc='upper right', framealpha=0.8)
  fig.suptitle('Reduce on plateau: factor .5, patience 5, cooldown 2',
               fontsize=9.5)
  top = 1.0 - 0.22 / fig.get_figheight()
  fig.tight_layout(pad=0.4, w_pad=0.5, rect=(0.0, 0.0, 1.0, top))
  return _save(fig, path)


EXTRAS: dict[str, Callable[[str], str]] = {
    'gallery': draw_gallery,
    'plateau': draw_plateau,
}
NAMES = tuple(FIGURES) + tuple(EXTRAS)


def covered() -> set[str]:
  """The names of the gradtx schedules drawn in the section figures."""
  return {name for _, panels in FIGURES.values() for panel in panels()
          for name in (panel.covers or (panel.title,))}


def render(names: Optional[Sequence[str]] = None,
           out_dir: str = DEFAULT_OUT) -> list[str]:
  """Writes ``out_dir/NAME.png`` for each of ``names`` (all by default)."""
  names = list(NAMES if not names else names)
  unknown = [n for n in names if n not in NAMES]
  if unknown:
    raise ValueError(f'unknown figure(s) {unknown}; choose from {list(NAMES)}')
  os.makedirs(out_dir, exist_ok=True)
  paths = []
  for name in names:
    path = os.path.join(out_dir, f'{name}.png')
    if name in FIGURES:
      title, panels = FIGURES[name]
      draw_panels(panels(), title, path)
    else:
      EXTRAS[name](path)
    paths.append(path)
  return paths


def main(argv: Optional[Sequence[str]] = None) -> list[str]:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('names', nargs='*', metavar='NAME',
                      help=f'figures to draw (default all): {", ".join(NAMES)}')
  parser.add_argument('--out', default=DEFAULT_OUT,
                      help='output folder (default docs/img/schedules)')
  parser.add_argument('--list', action='store_true',
                      help='list the figure names and exit')
  args = parser.parse_args(argv)
  if args.list:
    print('\n'.join(NAMES))
    return []
  paths = render(args.names, args.out)
  for path in paths:
    print(f'wrote {path} ({os.path.getsize(path) / 1024:.1f} KB)')
  return paths


if __name__ == '__main__':
  main(sys.argv[1:])
