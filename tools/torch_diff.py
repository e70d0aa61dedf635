#!/usr/bin/env python3
"""torch_diff.py -- randomized differential test of `losslab loss --batch` against PyTorch.

Every PyTorch-named loss of the catalog is run on random inputs and random option combinations
(reductions, weights, ignore_index, label smoothing, pos_weight, K-dim and empty inputs, logits far out,
out-of-domain values), in float64 on both sides, or with --dtype float32 LossLab in float32 (its SIMD kernels)
against PyTorch in float64. Values and the gradients of the summed output are compared; a case that PyTorch
rejects must be rejected by LossLab too (with a typed error), and the other way round. PyTorch's NaN where
LossLab raises invalid_value counts as agreement (LossLab is stricter on purpose); the other accepted
differences are the ones README.md lists, each marked below where it is accepted.

Needs /usr/bin/python3 with PyTorch (Debian's python3-torch). Usage:

    python3 tools/torch_diff.py --cli src/LossLab.Cli/bin/Release/net10.0/LossLab.Cli [--cases 40] [--seed 1]

With --expressions N it also checks N random expressions (`expr:...`) of the autograd primitives (exp, log, sqrt,
abs, relu, sigmoid, tanh, softplus, powers, clamp, + − × ÷, minimum, maximum, where, softmax, log_softmax, sum, mean,
max, logsumexp over an axis) against torch autograd.

Last line: "torch-diff: P agreed (R of them rejected by both), F disagreed over L losses and E expressions"
(exit 1 if F > 0).
"""
import argparse
import json
import math
import random
import shlex
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

RTOL, ATOL = 1e-8, 1e-13
OPTION_TENSORS = ('weight', 'pos_weight')
# Gradients LossLab leaves out on purpose: labels that PyTorch's autograd happens to differentiate.
NO_GRAD = {('margin_ranking_loss', 'target'), ('hinge_embedding_loss', 'target'), ('soft_margin_loss', 'target'),
           ('cosine_embedding_loss', 'target'), ('lovasz_hinge', 'target')}


def softplus(x):
    """log(1 + eˣ) to the last digit. torch's F.softplus returns x itself above its threshold of 20 (off by
    e⁻²⁰ ≈ 2e-9), and 1.13's logaddexp(x, 0) rounds log(1 + 1.6e-18) to 0 at x = −41."""
    return torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))


def tensor(shape, lo=-3.0, hi=3.0, rng=None):
    return torch.empty(shape, dtype=torch.float64).uniform_(lo, hi, generator=rng)


BIG = False   # --big: some last dimensions up to 300, so that the float32 SIMD kernels run full vectors and tails


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


# Each generator returns (loss name, {name: tensor}, options for LossLab, torch function of the inputs).
# Float tensors listed in `grads` get requires_grad on the torch side.

def g_pointwise(name, fn, opt=None):
    def gen(r, g):
        s = shape_nd(r)
        x, y = tensor(s, rng=g), tensor(s, rng=g)
        o = {'reduction': red(r)}
        extra = opt(r) if opt else {}
        o.update(extra)
        return name, {'input': x, 'target': y}, o, lambda t: fn(t['input'], t['target'], **o)
    return gen


def g_poisson(r, g):
    s = shape_nd(r)
    log_input = r.random() < 0.5
    x = tensor(s, -2, 2, g) if log_input else tensor(s, 0.01, 4, g)
    y = torch.randint(0, 6, s, generator=g).to(torch.float64)
    if r.random() < 0.5:
        y = y + tensor(s, 0, 1, g)
    o = {'reduction': red(r), 'log_input': log_input, 'full': r.random() < 0.5, 'eps': r.choice((1e-8, 1e-3))}
    return 'poisson_nll_loss', {'input': x, 'target': y}, o, lambda t: F.poisson_nll_loss(t['input'], t['target'], **o)


def g_gaussian(r, g):
    s = shape_nd(r, 3, 2)
    k = r.random()
    vs = s if k < 0.4 else s[:-1] + (1,) if k < 0.7 else s[:-1]   # PyTorch's three var shapes
    x, y, v = tensor(s, rng=g), tensor(s, rng=g), tensor(vs, 0.05, 3, g)
    o = {'reduction': red(r), 'full': r.random() < 0.5, 'eps': r.choice((1e-6, 0.1))}
    return 'gaussian_nll_loss', {'input': x, 'target': y, 'var': v}, o, \
        lambda t: F.gaussian_nll_loss(t['input'], t['target'], t['var'], **o)


def weight_shape(r, s):
    """a weight that broadcasts to s: s itself, its last dim, or 1s in some places"""
    k = r.random()
    if k < 0.4:
        return s
    if k < 0.7:
        return s[-1:]
    return tuple(d if r.random() < 0.5 else 1 for d in s)


def g_bce(r, g):
    s = shape_nd(r)
    x, y = tensor(s, 0.02, 0.98, g), tensor(s, 0, 1, g)
    if r.random() < 0.5:
        y = (y > 0.5).to(torch.float64)
    o = {'reduction': red(r)}
    ins = {'input': x, 'target': y}
    if r.random() < 0.5:
        ins['weight'] = tensor(weight_shape(r, s), 0.1, 2, g)
    def fn(t):
        return F.binary_cross_entropy(t['input'], t['target'], weight=t.get('weight'), **o)
    return 'binary_cross_entropy', ins, o, fn


def g_bce_logits(r, g):
    s = shape_nd(r)
    x, y = tensor(s, -6, 6, g), tensor(s, 0, 1, g)
    o = {'reduction': red(r)}
    ins = {'input': x, 'target': y}
    if r.random() < 0.5:
        ins['weight'] = tensor(weight_shape(r, s), 0.1, 2, g)
    if r.random() < 0.5:
        ins['pos_weight'] = tensor(s[-1:], 0.1, 3, g)
    def fn(t):
        return F.binary_cross_entropy_with_logits(t['input'], t['target'], weight=t.get('weight'),
                                                  pos_weight=t.get('pos_weight'), **o)
    return 'binary_cross_entropy_with_logits', ins, o, fn


