"""Shared pieces of the references: random tensors and shapes, reductions, an exact softplus."""
import math

import torch

BIG = False   # --big: some last dimensions up to 300, so that the float32 SIMD kernels run full vectors and tails


def softplus(x):
    """log(1 + eˣ) to the last digit. torch's F.softplus returns x itself above its threshold of 20 (off by
    e⁻²⁰ ≈ 2e-9), and 1.13's logaddexp(x, 0) rounds log(1 + 1.6e-18) to 0 at x = −41."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


def log_cosh(d):
    """log cosh d to the last digit: log1p(2 sinh²(d/2)) below 1 (logaddexp(d, −d) − log 2 and Keras's
    d + softplus(−2d) − log 2 keep only absolute accuracy for tiny d), |d| + log1p(e^(−2|d|)) − log 2 above."""
    a = d.abs()
    small = torch.log1p(2 * torch.sinh(torch.clamp(a, max=1) / 2) ** 2)
    return torch.where(a < 1, small, a + torch.log1p(torch.exp(-2 * a)) - math.log(2))


def tensor(shape, lo=-3.0, hi=3.0, rng=None):
    return torch.empty(shape, dtype=torch.float64).uniform_(lo, hi, generator=rng)



def shape_nd(r, max_dims=3, min_dims=1):
    s = [r.randint(1, 4) for _ in range(r.randint(min_dims, max_dims))]
    if BIG and r.random() < 0.3:
        s[-1] = r.randint(1, 300)
    # One case in twenty is empty: reductions over nothing must match too. Only the last dimension can be 0,
    # since a nested JSON list cannot spell (0, 4).
    if r.random() < 0.05:
        s[-1] = 0
    return tuple(s)


def red(r, extra=()):
    return r.choice(('none', 'mean', 'sum') + tuple(extra))


def rows_case(r, g, lo=-3.0, hi=3.0):
    n, c = r.randint(1, 5), r.randint(2, 5)
    return tensor((n, c), lo, hi, g), torch.randint(0, c, (n,), generator=g), n, c


def reduce_rows(v, reduction):
    return {'none': v, 'mean': v.mean(), 'sum': v.sum()}[reduction]


def weighted_reduce(v, w, reduction):
    """PyTorch's mse/l1 `weight` and scikit-learn's sample_weight: none w·v, mean Σwv/Σw, sum Σwv (w None: plain)."""
    if w is None:
        return reduce_rows(v, reduction)
    return {'none': w * v, 'mean': (w * v).sum() / w.sum(), 'sum': (w * v).sum()}[reduction]
