"""segmentation_models_pytorch's losses (Dice, Jaccard, Tversky, Lovász, MCC, soft BCE, soft cross-entropy and the functional wing loss), written out in torch from its
definitions (it is not a Debian package)."""
import math

import torch
import torch.nn.functional as F

from .common import red, shape_nd, tensor


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


def g_mcc(r, g):
    """segmentation_models_pytorch's MCCLoss as written: y_pred and y_true viewed (N, 1, −1), the four soft counts
    over the whole batch plus eps, 1 − (TP·TN − FP·FN)/√((TP + FP)(TP + FN)(TN + FP)(TN + FN))."""
    n, k = r.randint(1, 4), r.randint(1, 9)
    p = torch.rand((n, 1, k), generator=g, dtype=torch.float64)
    y = (torch.rand((n, k), generator=g, dtype=torch.float64) < 0.4).to(torch.float64)
    if r.random() < 0.3:
        y = torch.where(torch.rand((n, k), generator=g, dtype=torch.float64) < 0.3, torch.full_like(y, 0.5), y)
    invalid = r.random() < 0.1
    if invalid:
        p[0, 0, 0] = 1.5
    o = {'eps': r.choice((1e-5, 1e-3, 0.5))}
    def fn(t):
        if invalid:
            raise ValueError('a probability outside [0, 1]')
        bs = t['y_true'].shape[0]
        yt, yp = t['y_true'].view(bs, 1, -1), t['y_pred'].view(bs, 1, -1)
        tp = (yp * yt).sum() + o['eps']
        tn = ((1 - yp) * (1 - yt)).sum() + o['eps']
        fp = (yp * (1 - yt)).sum() + o['eps']
        fn_ = ((1 - yp) * yt).sum() + o['eps']
        return 1.0 - (tp * tn - fp * fn_) / torch.sqrt((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_))
    return 'mcc_loss', {'y_pred': p, 'y_true': y}, o, fn


def g_soft_bce(r, g):
    """segmentation_models_pytorch's SoftBCEWithLogitsLoss as written: soft targets (1 − y)·s + y·(1 − s), torch's
    BCE-with-logits (weight, pos_weight) with reduction none, times the mask y ≠ ignore_index, then mean over every
    element (ignored ones included) or sum."""
    s = shape_nd(r)
    x = tensor(s, -6, 6, g)
    y = (torch.rand(s, generator=g, dtype=torch.float64) < 0.5).to(torch.float64)
    if r.random() < 0.3:
        y = torch.rand(s, generator=g, dtype=torch.float64)
    ignore = r.choice((-100, -1))
    y = torch.where(torch.rand(s, generator=g, dtype=torch.float64) < 0.25, torch.full_like(y, float(ignore)), y)
    o = {'reduction': red(r), 'ignore_index': ignore}
    if r.random() < 0.7:
        o['smooth_factor'] = r.choice((0.0, 0.05, 0.1, 0.3))
    ins = {'y_pred': x, 'y_true': y}
    if r.random() < 0.4:
        ins['weight'] = tensor(s[-1:], 0.1, 2, g)
    if r.random() < 0.4:
        ins['pos_weight'] = tensor(s[-1:], 0.1, 3, g)
    def fn(t):
        yt = t['y_true']
        sf = o.get('smooth_factor', 0.0)
        soft = (1 - yt) * sf + yt * (1 - sf)
        loss = F.binary_cross_entropy_with_logits(t['y_pred'], soft, t.get('weight'), pos_weight=t.get('pos_weight'), reduction='none')
        loss = loss * (yt.detach() != o['ignore_index']).to(loss.dtype)
        return {'none': loss, 'mean': loss.mean(), 'sum': loss.sum()}[o['reduction']]
    return 'soft_bce_with_logits_loss', ins, o, fn


def g_soft_ce(r, g):
    """segmentation_models_pytorch's SoftCrossEntropyLoss as written (label_smoothed_nll_loss over dim 1): nll and
    the smoothing term masked at ignore_index, each reduced (mean over every position), then (1 − ε)·nll + ε/C·smooth."""
    n, c = r.randint(1, 5), r.randint(1, 6)
    spatial = () if r.random() < 0.6 else tuple(r.randint(1, 3) for _ in range(r.randint(1, 2)))
    x = tensor((n, c) + spatial, -4, 4, g)
    ignore = r.choice((-100, 0, -1))
    y = torch.randint(0, c, (n,) + spatial, generator=g)
    y = torch.where(torch.rand(y.shape, generator=g) < 0.25, torch.tensor(ignore), y)
    o = {'reduction': red(r), 'ignore_index': ignore, 'smooth_factor': r.choice((0.0, 0.1, 0.25, 1.0))}
    def fn(t):
        lp = F.log_softmax(t['y_pred'], dim=1)
        tgt = t['y_true'].unsqueeze(1)
        pad = tgt.eq(o['ignore_index'])
        tgt = tgt.masked_fill(pad, 0)
        nll = (-lp.gather(dim=1, index=tgt)).masked_fill(pad, 0.0)
        smooth = (-lp.sum(dim=1, keepdim=True)).masked_fill(pad, 0.0)
        if o['reduction'] == 'none':
            nll, smooth = nll.squeeze(1), smooth.squeeze(1)
        elif o['reduction'] == 'sum':
            nll, smooth = nll.sum(), smooth.sum()
        else:
            nll, smooth = nll.mean(), smooth.mean()
        eps = o['smooth_factor']
        return (1.0 - eps) * nll + eps / lp.size(1) * smooth
    return 'soft_cross_entropy_loss', {'y_pred': x, 'y_true': y}, o, fn


def g_wing(r, g):
    """segmentation_models_pytorch's functional wing_loss as written: |target − output|, width·log(1 + d/curvature)
    below the width, d − C above with C = width − width·log(1 + width/curvature)."""
    s = shape_nd(r)
    x, y = tensor(s, -8, 8, g), tensor(s, -8, 8, g)
    o = {'reduction': red(r), 'width': r.choice((1.0, 5.0, 10.0)), 'curvature': r.choice((0.1, 0.5, 2.0))}
    def fn(t):
        w, eps = o['width'], o['curvature']
        d = (t['target'] - t['output']).abs()
        c = w - w * math.log(1 + w / eps)
        loss = torch.where(d < w, w * torch.log1p(d / eps), d - c)
        return {'none': loss, 'mean': loss.mean(), 'sum': loss.sum()}[o['reduction']]
    return 'wing_loss', {'output': x, 'target': y}, o, fn