def g_soft_margin(r, g):
    s = shape_nd(r)
    x = tensor(s, rng=g)
    y = torch.where(tensor(s, rng=g) > 0, 1.0, -1.0).to(torch.float64)
    o = {'reduction': red(r)}
    return 'soft_margin_loss', {'input': x, 'target': y}, o, lambda t: F.soft_margin_loss(t['input'], t['target'], **o)


def class_targets(r, g, shape, c, ignore):
    y = torch.randint(0, c, shape, generator=g)
    if ignore is not None:
        mask = torch.rand(shape, generator=g, dtype=torch.float64) < 0.3
        y = torch.where(mask, torch.tensor(ignore), y)
    return y


def g_ce(r, g, nll=False):
    c = r.randint(1, 300) if BIG and r.random() < 0.3 else r.randint(1, 5)
    k = r.random()
    if k < 0.15:
        s, ts = (c,), ()
    elif k < 0.75:
        n = r.randint(1, 5)
        s, ts = (n, c), (n,)
    else:
        n, d1, d2 = r.randint(1, 3), r.randint(1, 3), r.randint(1, 3)
        s, ts = (n, c, d1, d2), (n, d1, d2)
    x = tensor(s, -4, 4, g)
    if nll:
        x = torch.log_softmax(x, dim=0 if len(s) == 1 else 1)
    o = {'reduction': red(r)}
    ins = {'input': x}
    probs = not nll and r.random() < 0.3
    if probs:
        p = tensor(s, 0, 1, g)
        ins['target'] = p / p.sum(dim=0 if len(s) == 1 else 1, keepdim=True)
    else:
        ignore = None
        if r.random() < 0.5:
            ignore = r.choice((-100, 0, c - 1))
            if ignore != -100:
                o['ignore_index'] = ignore
            else:
                ignore = -100 if r.random() < 0.5 else None
        ins['target'] = class_targets(r, g, ts, c, ignore)
    if r.random() < 0.5:
        ins['weight'] = tensor((c,), 0.1, 2, g)
    if not nll and r.random() < 0.5:
        o['label_smoothing'] = r.choice((0.1, 0.3, 1.0))
    name = 'nll_loss' if nll else 'cross_entropy'
    def fn(t):
        f = F.nll_loss if nll else F.cross_entropy
        return f(t['input'], t['target'], weight=t.get('weight'), **o)
    return name, ins, o, fn


def g_kl(r, g):
    s = shape_nd(r)
    log_target = r.random() < 0.5
    x = tensor(s, -4, 0, g)
    y = tensor(s, -4, 0, g) if log_target else tensor(s, 0, 1, g)
    if not log_target and r.random() < 0.3:
        y = torch.where(y < 0.3, 0.0, y).to(torch.float64)
    o = {'reduction': red(r, ('batchmean',)), 'log_target': log_target}
    return 'kl_div', {'input': x, 'target': y}, o, lambda t: F.kl_div(t['input'], t['target'], **o)


def pm1(g, s):
    return torch.where(torch.rand(s, generator=g, dtype=torch.float64) > 0.5, 1.0, -1.0).to(torch.float64)


def g_hinge_emb(r, g):
    s = shape_nd(r)
    o = {'reduction': red(r), 'margin': r.choice((0.0, 1.0, 2.5))}
    return 'hinge_embedding_loss', {'input': tensor(s, -1, 3, g), 'target': pm1(g, s)}, o, \
        lambda t: F.hinge_embedding_loss(t['input'], t['target'], **o)


def g_margin_ranking(r, g):
    n = r.randint(1, 6)
    o = {'reduction': red(r), 'margin': r.choice((0.0, 0.5))}
    ins = {'input1': tensor((n,), rng=g), 'input2': tensor((n,), rng=g), 'target': pm1(g, (n,))}
    return 'margin_ranking_loss', ins, o, lambda t: F.margin_ranking_loss(t['input1'], t['input2'], t['target'], **o)


def g_cosine_emb(r, g):
    n, d = r.randint(1, 5), r.randint(1, 5)
    o = {'reduction': red(r), 'margin': r.choice((0.0, 0.3, -0.2))}
    ins = {'input1': tensor((n, d), rng=g), 'input2': tensor((n, d), rng=g), 'target': pm1(g, (n,))}
    return 'cosine_embedding_loss', ins, o, \
        lambda t: F.cosine_embedding_loss(t['input1'], t['input2'], t['target'], **o)


def g_multi_margin(r, g):
    n, c = r.randint(1, 5), r.randint(1, 5)
    o = {'reduction': red(r), 'p': r.choice((1, 2)), 'margin': r.choice((1.0, 0.5, 2.0))}
    ins = {'input': tensor((n, c), -2, 2, g), 'target': torch.randint(0, c, (n,), generator=g)}
    if r.random() < 0.5:
        ins['weight'] = tensor((c,), 0.1, 2, g)
    return 'multi_margin_loss', ins, o, \
        lambda t: F.multi_margin_loss(t['input'], t['target'], weight=t.get('weight'), **o)


def g_multilabel_margin(r, g):
    n, c = r.randint(1, 5), r.randint(1, 6)
    y = torch.full((n, c), -1, dtype=torch.long)
    for i in range(n):
        k = r.randint(0, c)
        labels = r.sample(range(c), k)
        for j, l in enumerate(labels):
            y[i, j] = l
        if k < c - 1 and r.random() < 0.3:
            y[i, k + 1] = r.randrange(c)   # after the first -1: ignored
    o = {'reduction': red(r)}
    return 'multilabel_margin_loss', {'input': tensor((n, c), -2, 2, g), 'target': y}, o, \
        lambda t: F.multilabel_margin_loss(t['input'], t['target'], **o)


def g_multilabel_soft(r, g):
    n, c = r.randint(1, 5), r.randint(1, 5)
    ins = {'input': tensor((n, c), rng=g), 'target': (torch.rand((n, c), generator=g, dtype=torch.float64) > 0.5).to(torch.float64)}
    if r.random() < 0.5:
        ins['weight'] = tensor((c,), 0.1, 2, g)
    o = {'reduction': red(r)}
    return 'multilabel_soft_margin_loss', ins, o, \
        lambda t: F.multilabel_soft_margin_loss(t['input'], t['target'], weight=t.get('weight'), **o)


