"""Losses of other libraries that are not Debian packages, written out in torch from their definitions:
pytorch-metric-learning, segmentation_models_pytorch and the papers of the modern losses (Optax's are in optax.py)."""
import math

import torch
import torch.nn.functional as F

from .common import red, reduce_rows, rows_case, shape_nd, softplus, tensor, weighted_reduce


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
    # detach_weights: the paper's gradient, with the weights α held constant (detached), or the true one.
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('mean', 'sum')), 'm': r.choice((0.4, 0.25)), 'gamma': r.choice((80.0, 10.0)),
         'detach_weights': r.random() < 0.5}
    def fn(t):
        s = cosine(t['embeddings'])
        per = []
        for a in range(s.shape[0]):
            sp, sn = s[a][pos[a]], s[a][neg[a]]
            if sp.numel() == 0 or sn.numel() == 0:
                per.append(s[a, a] * 0)
                continue
            ap, an = torch.relu(1 + o['m'] - sp), torch.relu(sn + o['m'])
            if o['detach_weights']:
                ap, an = ap.detach(), an.detach()
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


def g_quantile(r, g):
    """The pinball loss of scikit-learn's mean_pinball_loss (weighted mean Σwℓ/Σw), with subgradient 0 at a tie."""
    s = shape_nd(r)
    x, y = tensor(s, rng=g), tensor(s, rng=g)
    if r.random() < 0.2 and x.numel():
        y.view(-1)[0] = x.view(-1)[0]                     # a tie: the subgradient 0
    ins = {'input': x, 'target': y}
    if r.random() < 0.3:
        ins['weight'] = tensor(s, 0.1, 2, g)
    o = {'reduction': red(r), 'quantile': r.choice((0.0, 0.1, 0.5, 0.9, 1.0))}
    def fn(t):
        tau, d = o['quantile'], t['target'] - t['input']
        v = torch.where(d > 0, tau * d, torch.where(d < 0, (tau - 1) * d, d * 0))
        return weighted_reduce(v, t.get('weight'), o['reduction'])
    return 'quantile_loss', ins, o, fn


def g_mlnet(name):
    """ML.NET's SmoothedHingeLoss and ExpLoss (Microsoft.ML.Trainers): truth = +1 for a label above 0, −1 otherwise;
    u = 1 − truth·x, then 0 / u²/(2s) / u − s/2 (smoothed hinge) or e^{−β·truth·x}. One value per example (reduction
    none by default). Labels other than 0, ±1 are rejected by LossLab (ML.NET reads them as > 0)."""
    def gen(r, g):
        s = shape_nd(r)
        x = tensor(s, -4, 4, g)
        y = torch.randint(0, 2, s, generator=g).to(torch.float64)
        if r.random() < 0.5:
            y = 2 * y - 1                                 # ±1 labels
        invalid = r.random() < 0.1 and y.numel() > 0
        if invalid:
            y.view(-1)[0] = 0.5
        o = {'reduction': red(r)}
        if name == 'smoothed_hinge_loss':
            o['smoothing'] = r.choice((0.0, 0.5, 1.0, 3.0))
        else:
            o['beta'] = r.choice((0.5, 1.0, 2.0))
        def fn(t):
            if invalid:
                raise ValueError('a label other than 0, 1 or -1')
            truth = torch.where(t['label'] > 0, 1.0, -1.0).to(t['output'].dtype)
            if name == 'smoothed_hinge_loss':
                sm, u = o['smoothing'], 1 - truth * t['output']
                inner = torch.where(u < sm, u * u / (2 * sm), u - sm / 2) if sm > 0 else u
                v = torch.where(u < 0, u * 0, inner)
            else:
                v = torch.exp(-o['beta'] * truth * t['output'])
            return reduce_rows(v, o['reduction'])
        return name, {'output': x, 'label': y}, o, fn
    return gen


