"""Optax's losses (optax/losses/_classification.py, _regression.py, _ranking.py, _segmentation.py,
_self_supervised.py), written out in torch from their
definitions: Optax is a JAX library and not a Debian package. Optax does not reduce; LossLab's `reduction` option
(default none, mean for the ranking loss as Optax's reduce_fn) is applied on top."""
import torch
import torch.nn.functional as F

from .common import log_cosh, reduce_rows, rows_case, shape_nd, tensor


def bad_label(r, labels, bad):
    """One case in ten puts a label outside its set: Optax does not check, LossLab raises, so the reference raises."""
    if r.random() < 0.1 and labels.numel() > 0:
        flat = labels.flatten().clone()
        flat[r.randrange(flat.numel())] = r.choice(bad)
        return flat.reshape(labels.shape), True
    return labels, False


def elementwise(v, reduction):
    return {'none': v, 'mean': v.mean(), 'sum': v.sum()}[reduction]


def with_axis(gen):
    """Optax's `axis` on a row loss: one case in three moves the class axis of every input (and of `where`) from the
    last place to another and names it in `axis` (positive or negative), so that LossLab regroups the rows while the
    reference moves the axis back with torch.movedim and computes as before."""
    def wrapped(r, g):
        name, ins, o, fn = gen(r, g)
        first = next(iter(ins.values()))
        # Only the last dimension may be 0 (a nested JSON list cannot spell (0, 4)): empty cases keep their layout.
        if first.dim() < 2 or first.numel() == 0 or r.random() > 0.35:
            return name, ins, o, fn
        rank = first.dim()
        p = r.randrange(rank - 1)
        moved = {k: v.movedim(-1, p) for k, v in ins.items()}
        o = dict(o, axis=[p if r.random() < 0.5 else p - rank])
        def fn_moved(t):
            return fn({k: v.movedim(p, -1) for k, v in t.items()})
        return name, moved, o, fn_moved
    return wrapped


def g_binary(name):
    """hinge_loss and perceptron_loss on ±1 targets; sparsemax_loss on 0/1 labels."""
    x_name, y_name = ('logits', 'labels') if name == 'sparsemax_loss' else ('predictor_outputs', 'targets')
    def gen(r, g):
        shape = shape_nd(r)
        x = tensor(shape, -3, 3, g) * (40.0 if r.random() < 0.15 else 1.0)
        y = torch.randint(0, 2, shape, generator=g).to(torch.float64)
        if name != 'sparsemax_loss':
            y = 2 * y - 1
        y, invalid = bad_label(r, y, (0.0, 0.5, 2.0) if name != 'sparsemax_loss' else (-1.0, 0.5, 2.0))
        o = {'reduction': r.choice(('none', 'mean', 'sum'))}
        def fn(t):
            if invalid:
                raise ValueError('labels outside their set')
            s, lab = t[x_name], t[y_name]
            if name == 'hinge_loss':
                v = torch.relu(1 - s * lab)
            elif name == 'perceptron_loss':
                v = torch.relu(-s * lab)
            else:   # sparse_plus of z = −x for label 1, x for label 0
                z = torch.where(lab == 1, -s, s)
                v = torch.where(z >= 1, z, torch.where(z <= -1, torch.zeros_like(z), (z + 1) ** 2 / 4))
            return elementwise(v, o['reduction'])
        return name, {x_name: x, y_name: y}, o, fn
    return gen


def g_l2(r, g):
    shape = shape_nd(r)
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        return elementwise(0.5 * (t['predictions'] - t['targets']) ** 2, o['reduction'])
    return 'l2_loss', {'predictions': tensor(shape, -3, 3, g), 'targets': tensor(shape, -3, 3, g)}, o, fn