def g_triplet(r, g):
    n, d = r.randint(1, 5), r.randint(1, 5)
    o = {'reduction': red(r), 'margin': r.choice((1.0, 0.2, 3.0)), 'p': r.choice((1.0, 2.0, 3.0)),
         'eps': r.choice((1e-6, 0.01)), 'swap': r.random() < 0.5}
    ins = {'anchor': tensor((n, d), rng=g), 'positive': tensor((n, d), rng=g), 'negative': tensor((n, d), rng=g)}
    return 'triplet_margin_loss', ins, o, \
        lambda t: F.triplet_margin_loss(t['anchor'], t['positive'], t['negative'], **o)


def g_ctc(r, g):
    n, c = r.randint(1, 3), r.randint(2, 5)
    tmax = r.randint(1, 7)
    blank = r.randrange(c)
    lengths_in = [r.randint(1, tmax) for _ in range(n)]
    smax = r.randint(0, 4)
    lengths_t = [r.randint(0, smax) for _ in range(n)]
    tg = torch.zeros((n, max(smax, 1)), dtype=torch.long)
    for i in range(n):
        for j in range(max(smax, 1)):
            v = r.randrange(c - 1)
            tg[i, j] = v if v < blank else v + 1
    lp = torch.log_softmax(tensor((tmax, n, c), -2, 2, g), dim=2)
    o = {'reduction': red(r), 'blank': blank, 'zero_infinity': r.random() < 0.5}
    ins = {'log_probs': lp, 'targets': tg, 'input_lengths': torch.tensor(lengths_in), 'target_lengths': torch.tensor(lengths_t)}
    return 'ctc_loss', ins, o, lambda t: F.ctc_loss(t['log_probs'], t['targets'], t['input_lengths'], t['target_lengths'], **o)


def g_focal(r, g):
    s = shape_nd(r)
    x, y = tensor(s, -6, 6, g), tensor(s, 0, 1, g)
    if r.random() < 0.5:
        y = (y > 0.5).to(torch.float64)
    o = {'reduction': red(r), 'alpha': r.choice((0.25, -1.0, 0.9)), 'gamma': r.choice((0.0, 0.5, 2.0, 3.0))}
    def fn(t):
        # torchvision.ops.sigmoid_focal_loss written out (torchvision is not a Debian package here), with
        # 1 − p_t = σ(x)(1 − y) + σ(−x)·y and ce = (1 − y)·softplus(x) + y·softplus(−x): the library's own form,
        # 1 − (p·y + (1 − p)(1 − y)), cancels near p = 1 and is 2 % off at x = 33.8 (LossLab matches mpmath there).
        xi, ti = t['inputs'], t['targets']
        q = torch.sigmoid(xi) * (1 - ti) + torch.sigmoid(-xi) * ti
        ce = (1 - ti) * softplus(xi) + ti * softplus(-xi)
        loss = ce * q ** o['gamma']
        if o['alpha'] >= 0:
            loss = (o['alpha'] * ti + (1 - o['alpha']) * (1 - ti)) * loss
        return {'none': loss, 'mean': loss.mean(), 'sum': loss.sum()}[o['reduction']]
    return 'sigmoid_focal_loss', {'inputs': x, 'targets': y}, o, fn


def corrupt(r, g, loss, ins):
    """One case in ten gets a value outside its domain; PyTorch raises (or returns NaN) and LossLab must raise."""
    if r.random() >= 0.1:
        return
    key = {'cross_entropy': 'target', 'nll_loss': 'target', 'multi_margin_loss': 'target', 'binary_cross_entropy': 'input',
           'gaussian_nll_loss': 'var', 'kl_div': 'target', 'multilabel_margin_loss': 'target'}.get(loss)
    if key is None or ins[key].numel() == 0:
        return
    t = ins[key]
    if loss == 'kl_div' and t.max() > 0 and bool((t >= 0).all()):
        bad = -0.5                                     # a negative probability (PyTorch: NaN; LossLab: an error)
    elif t.is_floating_point() and loss != 'kl_div':
        bad = 1.5 if loss == 'binary_cross_entropy' else -0.5
    elif not t.is_floating_point():
        bad = int(t.max()) + 7                         # a class index past the last class
    else:
        return
    flat = t.flatten()
    flat[r.randrange(flat.numel())] = bad
    ins[key] = flat.reshape(t.shape)


# pytorch-metric-learning's losses, written out from its definitions (it is not a Debian package): labels give the
# pairs (same label: positive, i ≠ j), `mean` is its reducer (NT-Xent: MeanReducer over positive pairs; SupCon and
# contrastive: AvgNonZeroReducer, contrastive per sub-loss), `sum` adds every term.

def embeddings_case(r, g):
    n, d = r.randint(2, 8), r.randint(2, 5)   # D = 1 makes every cosine ±1 and its gradient 0 up to round-off
    x = tensor((n, d), rng=g)
    labels = torch.randint(0, r.choice((2, 3)), (n,), generator=g)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(n, dtype=torch.bool)
    return x, labels, same & ~eye, ~same


def avg_nonzero(v):
    nz = v > 0
    return v[nz].mean() if bool(nz.any()) else v.sum() * 0


def g_contrastive(r, g):
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('mean', 'sum')), 'pos_margin': r.choice((0.0, 0.2)), 'neg_margin': r.choice((1.0, 0.5, 1.5)),
         'normalize_embeddings': r.random() < 0.7}
    def fn(t):
        e = t['embeddings']
        if o['normalize_embeddings']:
            e = e / e.norm(dim=1, keepdim=True)
        def dist(mask):   # only the pairs: sqrt at the zero diagonal would put NaN into the gradient
            i, j = mask.nonzero(as_tuple=True)
            return (e[i] - e[j]).norm(dim=1)
        pl, nl = torch.relu(dist(pos) - o['pos_margin']), torch.relu(o['neg_margin'] - dist(neg))
        if o['reduction'] == 'sum':
            return pl.sum() + nl.sum()
        return avg_nonzero(pl) + avg_nonzero(nl)
    return 'contrastive_loss', {'embeddings': x, 'labels': labels}, o, fn


def cosine(e):
    u = e / e.norm(dim=1, keepdim=True)
    return u @ u.T