def g_asl(r, g):
    """The asymmetric loss as its authors wrote it (Alibaba-MIIL/ASL, AsymmetricLoss.forward): σ, the negatives' clipped
    probability, logs clamped at eps, the one-sided focal weight (detached by default), the sum."""
    s = shape_nd(r, max_dims=2)
    x = tensor(s, -8, 8, g) * (10.0 if r.random() < 0.1 else 1.0)
    y = (torch.rand(s, generator=g) < 0.3).to(torch.float64)
    if r.random() < 0.2:
        y = torch.where(torch.rand(s, generator=g) < 0.3, torch.full_like(y, 0.5), y)   # soft labels
    invalid = r.random() < 0.1 and y.numel() > 0
    if invalid:
        y.view(-1)[0] = 1.5
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'gamma_neg': r.choice((0.0, 1.0, 2.0, 4.0)),
         'gamma_pos': r.choice((0.0, 1.0)), 'clip': r.choice((0.0, 0.05, 0.2)), 'eps': 1e-8,
         'disable_torch_grad_focal_loss': r.random() < 0.6}
    def fn(t):
        if invalid:
            raise ValueError('a label outside [0, 1]')
        xs_pos = torch.sigmoid(t['input'])
        xs_neg = 1 - xs_pos
        if o['clip'] > 0:
            xs_neg = (xs_neg + o['clip']).clamp(max=1)
        lab = t['target']
        loss = lab * torch.log(xs_pos.clamp(min=o['eps'])) + (1 - lab) * torch.log(xs_neg.clamp(min=o['eps']))
        if o['gamma_neg'] > 0 or o['gamma_pos'] > 0:
            pt = xs_pos * lab + xs_neg * (1 - lab)
            w = torch.pow(1 - pt, o['gamma_pos'] * lab + o['gamma_neg'] * (1 - lab))
            loss = loss * (w.detach() if o['disable_torch_grad_focal_loss'] else w)
        return reduce_rows(-loss, o['reduction']) if o['reduction'] != 'none' else -loss
    return 'asymmetric_loss', {'input': x, 'target': y}, o, fn


def g_dpo(r, g):
    """TRL's DPOTrainer.dpo_loss for loss_type sigmoid (with cDPO's label smoothing), robust, hinge and ipo, and its
    reference_free margin."""
    s = (r.randint(0, 8),)
    names = ('policy_chosen_logps', 'policy_rejected_logps', 'reference_chosen_logps', 'reference_rejected_logps')
    scale = 300.0 if r.random() < 0.1 else 30.0           # sums of many token log-probabilities now and then
    ins = {k: -tensor(s, 0, 1, g) * scale for k in names}
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'beta': r.choice((0.1, 0.5, 1.0)),
         'loss_type': r.choice(('sigmoid', 'robust', 'hinge', 'ipo')), 'reference_free': r.random() < 0.2}
    o['label_smoothing'] = r.choice((0.0, 0.1, 0.3)) if o['loss_type'] in ('sigmoid', 'robust') else 0.0
    def fn(t):
        beta, eps = o['beta'], o['label_smoothing']
        pi = t['policy_chosen_logps'] - t['policy_rejected_logps']
        ref = 0 if o['reference_free'] else t['reference_chosen_logps'] - t['reference_rejected_logps']
        z = pi - ref
        if o['loss_type'] == 'sigmoid':
            v = -F.logsigmoid(beta * z) * (1 - eps) - F.logsigmoid(-beta * z) * eps
        elif o['loss_type'] == 'robust':
            v = (-F.logsigmoid(beta * z) * (1 - eps) + F.logsigmoid(-beta * z) * eps) / (1 - 2 * eps)
        elif o['loss_type'] == 'hinge':
            v = torch.relu(1 - beta * z)
        else:
            v = (z - 1 / (2 * beta)) ** 2
        return reduce_rows(v, o['reduction'])
    return 'dpo_loss', ins, o, fn


