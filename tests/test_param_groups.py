"""param_groups: groups by regular expressions on paths, checked by hand and
against PyTorch's per-group lr / weight_decay."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import gradtx


def params0():
  k = jax.random.split(jax.random.PRNGKey(7), 5)
  return {
      'encoder': {'layer_0': {'kernel': jax.random.normal(k[0], (3, 4)), 'bias': jax.random.normal(k[1], (4,))},
                  'layer_1': {'kernel': jax.random.normal(k[2], (4, 4)), 'bias': jnp.zeros(4)}},
      'head': {'kernel': jax.random.normal(k[3], (4, 2)), 'bias': jax.random.normal(k[4], (2,))},
  }


def grads_at(params, i):
  return jax.tree.map(lambda p: jnp.cos(p + 0.3 * i), params)


def paths(tree):
  return {gradtx.tree.path_to_str(p): x for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def test_matches_pytorch_param_groups_with_lr_and_weight_decay():
  """PyTorch AdamW with three groups vs param_groups(optimizer=gradtx.adamw)."""
  p0 = params0()
  groups = [
      {'name': 'encoder', 'params': 'encoder/.*', 'lr': 1e-3},
      {'name': 'no_decay', 'params': '.*bias', 'weight_decay': 0.0},
  ]
  tx = gradtx.param_groups(groups, optimizer=gradtx.adamw, learning_rate=1e-2, weight_decay=0.1)
  p, s = p0, tx.init(p0)
  for i in range(10):
    u, s = tx.update(grads_at(p, i), s, p)
    p = gradtx.apply_updates(p, u)
  # PyTorch: one group per resolved combination.
  flat0 = paths(p0)
  tp = {k: torch.nn.Parameter(torch.tensor(np.asarray(v))) for k, v in flat0.items()}
  def settings(k):
    lr = 1e-3 if k.startswith('encoder/') else 1e-2
    wd = 0.0 if k.endswith('bias') else 0.1
    return lr, wd
  tgroups = {}
  for k in tp:
    tgroups.setdefault(settings(k), []).append(tp[k])
  opt = torch.optim.AdamW([{'params': v, 'lr': lr, 'weight_decay': wd}
                           for (lr, wd), v in tgroups.items()], eps=1e-8)
  for i in range(10):
    for k, t in tp.items():
      t.grad = torch.cos(t.detach() + 0.3 * i)
    opt.step()
  got = paths(p)
  for k, t in tp.items():
    np.testing.assert_allclose(got[k], t.detach().numpy(), rtol=2e-5, atol=1e-6)


def test_frozen_backbone_lr_mult_wd_mult_and_grad_centralization_by_hand():
  p0 = params0()
  groups = [
      {'name': 'frozen', 'params': 'encoder/layer_0/.*', 'frozen': True},
      {'name': 'slow', 'params': 'encoder/layer_1/.*', 'lr_mult': 0.1, 'wd_mult': 2.0},
      {'name': 'gc', 'params': 'head/kernel', 'grad_centralization': True},
  ]
  sgd_wd = lambda learning_rate, weight_decay: gradtx.chain(
      gradtx.add_decayed_weights(weight_decay), gradtx.scale_by_learning_rate(learning_rate))
  tx = gradtx.param_groups(groups, optimizer=sgd_wd, learning_rate=0.5, weight_decay=0.01, strict=True)
  g = grads_at(p0, 0)
  u, s = tx.update(g, tx.init(p0), p0)
  f, fp, fg = paths(u), paths(p0), paths(g)
  for k in ('encoder/layer_0/kernel', 'encoder/layer_0/bias'):
    np.testing.assert_array_equal(f[k], 0.0)
  for k in ('encoder/layer_1/kernel', 'encoder/layer_1/bias'):
    np.testing.assert_allclose(f[k], -0.05 * (fg[k] + 0.02 * fp[k]), rtol=1e-6)
  gk = np.asarray(fg['head/kernel'])
  centred = gk - gk.mean(axis=1, keepdims=True)
  np.testing.assert_allclose(f['head/kernel'], -0.5 * (centred + 0.01 * fp['head/kernel']), rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(f['head/bias'], -0.5 * (fg['head/bias'] + 0.01 * fp['head/bias']), rtol=1e-6)
  assert set(s.inner_states) == {'frozen', 'slow', 'gc', 'default'}


def test_per_group_optimizer_and_extra_optimizer_arguments():
  p0 = params0()
  tx = gradtx.param_groups(
      [{'params': 'head/.*', 'optimizer': gradtx.chain(gradtx.trace(0.5), gradtx.scale(-1.0))},
       {'params': 'encoder/layer_1/.*', 'b1': 0.0}],
      optimizer=gradtx.adam, learning_rate=0.1)
  g = grads_at(p0, 0)
  s = tx.init(p0)
  u1, s = tx.update(g, s, p0)
  u2, s = tx.update(g, s, p0)
  f, fg = paths(u2), paths(g)
  np.testing.assert_allclose(f['head/bias'], -1.5 * fg['head/bias'], rtol=1e-6)
  # b1 = 0: Adam's update is g / (|g| / sqrt(1 - b2^2) ...) = sign-like, same each step.
  np.testing.assert_allclose(paths(u1)['encoder/layer_1/kernel'], f['encoder/layer_1/kernel'], rtol=1e-2)


def test_layerwise_lr_decay_multipliers():
  p = {'embed_tokens': {'table': jnp.ones(2)},
       'layers_0': {'w': jnp.ones(2)}, 'layers_1': {'w': jnp.ones(2)}, 'layers_2': {'w': jnp.ones(2)},
       'head': {'w': jnp.ones(2), 'bias': jnp.ones(2)}}
  groups = gradtx.layerwise_lr_decay(0.5, 3) + [{'name': 'no_decay', 'params': '.*bias', 'weight_decay': 0.0}]
  tx = gradtx.param_groups(groups, optimizer=gradtx.adamw, learning_rate=1.0, weight_decay=0.0)
  u, _ = tx.update(p, tx.init(p), p)
  f = paths(u)
  expect = {'embed_tokens/table': 0.5 ** 4, 'layers_0/w': 0.5 ** 3, 'layers_1/w': 0.25,
            'layers_2/w': 0.5, 'head/w': 1.0}
  for k, m in expect.items():
    np.testing.assert_allclose(f[k], -m, rtol=2e-5)
  with pytest.raises(ValueError, match='decay'):
    gradtx.layerwise_lr_decay(1.5, 3)
  with pytest.raises(ValueError, match='layer_pattern'):
    gradtx.layerwise_lr_decay(0.5, 3, layer_pattern='layer_.*')


def test_resolved_mapping_and_table():
  pg = gradtx.ParamGroups([{'name': 'enc', 'params': 'encoder/.*', 'lr_mult': 0.1},
                           {'name': 'nd', 'params': r'.*(bias|scale)$', 'weight_decay': 0.0}],
                          optimizer=gradtx.adamw, learning_rate=1e-3, weight_decay=0.05)
  r = pg.resolve(params0())
  assert r['encoder/layer_0/bias'].label == 'enc+nd'
  assert r['encoder/layer_0/kernel'].groups == ('enc',)
  assert r['head/kernel'].label == 'default'
  table = pg.describe(params0())
  line = [l for l in table.splitlines() if l.startswith('encoder/layer_0/bias')][0]
  assert 'enc+nd' in line and '0.0001' in line
  assert pg.labels(params0())['head']['bias'] == 'nd'


def test_path_mask_and_path_labels_with_freeze_and_partition():
  p0 = params0()
  tx = gradtx.chain(gradtx.freeze(gradtx.path_mask('encoder/.*')), gradtx.scale(-1.0))
  u, _ = tx.update(p0, tx.init(p0), p0)
  assert float(jnp.abs(u['encoder']['layer_1']['kernel']).sum()) == 0
  np.testing.assert_array_equal(u['head']['bias'], -p0['head']['bias'])
  labels = gradtx.path_labels({'encoder/.*': 'enc'}, default='rest')
  tx = gradtx.partition({'enc': gradtx.scale(2.0), 'rest': gradtx.scale(3.0)}, labels)
  u, _ = tx.update(p0, tx.init(p0), p0)
  np.testing.assert_allclose(u['head']['bias'], 3 * p0['head']['bias'])
  with pytest.raises(ValueError, match='head/kernel'):
    gradtx.path_labels({'encoder/.*': 'enc'})(p0)
  with pytest.raises(ValueError, match='decoder'):
    gradtx.path_mask('decoder/.*', strict=True)(p0)


def test_strict_mode_regex_matching_nothing_names_pattern_and_group():
  tx = gradtx.param_groups([{'name': 'typo', 'params': 'encodr/.*', 'frozen': True}],
                           optimizer=gradtx.adam, learning_rate=0.1, strict=True)
  with pytest.raises(ValueError) as info:
    tx.init(params0())
  msg = str(info.value)
  assert "'encodr/.*'" in msg and "'typo'" in msg and 'encoder/layer_0/kernel' in msg
  # Not strict: the group is simply empty.
  lax_tx = gradtx.param_groups([{'name': 'typo', 'params': 'encodr/.*', 'frozen': True}],
                               optimizer=gradtx.adam, learning_rate=0.1)
  lax_tx.init(params0())


def test_jit_scan_pmap():
  p0 = params0()
  tx = gradtx.param_groups([{'params': 'encoder/.*', 'lr_mult': 0.1}], optimizer=gradtx.adam,
                           learning_rate=lambda t: 0.1 / (1.0 + t))
  def body(c, i):
    p, s = c
    u, s = tx.update(grads_at(p, i), s, p)
    return (gradtx.apply_updates(p, u), s), None
  (a, _), _ = jax.jit(lambda c: jax.lax.scan(body, c, jnp.arange(5)))((p0, tx.init(p0)))
  c = (p0, tx.init(p0))
  for i in range(5):
    c, _ = body(c, i)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(c[0])):
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
  pp = jax.tree.map(lambda v: jnp.broadcast_to(v, (8,) + v.shape), p0)
  out = jax.pmap(lambda p: jax.lax.scan(body, (p, tx.init(p)), jnp.arange(5))[0][0])(pp)
  for x, y in zip(jax.tree.leaves(out), jax.tree.leaves(a)):
    np.testing.assert_allclose(x[2], y, rtol=1e-5, atol=1e-6)


def test_bad_group_specifications_name_the_argument():
  ok = dict(optimizer=gradtx.adam, learning_rate=0.1)
  with pytest.raises(ValueError, match='params'):
    gradtx.param_groups([{'lr': 0.1}], **ok)
  with pytest.raises(ValueError, match=r"groups\[0\]\['params'\]"):
    gradtx.param_groups([{'params': '(unclosed'}], **ok)
  with pytest.raises(ValueError, match='lr_mult'):
    gradtx.param_groups([{'params': '.*', 'lr_mult': -1.0}], **ok)
  with pytest.raises(ValueError, match='frozen'):
    gradtx.param_groups([{'params': '.*', 'frozen': 'yes'}], **ok)
  with pytest.raises(ValueError, match='unique'):
    gradtx.param_groups([{'name': 'a', 'params': 'x'}, {'name': 'a', 'params': 'y'}], **ok)
  with pytest.raises(ValueError, match='learning_rate'):
    gradtx.param_groups([{'params': '.*', 'lr': -0.1}], **ok)
  # Settings the factory does not accept: named with the group and paths.
  tx = gradtx.param_groups([{'name': 'enc', 'params': 'encoder/.*', 'momentum': 0.9}], **ok)
  with pytest.raises(ValueError, match="'momentum'") as info:
    tx.init(params0())
  assert "'enc'" in str(info.value) and 'encoder/layer_0' in str(info.value)
  tx = gradtx.param_groups([{'params': 'encoder/.*', 'weight_decay': 0.1}], optimizer=gradtx.adam(0.1))
  with pytest.raises(ValueError, match='weight_decay'):
    tx.init(params0())
  tx = gradtx.param_groups([], optimizer=gradtx.adam)
  with pytest.raises(ValueError, match='learning rate'):
    tx.init(params0())