def g_ntxent(r, g):
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('mean', 'sum')), 'temperature': r.choice((0.07, 0.5, 1.0))}
    def fn(t):
        s = cosine(t['embeddings']) / o['temperature']
        terms = []
        for a, p in pos.nonzero().tolist():
            negs = s[a][neg[a]]
            terms.append(torch.logsumexp(torch.cat([s[a, p].reshape(1), negs]), 0) - s[a, p])
        if not terms:
            return t['embeddings'].sum() * 0
        v = torch.stack(terms)
        return v.sum() if o['reduction'] == 'sum' else v.mean()
    return 'ntxent_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_supcon(r, g):
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('mean', 'sum')), 'temperature': r.choice((0.1, 0.5, 1.0))}
    def fn(t):
        s = cosine(t['embeddings']) / o['temperature']
        n = s.shape[0]
        per = []
        for a in range(n):
            others = [j for j in range(n) if j != a]
            lse = torch.logsumexp(s[a, others], 0)
            ps = pos[a].nonzero().flatten().tolist()
            per.append(-(s[a, ps] - lse).mean() if ps else s[a, a] * 0)
        v = torch.stack(per)
        return v.sum() if o['reduction'] == 'sum' else avg_nonzero(v)
    return 'supcon_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_multi_similarity(r, g):
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('mean', 'sum')), 'alpha': r.choice((2.0, 1.0)), 'beta': r.choice((50.0, 10.0)), 'base': r.choice((0.5, 0.0))}
    def fn(t):
        s = cosine(t['embeddings'])
        per = []
        for a in range(s.shape[0]):
            zp = -o['alpha'] * (s[a][pos[a]] - o['base'])
            zn = o['beta'] * (s[a][neg[a]] - o['base'])
            one = torch.zeros(1, dtype=s.dtype)
            per.append(torch.logsumexp(torch.cat([one, zp]), 0) / o['alpha'] + torch.logsumexp(torch.cat([one, zn]), 0) / o['beta'])
        v = torch.stack(per)
        return v.sum() if o['reduction'] == 'sum' else v.mean()
    return 'multi_similarity_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_circle(r, g):
    # detach_weights = false: the true gradient (the paper's detached one is not the value's derivative).
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('mean', 'sum')), 'm': r.choice((0.4, 0.25)), 'gamma': r.choice((80.0, 10.0)), 'detach_weights': False}
    def fn(t):
        s = cosine(t['embeddings'])
        per = []
        for a in range(s.shape[0]):
            sp, sn = s[a][pos[a]], s[a][neg[a]]
            if sp.numel() == 0 or sn.numel() == 0:
                per.append(s[a, a] * 0)
                continue
            ap, an = torch.relu(1 + o['m'] - sp), torch.relu(sn + o['m'])
            z = torch.logsumexp(o['gamma'] * an * (sn - o['m']), 0) + torch.logsumexp(-o['gamma'] * ap * (sp - 1 + o['m']), 0)
            per.append(softplus(z))
        v = torch.stack(per)
        return v.sum() if o['reduction'] == 'sum' else avg_nonzero(v)
    return 'circle_loss', {'embeddings': x, 'labels': labels}, o, fn


# segmentation_models_pytorch's Dice, Jaccard and Tversky losses (not a Debian package), written out from its
# DiceLoss.forward and soft_tversky_score: TP = (Σo + Σt − ‖o − t‖₁)/2 per class over batch and pixels, Dice is
# Tversky with α = β = ½ and Jaccard with α = β = 1, classes without target pixels count 0, mean over classes, ^γ.

def g_overlap(name):
    def gen(r, g):
        mode = r.choice(('binary', 'multiclass', 'multilabel'))
        n, c, h, w = r.randint(1, 3), (1 if mode == 'binary' else r.randint(2, 4)), r.randint(1, 3), r.randint(1, 4)
        x = tensor((n, c, h, w), rng=g)
        o = {'mode': mode, 'from_logits': r.random() < 0.7, 'smooth': r.choice((0.0, 1.0, 0.3)), 'log_loss': r.random() < 0.3}
        if not o['from_logits']:
            x = torch.sigmoid(x) if mode != 'multiclass' else torch.softmax(x, 1)
        ignore = r.choice((None, None, -1, 255))
        if ignore is not None:
            o['ignore_index'] = ignore
        if mode == 'multiclass':
            y = torch.randint(0, c, (n, h, w), generator=g)
        else:
            y = (torch.rand((n, c, h, w), generator=g, dtype=torch.float64) > 0.5).to(torch.float64)
            if r.random() < 0.3:
                y = torch.rand((n, c, h, w), generator=g, dtype=torch.float64)   # soft targets
        if ignore is not None:
            mask = torch.rand(y.shape, generator=g, dtype=torch.float64) < 0.2
            y = torch.where(mask, torch.tensor(ignore, dtype=y.dtype), y)
        alpha, beta, gamma = {'dice_loss': (0.5, 0.5, 1.0), 'jaccard_loss': (1.0, 1.0, 1.0)}.get(name, (None, None, None))
        if name == 'tversky_loss':
            alpha, beta, gamma = r.choice((0.3, 0.5, 0.7)), r.choice((0.3, 0.5, 0.7)), r.choice((1.0, 0.75, 2.0))
            o.update({'alpha': alpha, 'beta': beta, 'gamma': gamma})

        def fn(t):
            yp, yt = t['input'], t['target']
            if o['from_logits']:
                yp = yp.log_softmax(1).exp() if mode == 'multiclass' else F.logsigmoid(yp).exp()
            bs = yt.shape[0]
            if mode == 'multiclass':
                yt = yt.reshape(bs, -1)
                yp = yp.reshape(bs, c, -1)
                if ignore is not None:
                    m = yt != ignore
                    yp = yp * m.unsqueeze(1)
                    yt = F.one_hot((yt * m).long(), c).permute(0, 2, 1) * m.unsqueeze(1)
                else:
                    yt = F.one_hot(yt, c).permute(0, 2, 1)
            else:
                yt = yt.reshape(bs, c, -1)
                yp = yp.reshape(bs, c, -1)
                if ignore is not None:
                    m = yt != ignore
                    yp, yt = yp * m, yt * m
            yt = yt.to(yp.dtype)
            dims = (0, 2)
            so, st = yp.sum(dims), yt.sum(dims)
            tp = (so + st - (yp - yt).abs().sum(dims)) / 2
            score = (tp + o['smooth']) / (tp + alpha * (so - tp) + beta * (st - tp) + o['smooth']).clamp_min(1e-7)
            loss = -torch.log(score.clamp_min(1e-7)) if o['log_loss'] else 1.0 - score
            loss = loss * (yt.sum(dims) > 0).to(loss.dtype)
            return loss.mean() ** gamma
        return name, {'input': x, 'target': y}, o, fn
    return gen


