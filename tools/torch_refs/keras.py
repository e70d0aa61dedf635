"""Keras 3 losses written out in torch (Keras is not a Debian package)."""
import math

import torch
import torch.nn.functional as F

from .common import log_cosh, softplus, tensor


# Keras 3 (keras/src/losses/losses.py and loss.py), written out: per-sample values average over the last axis, then
# sum_over_batch_size = Σ(ℓ·w)/numel(ℓ), mean_with_sample_weight = Σ(ℓ·w)/Σw, sum, none. Keras's epsilon is a
# float32 1e-7 (its default floatx), as LossLab reads it.
KERAS_EPS = float(torch.tensor(1e-7, dtype=torch.float32))
KERAS_ONE_MINUS_EPS = float(torch.tensor(1 - 1e-7, dtype=torch.float32))   # 1 − 2⁻²³


def keras_clip(p):
    """Keras's probability clip, clip(p, ε, 1 − ε)."""
    return p.clamp(KERAS_EPS, KERAS_ONE_MINUS_EPS)


def keras_log_probs(y_pred, from_logits):
    """log_softmax of logits, or the log of probabilities renormalized over the last axis and clipped."""
    return torch.log_softmax(y_pred, -1) if from_logits else torch.log(keras_clip(y_pred / y_pred.sum(-1, keepdim=True)))


def keras_reduce(values, t, reduction, mask=None):
    """The reduction, after keras/src/losses/loss.py apply_mask: a mask joins the sample weight, rescaled by
    divide_no_nan(total, valid) for sum_over_batch_size."""
    w = t.get('sample_weight')
    if mask is not None:
        if reduction == 'sum_over_batch_size':
            valid = mask.sum()
            mask = mask * (mask.numel() / valid if valid > 0 else 0.0)
        w = mask if w is None else w * mask
    weighted = values * w if w is not None else values
    if reduction == 'none':
        return weighted
    if reduction == 'sum':
        return weighted.sum()
    if reduction == 'mean_with_sample_weight' and w is not None:
        return weighted.sum() / w.sum() if float(w.sum()) != 0 else weighted.sum() * 0   # divide_no_nan
    return weighted.sum() / values.numel()


def g_keras(name):
    def gen(r, g):
        # Cosine similarity of 1-D vectors is ±1 with gradient 0 up to float32 round-off of the normalization.
        n, d = r.randint(1, 5), r.randint(2 if name == 'keras.cosine_similarity' else 1, 4)
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
                return log_cosh(b - a).mean(-1)
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


def logits_or_probabilities(r, g, high):
    """y_pred of shape (n, c) for a from_logits option drawn here: logits in [−3, 3], or probabilities in
    [0.01, high] (Keras renormalizes them where it needs to)."""
    n, c = r.randint(1, 5), r.randint(2, 5)
    from_logits = r.random() < 0.5
    return n, c, from_logits, tensor((n, c), -3, 3, g) if from_logits else tensor((n, c), 0.01, high, g)


def g_keras_crossentropy(name):
    """keras.binary_crossentropy, categorical_crossentropy and sparse_categorical_crossentropy (with ignore_class)."""
    def gen(r, g):
        n, c, from_logits, yp = logits_or_probabilities(r, g, 1.0)
        o = {'reduction': r.choice(('sum_over_batch_size', 'sum', 'none', 'mean_with_sample_weight')), 'from_logits': from_logits}
        if name == 'keras.sparse_categorical_crossentropy':
            yt = torch.randint(0, c, (n,), generator=g)
            if r.random() < 0.4:
                o['ignore_class'] = 0
        else:
            o['label_smoothing'] = r.choice((0.0, 0.1, 0.3))
            yt = tensor((n, c), 0, 1, g) if name == 'keras.binary_crossentropy' else F.one_hot(torch.randint(0, c, (n,), generator=g), c).to(torch.float64)
        ins = {'y_true': yt, 'y_pred': yp}
        if r.random() < 0.5:
            ins['sample_weight'] = tensor((n,), 0.1, 2.0, g)

        def fn(t):
            a, b = t['y_true'], t['y_pred']
            mask = None
            if name == 'keras.binary_crossentropy':
                a = a * (1 - o['label_smoothing']) + 0.5 * o['label_smoothing']
                if from_logits:
                    v = F.binary_cross_entropy_with_logits(b, a, reduction='none')
                else:
                    cb = keras_clip(b)
                    v = -(a * torch.log(cb) + (1 - a) * torch.log(1 - cb))
                values = v.mean(-1)
            elif name == 'keras.categorical_crossentropy':
                a = a * (1 - o['label_smoothing']) + o['label_smoothing'] / c
                values = -(a * keras_log_probs(b, from_logits)).sum(-1)
            else:
                values = -keras_log_probs(b, from_logits).gather(1, a.unsqueeze(1)).squeeze(1)
                if 'ignore_class' in o:
                    mask = (a != o['ignore_class']).to(values.dtype)
                    values = values * mask
            return keras_reduce(values, t, o['reduction'], mask)
        return name, ins, o, fn
    return gen


