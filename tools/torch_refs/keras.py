"""Keras 3 losses written out in torch (Keras is not a Debian package)."""
import math

import torch
import torch.nn.functional as F

from .common import softplus, tensor


# Keras 3 (keras/src/losses/losses.py and loss.py), written out: per-sample values average over the last axis, then
# sum_over_batch_size = Σ(ℓ·w)/numel(ℓ), mean_with_sample_weight = Σ(ℓ·w)/Σw, sum, none. Keras's epsilon is a
# float32 1e-7 (its default floatx), as LossLab reads it.
KERAS_EPS = float(torch.tensor(1e-7, dtype=torch.float32))


def keras_reduce(values, t, reduction):
    w = t.get('sample_weight')
    weighted = values * w if w is not None else values
    if reduction == 'none':
        return weighted
    if reduction == 'sum':
        return weighted.sum()
    if reduction == 'mean_with_sample_weight' and w is not None:
        return weighted.sum() / w.sum()
    return weighted.sum() / values.numel()


def g_keras(name):
    def gen(r, g):
        n, d = r.randint(1, 5), r.randint(1, 4)
        yt, yp = tensor((n, d), rng=g), tensor((n, d), rng=g)
        if name in ('keras.mean_squared_logarithmic_error', 'keras.poisson'):
            yt, yp = tensor((n, d), 0.0, 3.0, g), tensor((n, d), 0.05, 3.0, g)
        if name == 'keras.kl_divergence':
            yt, yp = tensor((n, d), 0.0, 1.0, g), tensor((n, d), 0.01, 1.0, g)
            yt = torch.where(yt < 0.2, torch.zeros_like(yt), yt)
        if name in ('keras.hinge', 'keras.squared_hinge'):
            yt = (torch.rand((n, d), generator=g, dtype=torch.float64) > 0.5).to(torch.float64)
            if r.random() < 0.5:
                yt = 2 * yt - 1
        if name == 'keras.categorical_hinge':
            yt = F.one_hot(torch.randint(0, d, (n,), generator=g), d).to(torch.float64)
        o = {'reduction': r.choice(('sum_over_batch_size', 'sum', 'none', 'mean_with_sample_weight'))}
        if name == 'keras.huber':
            o['delta'] = r.choice((1.0, 0.5, 2.0))
        ins = {'y_true': yt, 'y_pred': yp}
        if r.random() < 0.5:
            ins['sample_weight'] = tensor((n,), 0.1, 2.0, g)

        def per_sample(t):
            a, b = t['y_true'], t['y_pred']
            if name == 'keras.mean_squared_error':
                return ((a - b) ** 2).mean(-1)
            if name == 'keras.mean_absolute_error':
                return (a - b).abs().mean(-1)
            if name == 'keras.mean_absolute_percentage_error':
                return 100 * ((a - b) / a.abs().clamp_min(KERAS_EPS)).abs().mean(-1)
            if name == 'keras.mean_squared_logarithmic_error':
                return ((torch.log(b.clamp_min(KERAS_EPS) + 1) - torch.log(a.clamp_min(KERAS_EPS) + 1)) ** 2).mean(-1)
            if name == 'keras.huber':
                e = b - a
                return torch.where(e.abs() <= o['delta'], 0.5 * e ** 2, o['delta'] * e.abs() - 0.5 * o['delta'] ** 2).mean(-1)
            if name == 'keras.log_cosh':
                e = b - a
                return (e + softplus(-2 * e) - math.log(2)).mean(-1)
            if name == 'keras.kl_divergence':
                ac, bc = a.clamp(KERAS_EPS, 1), b.clamp(KERAS_EPS, 1)
                return (ac * torch.log(ac / bc)).sum(-1)
            if name == 'keras.poisson':
                return (b - a * torch.log(b + KERAS_EPS)).mean(-1)
            if name == 'keras.cosine_similarity':
                na = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
                nb = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
                return -(na * nb).sum(-1)
            if name in ('keras.hinge', 'keras.squared_hinge'):
                s = 2 * a - 1 if bool(((a == 0) | (a == 1)).all()) else a
                h = torch.relu(1 - s * b)
                return (h if name == 'keras.hinge' else h ** 2).mean(-1)
            pos = (a * b).sum(-1)
            neg = ((1 - a) * b).max(-1).values
            return torch.relu(neg - pos + 1)

        def fn(t):
            return keras_reduce(per_sample(t), t, o['reduction'])
        return name, ins, o, fn
    return gen