def lovasz_weights(fg_sorted):
    gts = fg_sorted.sum()
    inter = gts - fg_sorted.cumsum(0)
    union = gts + (1 - fg_sorted).cumsum(0)
    j = 1.0 - inter / union
    if len(fg_sorted) > 1:
        j = torch.cat([j[:1], j[1:] - j[:-1]])
    return j


def lovasz_hinge_flat(x, y):
    if len(y) == 0:
        return x.sum() * 0
    e = 1.0 - x * (2 * y - 1)
    e_sorted, perm = torch.sort(e, descending=True)
    return torch.dot(torch.relu(e_sorted), lovasz_weights(y[perm]))


def lovasz_softmax_flat(p, y):
    losses = []
    for c in range(p.shape[1]):
        fg = (y == c).to(p.dtype)
        if fg.sum() == 0:
            continue
        e = (fg - p[:, c]).abs()
        e_sorted, perm = torch.sort(e, descending=True)
        losses.append(torch.dot(e_sorted, lovasz_weights(fg[perm])))
    return torch.stack(losses).mean() if losses else p.sum() * 0


def g_lovasz(name):
    # smp's LovaszLoss (binary: _lovasz_hinge; multiclass: softmax then _lovasz_softmax), per_image or pooled.
    def gen(r, g):
        n, h, w = r.randint(1, 3), r.randint(1, 3), r.randint(1, 4)
        per_image = r.random() < 0.5
        ignore = r.choice((None, 255))
        o = {'per_image': per_image}
        if ignore is not None:
            o['ignore_index'] = ignore
        if name == 'lovasz_hinge':
            x = tensor((n, h, w), rng=g)
            y = (torch.rand((n, h, w), generator=g, dtype=torch.float64) > 0.5).to(torch.float64)
            if ignore is not None:
                y = torch.where(torch.rand((n, h, w), generator=g, dtype=torch.float64) < 0.2, float(ignore), y)
        else:
            c = r.randint(2, 4)
            x = tensor((n, c, h, w), rng=g)
            y = torch.randint(0, c, (n, h, w), generator=g)
            if ignore is not None:
                y = torch.where(torch.rand((n, h, w), generator=g, dtype=torch.float64) < 0.2, torch.tensor(ignore), y)

        def flat(xi, yi):
            if name == 'lovasz_hinge':
                xi, yi = xi.reshape(-1), yi.reshape(-1)
                if ignore is not None:
                    keep = yi != ignore
                    xi, yi = xi[keep], yi[keep]
                return lovasz_hinge_flat(xi, yi)
            pi = torch.softmax(xi, 0).reshape(xi.shape[0], -1).T
            yi = yi.reshape(-1)
            if ignore is not None:
                keep = yi != ignore
                pi, yi = pi[keep], yi[keep]
            return lovasz_softmax_flat(pi, yi)

        def fn(t):
            xs, ys = t['input'], t['target']
            if per_image:
                return torch.stack([flat(xs[b], ys[b]) for b in range(n)]).mean()
            if name == 'lovasz_hinge':
                return flat(xs, ys)
            # pooled multiclass: every pixel of the batch, classes along dim 1
            return flat(xs.transpose(0, 1), ys)
        return name, {'input': x, 'target': y}, o, fn
    return gen


# The modern and Optax losses, written out from their definitions (Optax returns per-row values: reduction none).

def rows_case(r, g, lo=-3.0, hi=3.0):
    n, c = r.randint(1, 5), r.randint(2, 5)
    return tensor((n, c), lo, hi, g), torch.randint(0, c, (n,), generator=g), n, c


def reduce_rows(v, reduction):
    return {'none': v, 'mean': v.mean(), 'sum': v.sum()}[reduction]


def g_gce(r, g):
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'q': r.choice((0.7, 0.3, 1.0))}
    def fn(t):
        py = torch.softmax(t['input'], 1).gather(1, t['target'].unsqueeze(1)).squeeze(1)
        return reduce_rows((1 - py ** o['q']) / o['q'], o['reduction'])
    return 'generalized_cross_entropy', {'input': x, 'target': y}, o, fn


def g_sce(r, g):
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'alpha': r.choice((0.1, 1.0)), 'beta': r.choice((1.0, 0.5)), 'label_clamp': r.choice((1e-4, 0.01))}
    def fn(t):
        p = torch.softmax(t['input'], 1)
        onehot = F.one_hot(t['target'], c).to(p.dtype).clamp(o['label_clamp'], 1.0)
        ce = -torch.log_softmax(t['input'], 1).gather(1, t['target'].unsqueeze(1)).squeeze(1)
        rce = -(p * torch.log(onehot)).sum(1)
        return reduce_rows(o['alpha'] * ce + o['beta'] * rce, o['reduction'])
    return 'symmetric_cross_entropy', {'input': x, 'target': y}, o, fn


def g_scfocal(r, g):
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'gamma': r.choice((2.0, 0.0, 1.0, 3.0))}
    ins = {'input': x, 'target': y}
    if r.random() < 0.5:
        ins['weight'] = tensor((c,), 0.1, 2, g)
    if r.random() < 0.3:
        o['ignore_index'] = 0
    def fn(t):
        lp = torch.log_softmax(t['input'], 1)
        yy = t['target']
        keep = yy != o.get('ignore_index', -100)
        safe = torch.where(keep, yy, torch.zeros_like(yy))
        lpy = lp.gather(1, safe.unsqueeze(1)).squeeze(1)
        w = t['weight'][safe] if 'weight' in t else torch.ones_like(lpy)
        q = -torch.expm1(lpy)
        v = torch.where(keep, -w * q ** o['gamma'] * lpy, torch.zeros_like(lpy))
        if o['reduction'] == 'mean':
            return v.sum() / torch.where(keep, w, torch.zeros_like(w)).sum()
        return reduce_rows(v, o['reduction'])
    return 'sparse_categorical_focal_loss', ins, o, fn