def g_softmax_ce(r, g):
    """optax.safe_softmax_cross_entropy / softmax_cross_entropy: −∞ logits where the label is 0, an optional mask."""
    shape = shape_nd(r, max_dims=2)
    x = tensor(shape, -3, 3, g)
    t = torch.softmax(tensor(shape, -2, 2, g), -1)
    if r.random() < 0.3 and shape[-1] > 1:
        impossible = torch.rand(shape, generator=g) < 0.3
        impossible[..., 0] = False                       # at least one finite logit per row
        x = torch.where(impossible, torch.full_like(x, -torch.inf), x)
        t = torch.where(impossible, torch.zeros_like(t), t)
    ins = {'logits': x, 'labels': t}
    if r.random() < 0.3:
        ins['where'] = (torch.rand(shape, generator=g) < 0.8).to(torch.float64)
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(tt):
        keep = tt['where'] > 0.5 if 'where' in tt else torch.ones(shape, dtype=torch.bool)
        z = torch.where(keep, tt['logits'], torch.full_like(tt['logits'], -torch.inf))
        if bool((keep.any(-1) & torch.isinf(z).all(-1)).any()):
            raise ValueError('a row whose kept logits are all −∞ has no softmax (Optax: NaN)')
        lp = torch.log_softmax(z, -1)
        ok = keep & torch.isfinite(lp)                   # 0·log 0 = 0 (the labels' gradient there: README)
        terms = torch.where(ok, tt['labels'] * torch.where(ok, lp, torch.zeros_like(lp)), torch.zeros_like(lp))
        return reduce_rows(-terms.sum(-1), o['reduction'])
    return 'optax.softmax_cross_entropy', ins, o, fn   # safe_softmax_cross_entropy is the same entry


def g_log_cosh(r, g):
    shape = shape_nd(r)
    x, y = tensor(shape, -3, 3, g), tensor(shape, -3, 3, g)
    if r.random() < 0.2:
        x = y + tensor(shape, -1e-6, 1e-6, g)    # tiny errors, where logaddexp(d, −d) − log 2 cancels
    if r.random() < 0.15:
        x = x * 300.0                            # cosh overflows past 710
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        return elementwise(log_cosh(t['predictions'] - t['targets']), o['reduction'])
    return 'optax.log_cosh', {'predictions': x, 'targets': y}, o, fn