def g_simpo_orpo(name):
    """TRL's CPOTrainer (loss_type simpo: −(1 − ε)·logσ(β(c − r − γ/β)) − ε·logσ(−…)) and ORPOTrainer.odds_ratio_loss
    (log odds = (c − r) − (log1p(−e^c) − log1p(−e^r)), −β·logσ), on average token log-probabilities."""
    def gen(r, g):
        s = (r.randint(0, 8),)
        ins = {k: -tensor(s, 0.01, 3, g) for k in ('policy_chosen_logps', 'policy_rejected_logps')}
        invalid = name == 'orpo_loss' and r.random() < 0.1 and s[0] > 0
        if invalid:
            ins['policy_rejected_logps'][0] = 0.0          # p = 1: infinite odds
        o = {'reduction': r.choice(('none', 'mean', 'sum')), 'beta': r.choice((0.1, 0.5, 2.0))}
        if name == 'simpo_loss':
            o['gamma'] = r.choice((0.0, 0.5, 1.5))
            o['label_smoothing'] = r.choice((0.0, 0.1, 0.3))
        def fn(t):
            c, rej = t['policy_chosen_logps'], t['policy_rejected_logps']
            if name == 'simpo_loss':
                m = o['beta'] * (c - rej - o['gamma'] / o['beta'])
                v = -F.logsigmoid(m) * (1 - o['label_smoothing']) - F.logsigmoid(-m) * o['label_smoothing']
            else:
                if invalid:
                    raise ValueError('a log-probability of 0')
                log_odds = (c - rej) - (torch.log1p(-torch.exp(c)) - torch.log1p(-torch.exp(rej)))
                v = -o['beta'] * F.logsigmoid(log_odds)
            return reduce_rows(v, o['reduction'])
        return name, ins, o, fn
    return gen


def g_logit_adjusted(r, g):
    """Menon et al.'s logit-adjusted loss: torch's own cross_entropy at the logits shifted by τ·log π."""
    x, y, n, c = rows_case(r, g)
    ins = {'input': x, 'target': y}
    if r.random() < 0.8:
        ins['priors'] = tensor((c,), 0.01, 1, g)
    o = {'reduction': red(r), 'tau': r.choice((0.5, 1.0, 2.0))}
    def fn(t):
        z = t['input'] + (o['tau'] * torch.log(t['priors']) if 'priors' in t else 0)
        return F.cross_entropy(z, t['target'], reduction=o['reduction'])
    return 'logit_adjusted_loss', ins, o, fn


def g_distillation(r, g):
    """Knowledge distillation as PyTorch's tutorial writes it: kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T²
    weighted by 1 − α, plus α·cross_entropy(s, y); `none` and `sum` per row."""
    x, y, n, c = rows_case(r, g)
    teacher = tensor((n, c), -4, 4, g)
    o = {'reduction': red(r), 'temperature': r.choice((1.0, 2.0, 4.0)), 'alpha': r.choice((0.0, 0.0, 0.3, 1.0))}
    def fn(t):
        temp, a = o['temperature'], o['alpha']
        logp = F.log_softmax(t['student_logits'] / temp, -1)
        q = F.softmax(t['teacher_logits'] / temp, -1)
        rows = (1 - a) * temp * temp * F.kl_div(logp, q, reduction='none').sum(-1)
        rows = rows + a * F.cross_entropy(t['student_logits'], t['target'], reduction='none')
        return reduce_rows(rows, o['reduction'])
    return 'distillation_loss', {'student_logits': x, 'teacher_logits': teacher, 'target': y}, o, fn