def g_crammer_singer(r, g):
    x, y, n, c = rows_case(r, g)
    o = {'reduction': r.choice(('none', 'sum', 'mean'))}
    def fn(t):
        onehot = F.one_hot(t['labels'], c).to(t['scores'].dtype)
        v = (t['scores'] + 1 - onehot).max(1).values - (t['scores'] * onehot).sum(1)
        return reduce_rows(v, o['reduction'])
    return 'multiclass_hinge_loss', {'scores': x, 'labels': y}, o, fn


def g_perceptron(r, g):
    x, y, n, c = rows_case(r, g)
    o = {'reduction': r.choice(('none', 'sum', 'mean'))}
    def fn(t):
        onehot = F.one_hot(t['labels'], c).to(t['scores'].dtype)
        return reduce_rows(t['scores'].max(1).values - (t['scores'] * onehot).sum(1), o['reduction'])
    return 'multiclass_perceptron_loss', {'scores': x, 'labels': y}, o, fn


def g_convex_kl(r, g):
    n, k = r.randint(1, 4), r.randint(1, 5)
    lp, tt = tensor((n, k), -3, 1, g), tensor((n, k), 0.01, 2, g)
    o = {'reduction': r.choice(('none', 'sum', 'mean'))}
    def fn(t):
        v = (t['targets'] * (torch.log(t['targets']) - t['log_predictions']) + torch.exp(t['log_predictions']) - t['targets']).sum(-1)
        return reduce_rows(v, o['reduction'])
    return 'convex_kl_divergence', {'log_predictions': lp, 'targets': tt}, o, fn


def g_js(r, g):
    n, k = r.randint(1, 4), r.randint(2, 5)
    p, q = tensor((n, k), 0.01, 1, g), tensor((n, k), 0.01, 1, g)
    p, q = p / p.sum(1, keepdim=True), q / q.sum(1, keepdim=True)
    o = {'reduction': red(r), 'beta': r.choice((0.5, 0.3, 0.7)), 'normalize': r.random() < 0.3}
    def fn(t):
        pp, qq, b = t['input'], t['target'], o['beta']
        m = b * qq + (1 - b) * pp
        v = (b * (qq * torch.log(qq / m)) + (1 - b) * (pp * torch.log(pp / m))).sum(-1)
        if o['normalize']:
            v = v / (-(1 - b) * math.log(1 - b))
        return reduce_rows(v, o['reduction'])
    return 'js_divergence', {'input': p, 'target': q}, o, fn


def g_poly(r, g):
    x, y, n, c = rows_case(r, g)
    labels = tensor((n, c), 0, 1, g)
    labels = labels / labels.sum(1, keepdim=True) if r.random() < 0.5 else F.one_hot(y, c).to(torch.float64)
    o = {'reduction': r.choice(('none', 'sum', 'mean')), 'epsilon': r.choice((2.0, 1.0, -1.0))}
    def fn(t):
        lp = torch.log_softmax(t['logits'], 1)
        pt = (t['labels'] * lp.exp()).sum(1)
        return reduce_rows(-(t['labels'] * lp).sum(1) + o['epsilon'] * (1 - pt), o['reduction'])
    return 'poly_loss_cross_entropy', {'logits': x, 'labels': labels}, o, fn