def g_keras_overlap(name):
    """keras.dice, keras.tversky and keras.iou with axis=None: one value over the whole batch (never reduced)."""
    def gen(r, g):
        shape = tuple(r.randint(1, 4) for _ in range(r.randint(1, 3)))
        yt = (torch.rand(shape, generator=g, dtype=torch.float64) > 0.5).to(torch.float64)
        if r.random() < 0.3:
            yt = torch.rand(shape, generator=g, dtype=torch.float64)
        yp = tensor(shape, 0, 1, g)
        o = {}
        if name == 'keras.tversky':
            o = {'alpha': r.choice((0.5, 0.3, 0.7)), 'beta': r.choice((0.5, 0.3, 0.7))}

        def fn(t):
            a, b = t['y_true'], t['y_pred']
            if name == 'keras.dice':
                return 1 - 2 * (a * b).sum() / (a.sum() + b.sum() + KERAS_EPS)
            if name == 'keras.iou':
                inter = (a * b).sum()
                return 1 - inter / (a.sum() + b.sum() - inter + KERAS_EPS)
            tp, fn_, fp = (a * b).sum(), (a * (1 - b)).sum(), ((1 - a) * b).sum()
            return 1 - tp / (tp + o['alpha'] * fp + o['beta'] * fn_ + KERAS_EPS)
        return name, {'y_true': yt, 'y_pred': yp}, o, fn
    return gen


def g_keras_focal(name):
    """keras.binary_focal_crossentropy and categorical_focal_crossentropy (keras/src/losses/losses.py)."""
    def gen(r, g):
        n, c, from_logits, yp = logits_or_probabilities(r, g, 0.99)
        o = {'reduction': r.choice(('sum_over_batch_size', 'sum', 'none')), 'from_logits': from_logits,
             'label_smoothing': r.choice((0.0, 0.1)), 'gamma': r.choice((2.0, 0.0, 1.5)), 'alpha': r.choice((0.25, 0.6))}
        if name == 'keras.binary_focal_crossentropy':
            o['apply_class_balancing'] = r.random() < 0.5
            yt = (torch.rand((n, c), generator=g, dtype=torch.float64) > 0.5).to(torch.float64)
        else:
            yt = F.one_hot(torch.randint(0, c, (n,), generator=g), c).to(torch.float64)
        ins = {'y_true': yt, 'y_pred': yp}

        def fn(t):
            a, b = t['y_true'], t['y_pred']
            if name == 'keras.binary_focal_crossentropy':
                a = a * (1 - o['label_smoothing']) + 0.5 * o['label_smoothing']
                p = torch.sigmoid(b) if from_logits else b
                cp = keras_clip(p)
                bce = -(a * torch.log(cp) + (1 - a) * torch.log(1 - cp))
                pt = a * p + (1 - a) * (1 - p)
                v = (1 - pt) ** o['gamma'] * bce
                if o['apply_class_balancing']:
                    v = (a * o['alpha'] + (1 - a) * (1 - o['alpha'])) * v
                values = v.mean(-1)
            else:
                a = a * (1 - o['label_smoothing']) + o['label_smoothing'] / c
                p = torch.softmax(b, -1) if from_logits else b
                out = keras_clip(p / p.sum(-1, keepdim=True))
                values = ((1 - out) ** o['gamma'] * o['alpha'] * -a * torch.log(out)).sum(-1)
            return keras_reduce(values, t, o['reduction'])
        return name, ins, o, fn
    return gen


def g_keras_gce(r, g):
    """keras.categorical_generalized_cross_entropy: (1 − p_y^q)/q on probabilities, integer labels."""
    n, c = r.randint(1, 5), r.randint(2, 5)
    yp = tensor((n, c), 0.01, 1.0, g)
    yp = yp / yp.sum(-1, keepdim=True)
    yt = torch.randint(0, c, (n,), generator=g)
    o = {'reduction': r.choice(('sum_over_batch_size', 'sum', 'none')), 'q': r.choice((0.5, 0.7, 0.3))}
    ins = {'y_true': yt, 'y_pred': yp}
    if r.random() < 0.5:
        ins['sample_weight'] = tensor((n,), 0.1, 2.0, g)

    def fn(t):
        p = t['y_pred'].gather(1, t['y_true'].unsqueeze(1)).squeeze(1)
        return keras_reduce((1 - p ** o['q']) / o['q'], t, o['reduction'])
    return 'keras.categorical_generalized_cross_entropy', ins, o, fn