def g_tweedie(r, g):
    """scikit-learn's mean_tweedie_deviance for 1 ≤ power < 2 (weighted mean Σwℓ/Σw), on log μ or μ; targets with many
    exact zeros; targets get no gradient (they are data)."""
    s = shape_nd(r)
    log_input = r.random() < 0.7
    x = tensor(s, -2, 2, g) if log_input else tensor(s, 0.05, 4, g)
    y = torch.where(torch.rand(s, generator=g) < 0.35, torch.zeros(s, dtype=torch.float64), tensor(s, 0.01, 5, g))
    invalid = r.random() < 0.1 and y.numel() > 0
    if invalid:
        y.view(-1)[0] = -1.0
    ins = {'input': x, 'target': y}
    if r.random() < 0.3:
        ins['weight'] = tensor(s, 0.1, 2, g)
    o = {'reduction': red(r), 'power': r.choice((1.0, 1.2, 1.5, 1.9)), 'log_input': log_input}
    def fn(t):
        if invalid:
            raise ValueError('a negative target')
        p, yy = o['power'], t['target'].detach()
        mu = torch.exp(t['input']) if log_input else t['input']
        if p == 1:
            v = 2 * (torch.xlogy(yy, yy) - yy * torch.log(mu) - yy + mu)
        else:
            v = 2 * (yy.clamp_min(0) ** (2 - p) / ((1 - p) * (2 - p)) - yy * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
        return weighted_reduce(v, t.get('weight'), o['reduction'])
    return 'tweedie_loss', ins, o, fn


def g_angular(name):
    """pytorch-metric-learning's ArcFaceLoss, SubCenterArcFaceLoss, CosFaceLoss and NormalizedSoftmaxLoss with W as an
    input: cosines of F.normalize'd embeddings and W's columns (SubCenter: W (D, C·K) viewed (N, C, K), max over K),
    the target's cosine through the margin (ArcFace: cos(acos c + m) up to θ = π − m, then c − m·sin m; CosFace: c − m;
    NormalizedSoftmax: none, scale 1/T), cross-entropy of scale × logits, MeanReducer."""
    def gen(r, g):
        n, d, c = r.randint(1, 7), r.randint(2, 5), r.randint(2, 5)
        k = r.choice((1, 2, 3)) if name == 'subcenter_arcface_loss' else 1
        e, w = tensor((n, d), rng=g), tensor((d, c * k), rng=g)
        y = torch.randint(0, c, (n,), generator=g)
        if name in ('arcface_loss', 'subcenter_arcface_loss'):
            o = {'margin': r.choice((0.0, 28.6, 60.0)), 'scale': r.choice((1.0, 8.0, 64.0))}
            if name == 'subcenter_arcface_loss':
                o['sub_centers'] = k
        elif name == 'cosface_loss':
            o = {'margin': r.choice((0.0, 0.35, 0.8)), 'scale': r.choice((1.0, 8.0, 64.0))}
        else:
            o = {'temperature': r.choice((0.05, 0.5, 1.0))}
        o['reduction'] = r.choice(('none', 'mean', 'sum'))
        def fn(t):
            cos = (F.normalize(t['embeddings'], dim=1) @ F.normalize(t['W'], dim=0)).clamp(-1, 1)
            if k > 1:
                cos = cos.view(-1, c, k).max(dim=2).values
            mask = F.one_hot(t['labels'], c).to(cos.dtype)
            ct = (cos * mask).sum(1)
            if name in ('arcface_loss', 'subcenter_arcface_loss'):
                m = math.radians(o['margin'])
                theta = torch.acos(ct.clamp(-1, 1))
                ft, scale = torch.where(theta <= math.pi - m, torch.cos(theta + m), ct - m * math.sin(m)), o['scale']
            elif name == 'cosface_loss':
                ft, scale = ct - o['margin'], o['scale']
            else:
                ft, scale = ct, 1 / o['temperature']
            logits = scale * (cos + mask * (ft - ct).unsqueeze(1))
            return reduce_rows(F.cross_entropy(logits, t['labels'], reduction='none'), o['reduction'])
        return name, {'embeddings': e, 'labels': y, 'W': w}, o, fn
    return gen


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


def g_tvd(r, g):
    """Liger-Kernel's LigerTVDLoss: ½|p − q| per element of (BT, V); rows whose shift_labels equal ignore_index count
    for nothing; none / sum / mean (÷ counted rows·V) / batchmean (÷ counted rows); the gradient reaches p only."""
    n, v = r.randint(1, 5), r.randint(1, 6)
    p = torch.softmax(tensor((n, v), rng=g), dim=1)
    q = torch.softmax(tensor((n, v), rng=g), dim=1)
    ins = {'p': p, 'q': q}
    o = {'reduction': r.choice(('none', 'sum', 'mean', 'batchmean')), 'ignore_index': r.choice((-100, 2))}
    if r.random() < 0.5:
        ins['shift_labels'] = torch.randint(0, 4, (n,), generator=g)
    def fn(t):
        keep = (t['shift_labels'] != o['ignore_index']).to(t['p'].dtype) if 'shift_labels' in t else torch.ones(n, dtype=t['p'].dtype)
        terms = 0.5 * (t['p'] - t['q'].detach()).abs() * keep.unsqueeze(1)
        counted = keep.sum()
        if o['reduction'] == 'none':
            return terms
        if o['reduction'] == 'sum':
            return terms.sum()
        if counted == 0:
            return terms.sum() * 0 + float('nan')   # every row ignored: NaN value; gradient 0 (Liger's grads/0 is NaN)
        return terms.sum() / (counted * v if o['reduction'] == 'mean' else counted)
    return 'tvd_loss', ins, o, fn


def g_proxy_anchor(r, g):
    """pytorch-metric-learning's ProxyAnchorLoss with the proxies (C, D) as an input: CosineSimilarity of the
    normalized embeddings and proxies; per proxy log(1 + Σ e^{α(δ − c)}) over its class's rows and
    log(1 + Σ e^{α(c + δ)}) over the others (lmu.logsumexp with add_one); DivisorReducer: the positive sum over the
    proxies that have rows, the negative sum over all C."""
    n, d, c = r.randint(1, 7), r.randint(2, 5), r.randint(2, 5)
    e, p = tensor((n, d), rng=g), tensor((c, d), rng=g)
    y = torch.randint(0, c, (n,), generator=g)
    o = {'margin': r.choice((0.0, 0.1, 0.5)), 'alpha': r.choice((1.0, 8.0, 32.0))}
    def fn(t):
        cos = F.normalize(t['embeddings'], dim=1) @ F.normalize(t['proxies'], dim=1).T
        pos = F.one_hot(t['labels'], c).bool()
        zeros = torch.zeros(1, c, dtype=cos.dtype)
        def log1p_sum(x, keep):
            return torch.logsumexp(torch.cat([x.masked_fill(~keep, float('-inf')), zeros], dim=0), dim=0)
        pos_term = log1p_sum(o['alpha'] * (o['margin'] - cos), pos)
        neg_term = log1p_sum(o['alpha'] * (cos + o['margin']), ~pos)
        with_pos = int(pos.any(dim=0).sum())
        return pos_term.sum() / with_pos + neg_term.sum() / c
    return 'proxy_anchor_loss', {'embeddings': e, 'labels': y, 'proxies': p}, o, fn


def views_case(r, g):
    n, d = r.randint(2, 8), r.randint(1, 5)
    a = tensor((n, d), rng=g)
    return a, a + tensor((n, d), -0.5, 0.5, g)


def g_barlow(r, g):
    """Barlow Twins as the authors' main.py: c = bn(z1).T @ bn(z2) / N with BatchNorm1d(affine=False) in training mode,
    on_diag (c_ii − 1)² + lambd·off_diag c_ij²."""
    a, b = views_case(r, g)
    o = {'lambd': r.choice((0.0051, 0.5)), 'eps': r.choice((1e-5, 1e-3))}
    def fn(t):
        za = F.batch_norm(t['z_a'], None, None, training=True, eps=o['eps'])
        zb = F.batch_norm(t['z_b'], None, None, training=True, eps=o['eps'])
        c = za.T @ zb / za.shape[0]
        eye = torch.eye(c.shape[0], dtype=torch.bool)
        return ((torch.diagonal(c) - 1) ** 2).sum() + o['lambd'] * (c[~eye] ** 2).sum()
    return 'barlow_twins_loss', {'z_a': a, 'z_b': b}, o, fn


def g_vicreg(r, g):
    """VICReg as the authors' main_vicreg.py: mse, the std hinge on sqrt(var + eps) (unbiased), the off-diagonal
    covariances squared over num_features."""
    x, y = views_case(r, g)
    scale = r.choice((0.2, 1.0, 3.0))                       # below, around and above the std target of 1
    x, y = x * scale, y * scale
    o = {'sim_coeff': r.choice((25.0, 1.0)), 'std_coeff': r.choice((25.0, 5.0)), 'cov_coeff': r.choice((1.0, 4.0)), 'eps': 1e-4}
    def fn(t):
        xx, yy = t['x'], t['y']
        n, d = xx.shape
        repr_loss = F.mse_loss(xx, yy)
        xc, yc = xx - xx.mean(dim=0), yy - yy.mean(dim=0)
        std_x, std_y = torch.sqrt(xc.var(dim=0) + o['eps']), torch.sqrt(yc.var(dim=0) + o['eps'])
        std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
        cov_x, cov_y = (xc.T @ xc) / (n - 1), (yc.T @ yc) / (n - 1)
        eye = torch.eye(d, dtype=torch.bool)
        cov_loss = (cov_x[~eye] ** 2).sum() / d + (cov_y[~eye] ** 2).sum() / d
        return o['sim_coeff'] * repr_loss + o['std_coeff'] * std_loss + o['cov_coeff'] * cov_loss
    return 'vicreg_loss', {'x': x, 'y': y}, o, fn