LOGIT_LOSSES = ('binary_cross_entropy_with_logits', 'cross_entropy', 'sigmoid_focal_loss', 'multilabel_soft_margin_loss',
                'mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'multi_margin_loss', 'triplet_margin_loss')

GENERATORS = {
    'mse_loss': g_pointwise('mse_loss', F.mse_loss),
    'l1_loss': g_pointwise('l1_loss', F.l1_loss),
    'smooth_l1_loss': g_pointwise('smooth_l1_loss', F.smooth_l1_loss, lambda r: {'beta': r.choice((0.0, 0.5, 1.0, 2.0))}),
    'huber_loss': g_pointwise('huber_loss', F.huber_loss, lambda r: {'delta': r.choice((0.5, 1.0, 2.0))}),
    'poisson_nll_loss': g_poisson,
    'gaussian_nll_loss': g_gaussian,
    'binary_cross_entropy': g_bce,
    'binary_cross_entropy_with_logits': g_bce_logits,
    'soft_margin_loss': g_soft_margin,
    'cross_entropy': lambda r, g: g_ce(r, g, False),
    'nll_loss': lambda r, g: g_ce(r, g, True),
    'kl_div': g_kl,
    'hinge_embedding_loss': g_hinge_emb,
    'margin_ranking_loss': g_margin_ranking,
    'cosine_embedding_loss': g_cosine_emb,
    'multi_margin_loss': g_multi_margin,
    'multilabel_margin_loss': g_multilabel_margin,
    'multilabel_soft_margin_loss': g_multilabel_soft,
    'triplet_margin_loss': g_triplet,
    'ctc_loss': g_ctc,
    'sigmoid_focal_loss': g_focal,
    'contrastive_loss': g_contrastive,
    'ntxent_loss': g_ntxent,
    'supcon_loss': g_supcon,
    'multi_similarity_loss': g_multi_similarity,
    'circle_loss': g_circle,
    'dice_loss': g_overlap('dice_loss'),
    'jaccard_loss': g_overlap('jaccard_loss'),
    'tversky_loss': g_overlap('tversky_loss'),
    'lovasz_hinge': g_lovasz('lovasz_hinge'),
    'lovasz_softmax': g_lovasz('lovasz_softmax'),
    'generalized_cross_entropy': g_gce,
    'symmetric_cross_entropy': g_sce,
    'sparse_categorical_focal_loss': g_scfocal,
    'multiclass_hinge_loss': g_crammer_singer,
    'multiclass_perceptron_loss': g_perceptron,
    'convex_kl_divergence': g_convex_kl,
    'js_divergence': g_js,
    'poly_loss_cross_entropy': g_poly,
}


# ------------------------------------------------------------------ random expressions (the autograd core)
# Each node is (LossLab text, torch function of the tensors). Arguments are kept inside each function's domain by
# construction (log of softplus + 0.1, division by |b| + 0.5), so both sides stay finite.

def expr_node(r, depth):
    if depth == 0 or r.random() < 0.2:
        k = r.random()
        if k < 0.45:
            return 'input', lambda t: t['input']
        if k < 0.9:
            return 'target', lambda t: t['target']
        c = r.choice((0.5, 2.0, 1.5, 3.0))
        return repr(c), lambda t, c=c: torch.tensor(c, dtype=torch.float64)
    kind = r.random()
    if kind < 0.45:
        a, fa = expr_node(r, depth - 1)
        op = r.choice(('exp', 'log', 'sqrt', 'abs', 'relu', 'sigmoid', 'tanh', 'softplus', 'neg', 'sq', 'cube', 'clamp'))
        return {
            'exp': ('exp(clamp(%s, -5, 5))' % a, lambda t: torch.exp(torch.clamp(fa(t), -5, 5))),
            'log': ('log(softplus(%s) + 0.1)' % a, lambda t: torch.log(softplus(fa(t)) + 0.1)),
            'sqrt': ('sqrt(abs(%s) + 0.1)' % a, lambda t: torch.sqrt(torch.abs(fa(t)) + 0.1)),
            'abs': ('abs(%s)' % a, lambda t: torch.abs(fa(t))),
            'relu': ('relu(%s)' % a, lambda t: torch.relu(fa(t))),
            'sigmoid': ('sigmoid(%s)' % a, lambda t: torch.sigmoid(fa(t))),
            'tanh': ('tanh(%s)' % a, lambda t: torch.tanh(fa(t))),
            'softplus': ('softplus(%s)' % a, lambda t: softplus(fa(t))),
            'neg': ('-(%s)' % a, lambda t: -fa(t)),
            'sq': ('(%s)^2' % a, lambda t: fa(t) ** 2),
            'cube': ('(%s)**3' % a, lambda t: fa(t) ** 3),
            'clamp': ('clamp(%s, -0.7, 0.9)' % a, lambda t: torch.clamp(fa(t), -0.7, 0.9)),
        }[op]
    if kind < 0.8:
        (a, fa), (b, fb) = expr_node(r, depth - 1), expr_node(r, depth - 1)
        op = r.choice(('+', '-', '*', '/', 'minimum', 'maximum', 'where'))
        return {
            '+': ('(%s + %s)' % (a, b), lambda t: fa(t) + fb(t)),
            '-': ('(%s - %s)' % (a, b), lambda t: fa(t) - fb(t)),
            '*': ('(%s * %s)' % (a, b), lambda t: fa(t) * fb(t)),
            '/': ('(%s / (abs(%s) + 0.5))' % (a, b), lambda t: fa(t) / (torch.abs(fb(t)) + 0.5)),
            'minimum': ('minimum(%s, %s)' % (a, b), lambda t: torch.minimum(fa(t), fb(t))),
            'maximum': ('maximum(%s, %s)' % (a, b), lambda t: torch.maximum(fa(t), fb(t))),
            'where': ('where(%s < %s, %s, %s)' % (a, b, a, b),
                      lambda t: torch.where(fa(t) < fb(t), fa(t), fb(t))),
        }[op]
    a, fa = expr_node(r, depth - 1)
    a = '(%s + 0*input)' % a          # an axis needs a tensor: a constant alone is rejected (as it should be)
    axis = r.choice((0, 1))
    op = r.choice(('softmax', 'log_softmax', 'sum', 'mean', 'max', 'logsumexp'))
    if op in ('softmax', 'log_softmax'):
        f = torch.softmax if op == 'softmax' else torch.log_softmax
        return '%s(%s, axis=%d)' % (op, a, axis), lambda t: f(fa(t).expand(t['input'].shape), dim=axis)
    f = {'sum': lambda x: torch.sum(x, dim=axis, keepdim=True), 'mean': lambda x: torch.mean(x, dim=axis, keepdim=True),
         'max': lambda x: torch.amax(x, dim=axis, keepdim=True), 'logsumexp': lambda x: torch.logsumexp(x, dim=axis, keepdim=True)}[op]
    # keepdim and a broadcast back against the input keep every node (N, C).
    return ('(%s(%s, axis=%d, keepdim=true) + 0*input)' % (op, a, axis),
            lambda t: f(fa(t).expand(t['input'].shape)) + 0 * t['input'])


def expression_cases(r, g, count):
    cases = []
    for _ in range(count):
        text, fn = expr_node(r, r.randint(1, 4))
        n, c = r.randint(1, 4), r.randint(1, 4)
        ins = {'input': tensor((n, c), rng=g), 'target': tensor((n, c), rng=g)}
        outer = r.choice(('mean', 'sum'))
        reduce = torch.mean if outer == 'mean' else torch.sum
        # + 0*input + 0*target: an expression must use every input of the request.
        cases.append(('expr:%s(%s + 0*input + 0*target)' % (outer, text), ins, {},
                      lambda t, fn=fn, reduce=reduce: reduce(fn(t).expand(t['input'].shape) + 0 * t['input'] + 0 * t['target'])))
    return cases


def torch_answer(fn, ins):
    """(value, {name: grad}) or ('error', message). Gradients only for inputs torch can differentiate."""
    def run(grad_names):
        t = {}
        for k, v in ins.items():
            v = v.clone()
            if k in grad_names:
                v.requires_grad_(True)
            t[k] = v
        out = fn(t)
        grads = {}
        if grad_names:
            out.sum().backward()
            grads = {k: t[k].grad for k in grad_names if t[k].grad is not None}
        return out.detach(), grads
    floats = [k for k, v in ins.items() if v.is_floating_point()]
    try:
        return run(floats)
    except Exception as e:
        msg = str(e)
    # Some targets have no derivative in PyTorch (e.g. binary_cross_entropy's): drop them one at a time.
    for drop in range(len(floats)):
        try:
            return run(floats[:drop] + floats[drop + 1:])
        except Exception:
            pass
    try:
        return run(floats[:1])
    except Exception:
        pass
    try:
        out, _ = run([])
        return out, {}
    except Exception as e:
        return 'error', str(e).splitlines()[0]


def close(a, b):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = b.to(torch.float64)
    if a.shape != b.shape:
        if a.numel() == b.numel() == 1:
            a, b = a.reshape(()), b.reshape(())
        else:
            return False, 'shape %s vs torch %s' % (tuple(a.shape), tuple(b.shape))
    both_nan = torch.isnan(a) & torch.isnan(b)
    diff = (a - b).abs()
    ok = both_nan | (a == b) | (diff <= ATOL + RTOL * b.abs())
    if bool(ok.all()):
        return True, ''
    i = int((~ok).flatten().nonzero()[0])
    return False, "at flat index %d: %r vs torch %r (tolerance %.3g)" % (i, a.flatten()[i].item(), b.flatten()[i].item(), ATOL + RTOL * abs(b.flatten()[i].item()))


def decode(x):
    if isinstance(x, list):
        return [decode(v) for v in x]
    if isinstance(x, str):
        return float(x)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--cases', type=int, default=40, help='random cases per loss')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--only', default=None)
    ap.add_argument('--dtype', default='float64', choices=('float64', 'float32'),
                    help='float32: LossLab computes in float32 (its SIMD kernels) on float32-rounded inputs, '
                         'PyTorch in float64; compared to float32 tolerances')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--big', action='store_true', help='some last dimensions (and class counts) up to 300')
    ap.add_argument('--expressions', type=int, default=0,
                    help='also this many random expressions (expr:...) of the autograd primitives')
    a = ap.parse_args()
    torch.set_num_threads(1)
    global RTOL, ATOL, BIG
    BIG = a.big
    if a.dtype == 'float32':
        RTOL, ATOL = 2e-5, 2e-6
    r = random.Random(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    cases = []
    for name, gen in GENERATORS.items():
        if a.only and name != a.only:
            continue
        for _ in range(a.cases):
            loss, ins, opts, fn = gen(r, g)
            corrupt(r, g, loss, ins)
            if loss in LOGIT_LOSSES and r.random() < 0.15:
                for key in ('input', 'inputs', 'anchor', 'positive', 'negative'):
                    if key in ins:
                        ins[key] = ins[key] * 40.0     # logits far out, where the naive formulas overflow
            if a.dtype == 'float32':
                ins = {k: v.float().double() if v.is_floating_point() else v for k, v in ins.items()}
            cases.append((loss, ins, dict(opts), fn))
    cases += expression_cases(r, g, a.expressions)
    with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as f:
        for i, (loss, ins, opts, fn) in enumerate(cases):
            # PyTorch's weight tensors are LossLab options.
            o = dict(opts, **{k: v.tolist() for k, v in ins.items() if k in OPTION_TENSORS})
            req = {'id': str(i), 'loss': loss, 'dtype': a.dtype,
                   'inputs': {k: v.tolist() for k, v in ins.items() if k not in OPTION_TENSORS}, 'options': o}
            f.write(json.dumps(req) + '\n')
        path = f.name
    out = subprocess.run(shlex.split(a.cli) + ['loss', '--batch', path], capture_output=True, text=True)
    answers = {}
    for line in out.stdout.splitlines():
        if line.strip():
            d = json.loads(line)
            answers[d.get('id')] = d
    agreed = disagreed = both_rejected = 0
    for i, (loss, ins, opts, fn) in enumerate(cases):
        mine = answers.get(str(i))
        theirs = torch_answer(fn, ins)
        problems = []
        if mine is None:
            problems.append('no answer')
        elif 'error' in mine and mine['error']['code'] == 'invalid_value' and theirs[0] != 'error' \
                and not bool(torch.isfinite(theirs[0]).all()):
            pass                                       # PyTorch returns NaN where LossLab raises: stricter on purpose
        elif theirs[0] == 'error' or 'error' in mine:
            if not (theirs[0] == 'error' and 'error' in mine):
                problems.append('torch: %s / losslab: %s' % (
                    theirs[1] if theirs[0] == 'error' else 'ok',
                    mine['error']['message'] if 'error' in mine else 'ok'))
        else:
            ok, why = close(decode(mine['loss']), theirs[0])
            if not ok:
                problems.append('value ' + why)
            for k, gt in theirs[1].items():
                if k in OPTION_TENSORS or (loss, k) in NO_GRAD:
                    continue
                gm = mine.get('grads', {}).get(k)
                if loss == 'kl_div' and k == 'target' and not opts['log_target']:
                    # Documented: at t = 0 LossLab returns the limit -inf where PyTorch's autograd gives NaN.
                    gt = torch.where(ins['target'] == 0, -math.inf, gt)
                if loss == 'poisson_nll_loss' and k == 'target' and opts['full'] and gm is not None:
                    # Documented: the Stirling term is 0 with gradient 0 where y <= 1; PyTorch's autograd gives NaN at y = 0.
                    zero = (ins['target'] == 0) & torch.isnan(gt)
                    gt = torch.where(zero, torch.as_tensor(decode(gm), dtype=torch.float64), gt)
                if loss == 'sigmoid_focal_loss' and gm is not None:
                    # Documented: where p_t rounds to 1 with γ < 1, PyTorch's autograd gives 0·∞ = NaN; LossLab's
                    # gradient is finite for every γ ≥ 0 (and tiny there).
                    mine_g = torch.as_tensor(decode(gm), dtype=torch.float64)
                    gt = torch.where(torch.isnan(gt) & (mine_g.abs() < 1e-8), mine_g, gt)
                if loss == 'tversky_loss' and float(theirs[0]) == 0 and bool(torch.isnan(gt).all()):
                    # A zero mean raised to γ < 1 has an infinite slope: PyTorch's autograd gives NaN, LossLab 0.
                    continue
                if gm is None:
                    problems.append('no gradient for %s' % k)
                    continue
                ok, why = close(decode(gm), gt)
                if not ok:
                    problems.append('grad %s %s' % (k, why))
        if problems:
            disagreed += 1
            shapes = {k: tuple(v.shape) for k, v in ins.items()}
            print('DIFF %s %s %s: %s' % (loss, json.dumps(opts), shapes, '; '.join(problems)))
            if a.verbose:
                print('   ', json.dumps({k: v.tolist() for k, v in ins.items()}))
        else:
            agreed += 1
            both_rejected += theirs[0] == 'error'
    names = {c[0] for c in cases if not c[0].startswith('expr:')}
    print('torch-diff: %d agreed (%d of them rejected by both), %d disagreed over %d losses and %d expressions'
          % (agreed, both_rejected, disagreed, len(names), a.expressions))
    sys.exit(1 if disagreed else 0)


if __name__ == '__main__':
    main()