def g_cosine(name):
    def gen(r, g):
        shape = shape_nd(r)
        if shape[-1] == 1:   # D = 1 makes every cosine ±1 and its gradient 0 up to round-off of the terms' size
            shape = shape[:-1] + (2,)
        a, b = tensor(shape, -2, 2, g), tensor(shape, -2, 2, g)
        if r.random() < 0.2 and a.numel() > 0:
            a.reshape(-1, shape[-1])[r.randrange(a.numel() // max(1, shape[-1]) or 1)] = 0   # a zero row
        o = {'reduction': r.choice(('none', 'mean', 'sum')), 'epsilon': r.choice((0.0, 0.0, 1e-8, 0.5, 4.0))}
        ins = {'predictions': a, 'targets': b}
        if r.random() < 0.3:
            ins['where'] = (torch.rand(shape, generator=g) < 0.8).to(torch.float64)
        def fn(t):
            keep = (t['where'] > 0.5).to(torch.float64) if 'where' in t else 1.0
            x, y = t['predictions'] * keep, t['targets'] * keep   # Optax's sums with where=where
            nx2, ny2 = (x * x).sum(-1), (y * y).sum(-1)
            if o['epsilon'] == 0 and bool(((nx2 == 0) | (ny2 == 0)).any()):
                raise ValueError('a zero row at epsilon 0 (Optax: NaN)')
            c = (x * y).sum(-1) / (nx2.clamp_min(o['epsilon']).sqrt() * ny2.clamp_min(o['epsilon']).sqrt())
            return reduce_rows(c if name == 'optax.cosine_similarity' else 1 - c, o['reduction'])
        return name, ins, o, fn
    return gen


def sparsemax(x):
    """The projection onto the simplex by sorting (Held et al.), differentiable in torch through sort and gather."""
    zs = torch.sort(x, dim=-1, descending=True).values
    cs = zs.cumsum(-1)
    k = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    kz = (1 + k * zs > cs).sum(-1, keepdim=True)
    tau = (cs.gather(-1, kz - 1) - 1) / kz
    return torch.clamp(x - tau, min=0)


def g_multiclass_sparsemax(r, g):
    x, y, n, c = rows_case(r, g, -2, 2)
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        s = t['scores']
        p = sparsemax(s)
        sy = s.gather(1, t['labels'].unsqueeze(1))
        return reduce_rows((p * (s - sy)).sum(1) + 0.5 * (1 - (p * p).sum(1)), o['reduction'])
    return 'multiclass_sparsemax_loss', {'scores': x, 'labels': y}, o, fn


def g_fenchel_young(r, g):
    """make_fenchel_young_loss(max_fun)(scores, targets) = max_fun(s) − ⟨t, s⟩ over the last axis, for the three max
    functions LossLab builds in: logsumexp, the sparsemax cumulant ⟨p, s⟩ + ½⟨p, 1 − p⟩ (Optax's, whose loss on a
    one-hot target is multiclass_sparsemax_loss) and the hard max."""
    shape = shape_nd(r, max_dims=2)
    x = tensor(shape, -3, 3, g) * (30.0 if r.random() < 0.1 else 1.0)
    kind = r.random()
    if kind < 0.5:
        t = torch.softmax(tensor(shape, -2, 2, g), -1)
    elif kind < 0.8 and shape[-1] > 0:
        t = F.one_hot(torch.randint(0, shape[-1], shape[:-1], generator=g), shape[-1]).to(torch.float64)
    else:
        t = tensor(shape, -1, 1, g)                      # Optax takes any target vectors
    o = {'max_fun': r.choice(('logsumexp', 'sparsemax', 'max')), 'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(tt):
        s = tt['scores']
        if shape[-1] == 0:                               # every other dimension is at least 1: rows of nothing
            raise ValueError('a max function of an empty row')
        if o['max_fun'] == 'logsumexp':
            m = torch.logsumexp(s, -1)
        elif o['max_fun'] == 'sparsemax':
            p = sparsemax(s)
            m = (p * s).sum(-1) + 0.5 * (p * (1 - p)).sum(-1)
        else:
            m = s.max(-1).values
        return reduce_rows(m - (tt['targets'] * s).sum(-1), o['reduction'])
    return 'optax.make_fenchel_young_loss', {'scores': x, 'targets': t}, o, fn


def g_ranking(r, g):
    shape = shape_nd(r, max_dims=2)
    ins = {'logits': tensor(shape, -3, 3, g), 'labels': tensor(shape, 0, 2, g) if r.random() < 0.7
           else (torch.rand(shape, generator=g) < 0.3).to(torch.float64)}
    if r.random() < 0.5:
        ins['where'] = (torch.rand(shape, generator=g) < 0.7).to(torch.float64)
    if r.random() < 0.3:
        ins['weights'] = tensor(shape, 0.2, 2, g)
    o = {'reduction': r.choice(('mean', 'mean', 'sum', 'none'))}
    def fn(t):
        s, y = t['logits'], t['labels']
        valid = t['where'] > 0.5 if 'where' in t else torch.ones(s.shape, dtype=torch.bool)
        y = torch.where(valid, y, torch.zeros_like(y))
        s = torch.where(valid, s, torch.full_like(s, -torch.inf))
        if 'weights' in t:
            y = y * t['weights']
        ce = torch.where(valid, y * torch.log_softmax(s, -1), torch.zeros_like(y))   # Optax: sum(where=where)
        loss = -ce.sum(-1)
        has = valid.any(-1)
        if o['reduction'] == 'none':
            return torch.where(has, loss, torch.zeros_like(loss))
        if o['reduction'] == 'sum':
            return torch.where(has, loss, torch.zeros_like(loss)).sum()
        count = int(has.sum()) if 'where' in t else loss.numel()
        return loss[has].sum() / count if count else loss.sum() * 0   # Optax's safe mean: 0 when no list is valid
    return 'ranking_softmax_loss', ins, o, fn


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


def row_divergence_case(r, g, name):
    """log_predictions and targets (…, K), an optional `where` mask; zero targets for the KL (their term is 0)."""
    shape = shape_nd(r, max_dims=2)
    lp, tt = tensor(shape, -3, 1, g), tensor(shape, 0.01, 2, g)
    if name == 'optax.kl_divergence' and r.random() < 0.3 and tt.numel():
        tt = torch.where(torch.rand(shape, generator=g) < 0.3, torch.zeros_like(tt), tt)
    if name == 'optax.kl_divergence_with_log_targets':
        tt = tensor(shape, -4, 1, g)
    ins = {'log_predictions': lp, 'log_targets' if 'log_targets' in name else 'targets': tt}
    if r.random() < 0.4:
        ins['where'] = (torch.rand(shape, generator=g) < 0.7).to(torch.float64)
    return ins


def g_row_divergence(name):
    """Optax's kl_divergence, kl_divergence_with_log_targets and generalized (convex) KL: a sum per row over `where`."""
    def gen(r, g):
        ins = row_divergence_case(r, g, name)
        o = {'reduction': r.choice(('none', 'sum', 'mean'))}
        def fn(t):
            lp = t['log_predictions']
            keep = t['where'] > 0.5 if 'where' in t else torch.ones(lp.shape, dtype=torch.bool)
            if name == 'optax.kl_divergence_with_log_targets':
                lt = t['log_targets']
                terms = torch.exp(lt) * (lt - lp)
            else:
                # A masked element gets no gradient: its target is swapped for 1 before xlogy, whose derivative at a
                # zero target would otherwise turn the masked 0 into 0·∞ = NaN in torch's backward.
                y = torch.where(keep, t['targets'], torch.ones_like(t['targets']))
                terms = torch.xlogy(y, y) - y * lp
                if name == 'convex_kl_divergence':
                    terms = terms + torch.exp(lp) - y
            terms = torch.where(keep, terms, torch.zeros_like(terms))
            return reduce_rows(terms.sum(-1), o['reduction'])
        return name, ins, o, fn
    return gen


def g_poly(r, g):
    x, y, n, c = rows_case(r, g)
    labels = tensor((n, c), 0, 1, g)
    pick = r.random()
    # Normalized, one-hot, or unnormalized soft labels (where Optax's Σ t(1 − p) differs from ε(1 − p_t)).
    labels = labels / labels.sum(1, keepdim=True) if pick < 0.4 else F.one_hot(y, c).to(torch.float64) if pick < 0.8 else labels * 2
    ins = {'logits': x, 'labels': labels}
    if r.random() < 0.3:
        ins['where'] = (torch.rand((n, c), generator=g) < 0.7).to(torch.float64)
    o = {'reduction': r.choice(('none', 'sum', 'mean')), 'epsilon': r.choice((2.0, 1.0, -1.0))}
    def fn(t):
        keep = t['where'] > 0.5 if 'where' in t else torch.ones((n, c), dtype=torch.bool)
        # Optax: softmax and log_softmax over the kept classes, sums with where=where.
        z = torch.where(keep, t['logits'], torch.full_like(t['logits'], -torch.inf))
        lp = torch.log_softmax(z, 1)
        lp_safe = torch.where(keep, lp, torch.zeros_like(lp))   # masked (and all-masked rows) add nothing, no NaN
        yk = torch.where(keep, t['labels'], torch.zeros_like(t['labels']))
        return reduce_rows(-(yk * lp_safe).sum(1) + o['epsilon'] * (yk * (1 - lp_safe.exp())).sum(1), o['reduction'])
    return 'poly_loss_cross_entropy', ins, o, fn


def g_optax_triplet(r, g):
    n, d = r.randint(1, 5), r.randint(1, 6)
    shape = (n, d) if r.random() < 0.8 else (d,)
    ins = {k: tensor(shape, -2, 2, g) for k in ('anchors', 'positives', 'negatives')}
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'norm_degree': r.choice((2.0, 2.0, 1.0, 3.0, 1.5)),
         'margin': r.choice((1.0, 0.5, 2.0)), 'eps': r.choice((1e-6, 1e-6, 0.0, 0.1))}
    def fn(t):
        q = o['norm_degree']
        def dist(x, y):   # |x − y|^q: Optax's signed power for even q (LossLab's choice, README)
            return ((x - y).abs() ** q).sum(-1).add(o['eps']) ** (1 / q)
        v = torch.relu(dist(t['anchors'], t['positives']) - dist(t['anchors'], t['negatives']) + o['margin'])
        return reduce_rows(v, o['reduction'])
    return 'optax.triplet_margin_loss', ins, o, fn


def semi_supervised_case(r, g):
    """A labeled batch (B, C) with index or probability labels, and an unlabeled one (U, C)."""
    b, u, c = r.randint(1, 5), r.randint(1, 5), r.randint(2, 5)
    x = tensor((b, c), -3, 3, g)
    labels = torch.randint(0, c, (b,), generator=g) if r.random() < 0.5 else torch.softmax(tensor((b, c), -2, 2, g), 1)
    return x, labels, b, u, c


def labeled_cross_entropy(x, y):
    lp = torch.log_softmax(x, 1)
    return -(lp.gather(1, y.unsqueeze(1)).squeeze(1) if y.dim() == 1 else (y * lp).sum(1))


def semi_supervised_reduce(labeled, unlabeled, reduction):
    """none: the B + U terms; sum: their total; mean: Optax's (each part over its own batch)."""
    if reduction == 'none':
        return torch.cat([labeled, unlabeled])
    if reduction == 'sum':
        return labeled.sum() + unlabeled.sum()
    return labeled.mean() + unlabeled.sum() / max(unlabeled.numel(), 1)


def g_fixmatch(r, g):
    x, labels, b, u, c = semi_supervised_case(r, g)
    weak, strong = tensor((u, c), -3, 3, g) * r.choice((1.0, 3.0)), tensor((u, c), -3, 3, g)
    o = {'reduction': r.choice(('mean', 'mean', 'sum', 'none')), 'confidence_threshold': r.choice((0.95, 0.6, 0.3)),
         'lambda_u': r.choice((1.0, 0.5, 2.0))}
    def fn(t):
        with torch.no_grad():   # Optax: the pseudo-labels and the mask carry no gradient
            pw = torch.softmax(t['unlabeled_weak_logits'], 1)
            top, pseudo = pw.max(1)
            mask = (top >= o['confidence_threshold']).to(pw.dtype)
        ce_u = -torch.log_softmax(t['unlabeled_strong_logits'], 1).gather(1, pseudo.unsqueeze(1)).squeeze(1)
        return semi_supervised_reduce(labeled_cross_entropy(t['labeled_logits'], t['labeled_labels']), o['lambda_u'] * mask * ce_u, o['reduction'])
    return 'fixmatch_loss', {'labeled_logits': x, 'labeled_labels': labels, 'unlabeled_weak_logits': weak,
                             'unlabeled_strong_logits': strong}, o, fn


def g_mixmatch(r, g):
    x, labels, b, u, c = semi_supervised_case(r, g)
    z, q = tensor((u, c), -3, 3, g), torch.softmax(tensor((u, c), -2, 2, g) * 3, 1)
    o = {'reduction': r.choice(('mean', 'mean', 'sum', 'none')), 'lambda_u': r.choice((100.0, 1.0, 25.0))}
    def fn(t):
        d = torch.softmax(t['unlabeled_logits'], 1) - t['unlabeled_targets'].detach()   # Optax stops the targets' gradient
        return semi_supervised_reduce(labeled_cross_entropy(t['labeled_logits'], t['labeled_labels']), o['lambda_u'] * (d * d).sum(1), o['reduction'])
    return 'mixmatch_loss', {'labeled_logits': x, 'labeled_labels': labels, 'unlabeled_logits': z, 'unlabeled_targets': q}, o, fn


def g_optax_ctc(r, g):
    """optax.ctc_loss: logits (B, T, K) with frame paddings (anywhere: Optax skips them) and right-padded labels,
    against torch's ctc_loss on each sequence's unpadded, log-softmaxed frames."""
    b, t, k = r.randint(1, 3), r.randint(2, 8), r.randint(3, 6)
    blank = r.choice((0, 0, k - 1))
    z = tensor((b, t, k), -3, 3, g)
    pads = (torch.rand((b, t), generator=g) < 0.2).to(torch.float64)
    n = r.randint(1, 4)
    labels = torch.randint(0, k - 1, (b, n), generator=g)
    labels = labels + (labels >= blank).to(labels.dtype)                  # never the blank
    lens = [r.randint(0, n) for _ in range(b)]
    label_pads = torch.tensor([[0.0 if j < lens[i] else 1.0 for j in range(n)] for i in range(b)], dtype=torch.float64)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'blank_id': blank}
    def fn(tt):
        out = []
        for i in range(b):
            keep = (tt['logit_paddings'][i] == 0).nonzero().flatten()
            if len(keep) == 0:                   # no frame: P(empty target) = 1, anything else is impossible
                if lens[i]:
                    raise ValueError('an impossible target')
                out.append(tt['logits'][i].sum() * 0)
                continue
            lp = torch.log_softmax(tt['logits'][i, keep], -1).unsqueeze(1)
            target = tt['labels'][i, :lens[i]].unsqueeze(0)
            loss = F.ctc_loss(lp, target, [len(keep)], [lens[i]], blank=blank, reduction='none')
            if not bool(torch.isfinite(loss).all()):
                raise ValueError('an impossible target (Optax: a loss near −log_epsilon; LossLab: an error)')
            out.append(loss.reshape(()))
        return reduce_rows(torch.stack(out), o['reduction'])
    return 'optax.ctc_loss', {'logits': z, 'logit_paddings': pads, 'labels': labels, 'label_paddings': label_pads}, o, fn