def g_keras_ctc(r, g):
    """keras.ctc: log_softmax of the logits (B, T, C), blank = mask = 0, every label before the zero padding."""
    b, tt, c = r.randint(1, 3), r.randint(1, 8), r.randint(2, 5)
    s = r.randint(1, 4)
    yt = torch.zeros((b, s), dtype=torch.long)
    lengths = []
    for i in range(b):
        k = r.randint(0, s)
        lengths.append(k)
        for j in range(k):
            yt[i, j] = r.randint(1, c - 1)
    yp = tensor((b, tt, c), -2, 2, g)
    o = {'reduction': r.choice(('sum_over_batch_size', 'sum', 'none'))}

    def fn(t):
        lp = torch.log_softmax(t['y_pred'], -1).transpose(0, 1)
        v = F.ctc_loss(lp, t['y_true'], torch.full((b,), tt, dtype=torch.long), torch.tensor(lengths), blank=0, reduction='none')
        return keras_reduce(v, t, o['reduction'])
    return 'keras.ctc', {'y_true': yt, 'y_pred': yp}, o, fn


def g_keras_circle(r, g):
    """keras.circle on unit embeddings (Keras does not normalize them): cosine distances 1 − x·xᵀ (clamped at 0),
    differentiable weights, softplus(lse_p + lse_n) per anchor, anchors with loss 0 masked out of the mean."""
    n, d = r.randint(2, 7), r.randint(2, 5)
    x = tensor((n, d), rng=g)
    x = x / x.norm(dim=1, keepdim=True)
    labels = torch.randint(0, r.choice((2, 3)), (n,), generator=g)
    o = {'reduction': r.choice(('sum_over_batch_size', 'sum', 'none')), 'gamma': r.choice((80.0, 10.0)),
         'margin': r.choice((0.4, 0.25)), 'remove_diagonal': r.random() < 0.8}

    def fn(t):
        e, m, gm = t['y_pred'], o['margin'], o['gamma']
        dist = torch.relu(1 - e @ e.T)
        same = labels.unsqueeze(0) == labels.unsqueeze(1)
        pos = same & ~torch.eye(n, dtype=torch.bool) if o['remove_diagonal'] else same
        neg = ~same
        pw = torch.relu((m + dist) * pos)
        nw = torch.relu((1 + m - dist) * neg)
        pl = torch.logsumexp(torch.where(pos, -gm * pw * (m - dist), torch.tensor(-math.inf, dtype=e.dtype)), 1)
        nl = torch.logsumexp(torch.where(neg, gm * nw * (1 - m - dist), torch.tensor(-math.inf, dtype=e.dtype)), 1)
        v = softplus(pl + nl)
        v = torch.where(torch.isfinite(pl + nl), v, torch.zeros_like(v))
        return keras_reduce(v, t, o['reduction'], mask=(v > 0).to(v.dtype))
    return 'keras.circle', {'y_true': labels, 'y_pred': x}, o, fn


def _keras_per_sample(name, a, b):
    """A few Keras loss functions of (y_true, y_pred), per sample (over the last axis), for the distillation losses."""
    if name == 'kl_divergence':
        ac, bc = a.clamp(KERAS_EPS, 1), b.clamp(KERAS_EPS, 1)
        return (ac * torch.log(ac / bc)).sum(-1)
    if name == 'mse':
        return ((a - b) ** 2).mean(-1)
    if name == 'mae':
        return (a - b).abs().mean(-1)
    if name == 'huber':
        e = b - a
        return torch.where(e.abs() <= 1.0, 0.5 * e ** 2, e.abs() - 0.5).mean(-1)
    if name == 'log_cosh':
        return log_cosh(b - a).mean(-1)
    if name == 'cosine_similarity':
        return -((a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)) * (b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12))).sum(-1)
    raise ValueError(name)


def g_keras_distillation(name):
    """keras.distillation.LogitsDistillation(temperature, loss) and FeatureDistillation(loss), compute_loss(teacher,
    student): logits divided by T, softmaxes and T² on the KL path (the loss's name holds "kl"), else the loss on the
    scaled logits; features as they are. The teacher is y_true; ops.mean of the per-sample values."""
    def gen(r, g):
        s = (r.randint(1, 4), r.randint(2, 5)) if r.random() < 0.8 else (r.randint(1, 3), r.randint(1, 3), r.randint(2, 4))
        logits = name == 'logits_distillation'
        lo, hi = (-4.0, 4.0) if logits else (0.05, 1.0)
        ins = {'teacher_logits' if logits else 'teacher_features': tensor(s, lo, hi, g),
               'student_logits' if logits else 'student_features': tensor(s, lo, hi, g)}
        o = {'loss': r.choice(('kl_divergence', 'kl_divergence', 'mse', 'mae', 'cosine_similarity', 'huber', 'log_cosh'))}
        if logits:
            o['temperature'] = r.choice((1.0, 2.0, 3.0, 5.0))

        def fn(t):
            a, b = (t['teacher_logits'], t['student_logits']) if logits else (t['teacher_features'], t['student_features'])
            if not logits:
                return _keras_per_sample(o['loss'], a, b).mean()
            temp = o['temperature']
            a, b = a / temp, b / temp
            if o['loss'] == 'kl_divergence':
                return _keras_per_sample('kl_divergence', torch.softmax(a, -1), torch.softmax(b, -1)).mean() * temp ** 2
            return _keras_per_sample(o['loss'], a, b).mean()
        return name, ins, o, fn
    return gen
