"""pytorch-metric-learning's losses and the self-supervised Barlow Twins and VICReg, written out in torch from their
definitions and their authors' code (none is a Debian package)."""
import math

import numpy as np

import torch
import torch.nn.functional as F

from .common import reduce_rows, softplus, tensor


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



def pml_logsumexp(x, keep, add_one=False):
    """pytorch-metric-learning's lmu.logsumexp over dim 1: masked entries left out, optionally a 0 added, and a row
    with nothing kept gives 0."""
    x = x.masked_fill(~keep, float('-inf'))
    if add_one:
        x = torch.cat([x, torch.zeros(x.shape[0], 1, dtype=x.dtype)], dim=1)
    out = torch.logsumexp(x, dim=1, keepdim=True)
    return out.masked_fill(~keep.any(dim=1, keepdim=True), 0)


def lp_distances(e, normalize):
    """LpDistance(p=2): pairwise Euclidean distances (diagonal 0, its gradient kept out of the way)."""
    if normalize:
        e = F.normalize(e, dim=1)
    n = e.shape[0]
    diff = e.unsqueeze(1) - e.unsqueeze(0)
    eye = torch.eye(n, dtype=torch.bool).unsqueeze(2)
    sq = (diff * diff).sum(2)
    return torch.sqrt(torch.where(eye.squeeze(2), torch.ones_like(sq), sq)) * (~eye.squeeze(2))


def g_generalized_lifted(r, g):
    """GeneralizedLiftedStructureLoss: per anchor relu(lse_P(d − m⁺) + lse_N(m⁻ − d)), MeanReducer over all rows."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'neg_margin': r.choice((1.0, 0.5, 1.5)),
         'pos_margin': r.choice((0.0, 0.2)), 'normalize_embeddings': r.random() < 0.7}
    def fn(t):
        mat = lp_distances(t['embeddings'], o['normalize_embeddings'])
        v = torch.relu(pml_logsumexp(mat - o['pos_margin'], pos) + pml_logsumexp(o['neg_margin'] - mat, neg)).flatten()
        return reduce_rows(v, o['reduction'])
    return 'generalized_lifted_structure_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_lifted(r, g):
    """LiftedStructureLoss as pml's pair_based_loss: for each ordered positive pair (a1, p) the negative pairs (a2, n)
    with a2 = a1 or a2 = p, ½·relu(lse(m⁻ − d_neg) + d_pos − m⁺)², MeanReducer over positive pairs; `none` here sums each
    anchor's pairs (LossLab's per-anchor output)."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'neg_margin': r.choice((1.0, 0.5, 1.5)),
         'pos_margin': r.choice((0.0, 0.2)), 'normalize_embeddings': r.random() < 0.7}
    def fn(t):
        mat = lp_distances(t['embeddings'], o['normalize_embeddings'])
        a1, p = pos.nonzero(as_tuple=True)
        a2, nn_ = neg.nonzero(as_tuple=True)
        n = mat.shape[0]
        if len(a1) == 0 or len(a2) == 0:
            return t['embeddings'].sum() * 0 if o['reduction'] != 'none' else torch.zeros(n, dtype=mat.dtype) * t['embeddings'].sum()
        neg_pairs = mat[a2, nn_].unsqueeze(0).repeat(len(a1), 1)
        keep = (a2.unsqueeze(0) == a1.unsqueeze(1)) | (a2.unsqueeze(0) == p.unsqueeze(1))
        lse = pml_logsumexp(o['neg_margin'] - neg_pairs, keep).flatten()
        per_pair = torch.relu(lse + mat[a1, p] - o['pos_margin']) ** 2 / 2
        if o['reduction'] == 'none':
            return torch.zeros(n, dtype=mat.dtype).index_add(0, a1, per_pair)
        return per_pair.sum() if o['reduction'] == 'sum' else per_pair.mean()
    return 'lifted_structure_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_tuplet(r, g):
    """TupletMarginLoss: per ordered positive pair, lmu.logsumexp(scale·(cos_an − cos(acos(cos_ap) − m)), add_one)
    over the anchor's negatives, MeanReducer over positive pairs; `none` sums each anchor's pairs."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'margin': r.choice((5.73, 0.0, 20.0)), 'scale': r.choice((64.0, 8.0, 1.0))}
    def fn(t):
        cos = cosine(t['embeddings'])
        n = cos.shape[0]
        a1, p = pos.nonzero(as_tuple=True)
        a2, nn_ = neg.nonzero(as_tuple=True)
        if len(a1) == 0 or len(a2) == 0:
            return t['embeddings'].sum() * 0 if o['reduction'] != 'none' else torch.zeros(n, dtype=cos.dtype) * t['embeddings'].sum()
        pos_c = torch.cos(torch.acos(cos[a1, p]) - math.radians(o['margin'])).unsqueeze(1)
        inside = o['scale'] * (cos[a2, nn_].unsqueeze(0) - pos_c)
        keep = a2.unsqueeze(0) == a1.unsqueeze(1)
        per_pair = pml_logsumexp(inside, keep, add_one=True).flatten()
        if o['reduction'] == 'none':
            return torch.zeros(n, dtype=cos.dtype).index_add(0, a1, per_pair)
        return per_pair.sum() if o['reduction'] == 'sum' else per_pair.mean()
    return 'tuplet_margin_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_intra_pair_variance(r, g):
    """IntraPairVarianceLoss: relu((1 − ε⁺)·mean(s_pos) − s_pos)² and relu(s_neg − (1 + ε⁻)·mean(s_neg))² over the
    ordered pairs, MeanReducer per sub-loss (the means not detached); `none` sums each anchor's pairs."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'pos_eps': r.choice((0.01, 0.0, 0.3)), 'neg_eps': r.choice((0.01, 0.0, -0.2))}
    def fn(t):
        cos = cosine(t['embeddings'])
        n = cos.shape[0]
        total = t['embeddings'].sum() * 0
        per = torch.zeros(n, dtype=cos.dtype) + total
        for mask, sign, eps in ((pos, -1, -o['pos_eps']), (neg, 1, o['neg_eps'])):
            a, j = mask.nonzero(as_tuple=True)
            if len(a) == 0:
                continue
            s = cos[a, j]
            terms = torch.relu(sign * (s - (1 + eps) * s.mean())) ** 2
            per = per.index_add(0, a, terms)
            total = total + (terms.sum() if o['reduction'] == 'sum' else terms.mean())
        return per if o['reduction'] == 'none' else total
    return 'intra_pair_variance_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_margin(r, g):
    """MarginLoss over every triplet (a, p, n): relu(d_ap − β + m) + relu(β − d_an + m) with β the option, a learned
    scalar or one per class (the anchor's), DivisorReducer (÷ the non-zero terms), plus ν·β (scalar, already reduced) or
    ν·β_{y_a} per triplet (per class, ÷ the same divisor); `none` sums each anchor's triplets (no regularizer)."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'margin': r.choice((0.2, 0.0, 0.5)), 'nu': r.choice((0.0, 0.3)),
         'normalize_embeddings': r.random() < 0.7}
    inputs = {'embeddings': x, 'labels': labels}
    kind = r.choice(('option', 'scalar', 'classes'))
    if kind == 'option':
        o['beta'] = r.choice((1.2, 0.8))
    elif kind == 'scalar':
        inputs['beta'] = tensor((1,), 0.5, 1.5, g)
    else:
        inputs['beta'] = tensor((int(labels.max()) + 1 + r.randint(0, 1),), 0.5, 1.5, g)
    def fn(t):
        mat = lp_distances(t['embeddings'], o['normalize_embeddings'])
        lab = t['labels']
        trip = [(a, p, n_) for a, p in pos.nonzero().tolist() for n_ in neg[a].nonzero().flatten().tolist()]
        n = mat.shape[0]
        zero = t['embeddings'].sum() * 0
        if 'beta' in t:
            zero = zero + t['beta'].sum() * 0
        if not trip:
            return zero + torch.zeros(n, dtype=mat.dtype) if o['reduction'] == 'none' else zero
        a, p, n_ = (torch.tensor(v) for v in zip(*trip))
        if 'beta' not in t:
            beta = torch.full((len(trip),), o['beta'], dtype=mat.dtype)
        elif t['beta'].numel() == 1:
            beta = t['beta'].reshape(1).expand(len(trip))
        else:
            beta = t['beta'][lab[a]]
        pl = torch.relu(mat[a, p] - beta + o['margin'])
        nl = torch.relu(beta - mat[a, n_] + o['margin'])
        if o['reduction'] == 'none':
            return torch.zeros(n, dtype=mat.dtype).index_add(0, a, pl + nl)
        divisor = int((pl > 0).sum() + (nl > 0).sum())
        total = (pl + nl).sum()
        if o['reduction'] == 'mean':
            total = total / divisor if divisor > 0 else zero
        if 'beta' in t:
            if t['beta'].numel() == 1:
                total = total + o['nu'] * t['beta'].reshape(())
            else:
                reg = (o['nu'] * beta).sum()
                total = total + (reg if o['reduction'] == 'sum' else (reg / divisor if divisor > 0 else zero))
        return total
    return 'margin_loss', inputs, o, fn



def g_snr_contrastive(r, g):
    """SignalToNoiseRatioContrastiveLoss: the contrastive loss (AvgNonZero per kind of pair) on SNRDistance,
    var(x_i − x_j)/var(x_i) with torch.var (unbiased) over the features of the normalized rows."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'pos_margin': r.choice((0.0, 0.3)), 'neg_margin': r.choice((1.0, 0.5, 2.0)),
         'normalize_embeddings': r.random() < 0.7}
    def fn(t):
        e = F.normalize(t['embeddings'], dim=1) if o['normalize_embeddings'] else t['embeddings']
        mat = torch.var(e.unsqueeze(1) - e.unsqueeze(0), dim=2) / torch.var(e, dim=1).unsqueeze(1)
        pl = torch.relu(mat - o['pos_margin']) * pos
        nl = torch.relu(o['neg_margin'] - mat) * neg
        if o['reduction'] == 'none':
            return (pl + nl).sum(1)
        if o['reduction'] == 'sum':
            return pl.sum() + nl.sum()
        return avg_nonzero(pl[pos]) + avg_nonzero(nl[neg])
    return 'signal_to_noise_ratio_contrastive_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_ranked_list(r, g):
    """RankedListLoss as pml computes it (P*, N* masks, exponential weights not detached, MeanReducer), except that an
    anchor without a positive beyond α − m gets L_P = 0 where pml divides 0 by 0 (NaN), as it does for L_N."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'margin': r.choice((0.4, 0.2, 1.0)), 'Tn': r.choice((10.0, 1.0, 0.0)),
         'Tp': r.choice((0.0, 2.0)), 'imbalance': r.choice((0.5, 0.2, 1.0)), 'normalize_embeddings': r.random() < 0.7}
    if r.random() < 0.3:
        o['alpha'] = r.choice((1.0, 1.5))
    def fn(t):
        alpha = o.get('alpha', 1 + o['margin'] / 2)
        m = o['margin']
        mat = lp_distances(t['embeddings'], o['normalize_embeddings'])
        zero = torch.zeros_like(mat)
        nmask = neg & (mat < alpha) & (mat > 0)
        pmask = pos & (mat > alpha - m)
        w_p = torch.where(pmask, torch.exp(o['Tp'] * (mat - (alpha - m))), zero)
        w_n = torch.where(nmask, torch.exp(o['Tn'] * (alpha - mat)), zero)
        sp, sn = w_p.sum(1), w_n.sum(1)
        ones = torch.ones_like(sp)
        loss_p = torch.where(sp > 0, (w_p * torch.where(pmask, mat - (alpha - m), zero)).sum(1) / torch.where(sp > 0, sp, ones), sp * 0)
        loss_n = torch.where(sn > 0, (w_n * torch.where(nmask, alpha - mat, zero)).sum(1) / torch.where(sn > 0, sn, ones), sn * 0)
        return reduce_rows((1 - o['imbalance']) * loss_p + o['imbalance'] * loss_n, o['reduction'])
    return 'ranked_list_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_fast_ap(r, g):
    """FastAPLoss as pml computes it: squared distances of the normalized rows, triangular pulses on B + 1 centres over
    [0, 4], cumulative histograms, AP over the safe bins, 1 − AP per anchor with a positive, MeanReducer over those."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'num_bins': r.choice((10, 3, 25))}
    def fn(t):
        e = F.normalize(t['embeddings'], dim=1)
        dist = ((e.unsqueeze(1) - e.unsqueeze(0)) ** 2).sum(2)
        b = o['num_bins']
        delta = 4.0 / b
        mids = torch.linspace(0.0, 4.0, steps=b + 1, dtype=dist.dtype).view(-1, 1, 1)
        pulse = torch.relu(1 - torch.abs(dist - mids) / delta)
        hp = (pulse * pos).sum(2).T
        hn = (pulse * neg).sum(2).T
        cp, ca = torch.cumsum(hp, 1), torch.cumsum(hp + hn, 1)
        prod = hp * cp
        safe = (prod > 0) & (ca > 0)
        ap = torch.where(safe, prod / torch.where(safe, ca, torch.ones_like(ca)), torch.zeros_like(ca)).sum(1)
        npos = pos.sum(1).to(dist.dtype)
        has = npos > 0
        per = torch.where(has, 1 - ap / torch.where(has, npos, torch.ones_like(npos)), torch.zeros_like(npos))
        if o['reduction'] == 'none':
            return per
        if o['reduction'] == 'sum':
            return per.sum()
        return per[has].mean() if bool(has.any()) else t['embeddings'].sum() * 0
    return 'fast_ap_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_smooth_ap(r, g):
    """Smooth-AP as its authors' code computes it, generalized to labels: for query q and each row p of q's label (q
    among them), R+ = 1 + Σ over q's label's other rows of σ((s_qj − s_qp)/τ), R = 1 + the same over every other row;
    AP_q = mean of R+/R over those p; 1 − mean AP. exclude_query (the paper's): q out of its positives and of both sums,
    the mean over queries with another positive. Temperatures from 0.01 (the default, steep) to 1."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'temperature': r.choice((0.01, 0.1, 1.0)), 'exclude_query': r.random() < 0.4}
    def fn(t):
        e = t['embeddings']
        s = F.normalize(e, dim=1) @ F.normalize(e, dim=1).T                     # s[q, j]
        n = s.shape[0]
        diff = (s.unsqueeze(1) - s.unsqueeze(2)) / o['temperature']            # diff[q, p, j] = s_qj − s_qp
        sig = torch.sigmoid(diff)
        same = labels.unsqueeze(0) == labels.unsqueeze(1)                      # same[q, j]
        eye = torch.eye(n, dtype=torch.bool)
        keep = ~eye.unsqueeze(0)                                               # j ≠ p
        member = same.clone()
        if o['exclude_query']:
            keep = keep & ~eye.unsqueeze(1)                                    # j ≠ q
            member = member & ~eye                                             # p ≠ q
        sig = sig * keep
        rank_all = 1 + sig.sum(2)                                              # [q, p]
        rank_pos = 1 + (sig * same.unsqueeze(1)).sum(2)
        ratio = torch.where(member, rank_pos / rank_all, torch.zeros_like(rank_all))
        count = member.sum(1)
        has = count > 0
        ap = ratio.sum(1) / torch.where(has, count, torch.ones_like(count))
        return 1 - ap[has].mean() if bool(has.any()) else e.sum() * 0
    return 'smooth_ap_loss', {'embeddings': x, 'labels': labels}, o, fn


def g_histogram(r, g):
    """HistogramLoss as pml computes it: the distinct unordered pairs of all triplets, the bin index from the cosine in
    float32, linear interpolation onto B + 1 nodes, L = Σ p⁻·cumsum(p⁺). One value per batch."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'n_bins': r.choice((100, 10, 7))}
    def fn(t):
        cos = cosine(t['embeddings'])
        n = cos.shape[0]
        has_pos = pos.any(1)
        if not bool(has_pos.any()) or not bool(neg.any()):
            return t['embeddings'].sum() * 0
        upper = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
        pp = pos & upper
        nn_ = neg & upper & (has_pos.unsqueeze(0) | has_pos.unsqueeze(1))
        delta = 2 / o['n_bins']
        def density(s):
            rs = torch.floor((s.float() + 1) / delta).to(torch.long).clamp(0, o['n_bins'] - 1)
            a = (s + 1 - rs * delta) / delta
            b = ((rs + 1) * delta - 1 - s) / delta
            dens = torch.zeros(o['n_bins'] + 1, dtype=s.dtype)
            dens = dens.scatter_add(0, rs + 1, a).scatter_add(0, rs, b)
            return dens / s.numel()
        p_pos, p_neg = density(cos[pp]), density(cos[nn_])
        return (p_neg * torch.cumsum(p_pos, 0)).sum()
    return 'histogram_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_pnp(r, g):
    """PNPLoss as pml computes it (N×N×N differences, the clamped sigmoid, the five variants), except that an anchor
    without a positive adds 0 where pml divides 0 by 0 (NaN)."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'variant': r.choice(('O', 'Ds', 'Dq', 'Iu', 'Ib')), 'anneal': r.choice((0.01, 0.1, 1.0)), 'alpha': r.choice((1.0, 2.5)),
         'b': r.choice((2.0, 0.5))}
    def fn(t):
        e = F.normalize(t['embeddings'], dim=1)
        sim = e @ e.T
        n = sim.shape[0]
        has = pos.any(1)
        i_pos = (pos | (torch.eye(n, dtype=torch.bool) & has.unsqueeze(1))).to(sim.dtype)
        i_neg = neg.to(sim.dtype)
        if not bool(has.any()):
            return t['embeddings'].sum() * 0
        rep = sim.unsqueeze(1).repeat(1, n, 1)
        diff = rep - rep.permute(0, 2, 1)
        sg = 1.0 / (1.0 + torch.exp(torch.clamp(-diff / o['anneal'], min=-50, max=50))) * i_neg.unsqueeze(0)
        rk = sg.sum(-1)
        v = o['variant']
        if v == 'Ds':
            rk = torch.log(1 + rk)
        elif v == 'Dq':
            rk = 1 / (1 + rk) ** o['alpha']
        elif v == 'Iu':
            rk = (1 + rk) * torch.log(1 + rk)
        elif v == 'Ib':
            rk = 1 / o['b'] ** 2 * (o['b'] * rk - torch.log(1 + o['b'] * rk))
        npos = i_pos.sum(1)
        per = torch.where(npos > 0, (rk * i_pos).sum(-1) / torch.where(npos > 0, npos, torch.ones_like(npos)), npos * 0)
        loss = per.sum() / n
        return 1 - loss if v == 'Dq' else loss
    return 'pnp_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_tcm(r, g):
    """ThresholdConsistentMarginLoss: a base loss (multi-similarity or contrastive with their defaults) plus
    λ⁺·mean(m⁺ − s) over the positive pairs with s ≤ m⁺ and λ⁻·mean(s − m⁻) over the negative pairs with s ≥ m⁻
    (F.cosine_similarity of each pair), one value per batch."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'base_loss': r.choice(('multi_similarity_loss', 'contrastive_loss')), 'lambda_plus': r.choice((1.0, 0.5)),
         'lambda_minus': r.choice((1.0, 2.0)), 'margin_plus': r.choice((0.9, 0.5)), 'margin_minus': r.choice((0.5, 0.0, -0.3))}
    def fn(t):
        e = t['embeddings']
        u = e / e.norm(dim=1, keepdim=True)
        s = u @ u.T
        if o['base_loss'] == 'multi_similarity_loss':
            per = []
            for a in range(s.shape[0]):
                one = torch.zeros(1, dtype=s.dtype)
                zp, zn = -2.0 * (s[a][pos[a]] - 0.5), 50.0 * (s[a][neg[a]] - 0.5)
                per.append(torch.logsumexp(torch.cat([one, zp]), 0) / 2.0 + torch.logsumexp(torch.cat([one, zn]), 0) / 50.0)
            base = torch.stack(per).mean()
        else:
            def dist(mask):
                i, j = mask.nonzero(as_tuple=True)
                return (u[i] - u[j]).norm(dim=1)
            base = avg_nonzero(torch.relu(dist(pos))) + avg_nonzero(torch.relu(1.0 - dist(neg)))
        sp, sn = s[pos], s[neg]
        inp, inn = sp <= o['margin_plus'], sn >= o['margin_minus']
        tcm = base * 0
        if bool(inp.any()):
            tcm = tcm + o['lambda_plus'] * (o['margin_plus'] - sp[inp]).mean()
        if bool(inn.any()):
            tcm = tcm + o['lambda_minus'] * (sn[inn] - o['margin_minus']).mean()
        return base + tcm
    return 'threshold_consistent_margin_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_p2sgrad(r, g):
    """P2SGradLoss: W's columns renormalized to 1 in place before the step (so W's gradient is the one for the unit
    columns: a straight-through copy here; renorm_in_place false: through the normalization), cosines x·ŵ/‖x‖ clamped to [−1, 1], MSELoss against one-hot (mean over N·C);
    sum adds the rows' means, none gives them."""
    n, d, c = r.randint(1, 7), r.randint(2, 5), r.randint(2, 5)
    e, w = tensor((n, d), rng=g), tensor((d, c), rng=g)
    y = torch.randint(0, c, (n,), generator=g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'renorm_in_place': r.random() < 0.7}
    def fn(t):
        wt = t['W']
        unit = wt / wt.norm(dim=0, keepdim=True)
        w_hat = wt + (unit - wt).detach() if o['renorm_in_place'] else unit
        x = t['embeddings']
        cos = (x @ w_hat / x.norm(dim=1, keepdim=True)).clamp(-1, 1)
        rows = ((cos - F.one_hot(t['labels'], c).to(cos.dtype)) ** 2).mean(1)
        return reduce_rows(rows, o['reduction'])
    return 'p2s_grad_loss', {'embeddings': e, 'labels': y, 'W': w}, o, fn



def g_instance(r, g):
    """InstanceLoss as pml computes it: l2_norm v/(‖v‖ + 1e-6), cross-entropy of γ·ÛÛᵀ with the labels' ranks among
    the distinct labels (torch.unique's inverse) as target columns, AvgNonZeroReducer."""
    x, labels, pos, neg = embeddings_case(r, g)
    if r.random() < 0.3:
        labels = torch.randperm(labels.shape[0], generator=g)   # every row its own instance
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'gamma': r.choice((64.0, 8.0, 1.0))}
    def fn(t):
        e = t['embeddings']
        u = e / (torch.norm(e, p=2, dim=1, keepdim=True) + 1e-6)
        sim = (u * o['gamma']) @ u.T
        _, target = torch.unique(t['labels'], return_inverse=True)
        v = F.cross_entropy(sim, target, reduction='none')
        if o['reduction'] == 'none':
            return v
        return v.sum() if o['reduction'] == 'sum' else avg_nonzero(v)
    return 'instance_loss', {'embeddings': x, 'labels': labels}, o, fn



def g_angular_loss(r, g):
    """AngularLoss as pml computes it: per ordered positive pair, normalized anchor and positive against the raw
    embeddings of the other labels, lmu.logsumexp(4tan²α(a + p)·x_n − 2(1 + tan²α)a·p, add_one), MeanReducer over the
    pairs; `none` sums each anchor's pairs."""
    x, labels, pos, neg = embeddings_case(r, g)
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'alpha': r.choice((40.0, 30.0, 60.0))}
    def fn(t):
        e = t['embeddings']
        n = e.shape[0]
        a1, p = pos.nonzero(as_tuple=True)
        if len(a1) == 0 or not bool(neg.any()):
            return e.sum() * 0 if o['reduction'] != 'none' else torch.zeros(n, dtype=e.dtype) * e.sum()
        anchors, positives = F.normalize(e[a1], dim=1), F.normalize(e[p], dim=1)
        sq_tan = math.tan(math.radians(o['alpha'])) ** 2
        ap_dot = (anchors * positives).sum(1, keepdim=True)
        ap_emb = (anchors + positives) @ e.T
        final = 4 * sq_tan * ap_emb - 2 * (1 + sq_tan) * ap_dot
        keep = labels[a1].unsqueeze(1) != labels.unsqueeze(0)
        per_pair = pml_logsumexp(final, keep, add_one=True).flatten()
        if o['reduction'] == 'none':
            return torch.zeros(n, dtype=e.dtype).index_add(0, a1, per_pair)
        return per_pair.sum() if o['reduction'] == 'sum' else per_pair.mean()
    return 'angular_loss', {'embeddings': x, 'labels': labels}, o, fn


# segmentation_models_pytorch's Dice, Jaccard and Tversky losses (not a Debian package), written out from its
# DiceLoss.forward and soft_tversky_score: TP = (Σo + Σt − ‖o − t‖₁)/2 per class over batch and pixels, Dice is
# Tversky with α = β = ½ and Jaccard with α = β = 1, classes without target pixels count 0, mean over classes, ^γ.


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


def g_multiplicative(name):
    """pytorch-metric-learning's LargeMarginSoftmaxLoss and SphereFaceLoss with W as an input: cosines by its
    CosineSimilarity, the target's through Equation 7's multiple-angle sum Σ_n (−1)^n C(m, 2n) c^(m−2n) (1 − c²)^n,
    then (−1)^k·that − 2k with k = ⌊acos(c)/(π/m)⌋ under no_grad; logits times ‖x‖·‖w_j‖ (L-Softmax) or ‖x‖
    (SphereFace) and the scale; cross-entropy, MeanReducer."""
    def gen(r, g):
        n, d, c = r.randint(1, 7), r.randint(2, 5), r.randint(2, 5)
        e, w = tensor((n, d), rng=g), tensor((d, c), rng=g)
        y = torch.randint(0, c, (n,), generator=g)
        o = {'margin': r.choice((1, 2, 3, 4, 6)), 'scale': r.choice((0.5, 1.0, 4.0)), 'reduction': r.choice(('none', 'mean', 'sum'))}
        if r.random() < 0.3:
            o['lambd'] = r.choice((0.0, 5.0, 1000.0))   # the papers' blend (λ·c + ψ)/(1 + λ); not a PML option
        m = o['margin']
        def fn(t):
            x, wt = t['embeddings'], t['W']
            cos = F.normalize(x, dim=1) @ F.normalize(wt, dim=0)
            mask = F.one_hot(t['labels'], c).to(cos.dtype)
            ct = cos[mask == 1]
            terms = [(-1) ** j * math.comb(m, 2 * j) * ct ** (m - 2 * j) * (1 - ct ** 2) ** j for j in range(m // 2 + 1)]
            cos_m = sum(terms)
            with torch.no_grad():
                k = (torch.acos(torch.clamp(ct, -1, 1)) / (math.pi / m)).floor()
            psi = ((-1) ** k) * cos_m - 2 * k
            lam = o.get('lambd', 0.0)
            psi = (lam * ct + psi) / (1 + lam)
            logits = cos + mask * (psi - ct).unsqueeze(1)
            magnitude = torch.norm(x, p=2, dim=1).unsqueeze(1)
            if name == 'large_margin_softmax_loss':
                magnitude = magnitude * torch.norm(wt, p=2, dim=0).unsqueeze(0)
            logits = logits * magnitude * o['scale']
            return reduce_rows(F.cross_entropy(logits, t['labels'], reduction='none'), o['reduction'])
        return name, {'embeddings': e, 'labels': y, 'W': w}, o, fn
    return gen


def g_nca(name):
    """pytorch-metric-learning's NCALoss and ProxyNCALoss (proxies (C, D) as an input) through nca_computation: the
    default LpDistance(power=2) of the F.normalize'd vectors (torch.cdist, squared), minus it times softmax_scale,
    the diagonal −∞ for NCA, softmax, the sum over same-label references, −log of the rows where it is not 0,
    MeanReducer over those rows (0 when none)."""
    def gen(r, g):
        n, d = r.randint(1, 7), r.randint(2, 5)
        c = r.randint(2, 4)
        e = tensor((n, d), rng=g)   # no zero row: F.normalize's gradient there is 1e12 (x/eps); LossLab's is 0 (tested by hand)
        y = torch.randint(0, c, (n,), generator=g)
        o = {'softmax_scale': r.choice((0.5, 1.0, 4.0)), 'reduction': r.choice(('none', 'mean', 'sum'))}
        ins = {'embeddings': e, 'labels': y}
        if name == 'proxy_nca_loss':
            ins['proxies'] = tensor((c, d), rng=g)
        def fn(t):
            q = F.normalize(t['embeddings'], dim=1)
            if name == 'proxy_nca_loss':
                ref, ref_labels = F.normalize(t['proxies'], dim=1), torch.arange(c)
            else:
                ref, ref_labels = q, t['labels']
            mat = -((q.unsqueeze(1) - ref.unsqueeze(0)) ** 2).sum(-1)
            if name == 'nca_loss':
                mat = mat.masked_fill(torch.eye(n, dtype=torch.bool), float('-inf'))
            same = (t['labels'].unsqueeze(1) == ref_labels.unsqueeze(0)).to(mat.dtype)
            p = (F.softmax(o['softmax_scale'] * mat, dim=1) * same).sum(1) if n > 1 or name == 'proxy_nca_loss' else torch.zeros(n, dtype=mat.dtype)
            keep = p != 0
            losses = torch.where(keep, -torch.log(torch.where(keep, p, torch.ones_like(p))), torch.zeros_like(p))
            red = o['reduction']
            if red == 'none':
                return losses
            if red == 'sum':
                return losses.sum()
            return losses.sum() / max(int(keep.sum()), 1)
        return name, ins, o, fn
    return gen


def g_soft_triple(r, g):
    """pytorch-metric-learning's SoftTripleLoss with fc (D, C·K) as an input: CosineSimilarity to fc's columns viewed
    (N, C, K), softmax over K of sim/γ, the weighted sum, cross_entropy(la·(S − margin·onehot)) with MeanReducer, plus
    reg_weight·Σ√(2 + tiny − clamp(2·cos, max=2)) over each class's centre pairs / (2·pairs)."""
    n, d, c, k = r.randint(1, 6), r.randint(2, 5), r.randint(2, 4), r.choice((1, 2, 3))
    e, fc = tensor((n, d), rng=g), tensor((d, c * k), rng=g)
    y = torch.randint(0, c, (n,), generator=g)
    o = {'centers_per_class': k, 'la': r.choice((1.0, 20.0)), 'gamma': r.choice((0.1, 0.5)), 'reg_weight': r.choice((0.0, 0.2, 1.0)),
         'margin': r.choice((0.0, 0.01, 0.2)), 'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        w = F.normalize(t['fc'], dim=0)
        sim = (F.normalize(t['embeddings'], dim=1) @ w).view(-1, c, k)
        prob = F.softmax(sim / o['gamma'], dim=2)
        s = (prob * sim).sum(2)
        margin = torch.zeros_like(s)
        margin[torch.arange(s.shape[0]), t['labels']] = o['margin']
        rows = F.cross_entropy(o['la'] * (s - margin), t['labels'], reduction='none')
        reg = torch.zeros((), dtype=rows.dtype)
        if o['reg_weight'] > 0 and k > 1:
            cs = w.t() @ w
            mask = torch.zeros(c * k, c * k, dtype=torch.bool)
            for i in range(c):
                mask[i * k:(i + 1) * k, i * k:(i + 1) * k] = torch.triu(torch.ones(k, k, dtype=torch.bool), diagonal=1)
            masked = torch.clamp(2.0 * cs[mask], max=2)
            reg = o['reg_weight'] * torch.sqrt(2.0 + torch.finfo(torch.float64).tiny - masked).sum() / (2 * mask.sum())
        if o['reduction'] == 'none':
            return rows + reg / n
        if o['reduction'] == 'sum':
            return rows.sum() + reg
        return rows.mean() + reg
    return 'soft_triple_loss', {'embeddings': e, 'labels': y, 'fc': fc}, o, fn


def g_npairs(r, g):
    """pytorch-metric-learning's NPairsLoss: all positive pairs (torch.where of the label matches without the
    diagonal), the first pair of each label by np.unique(return_index=True), DotProductSimilarity of the normalized
    embeddings, cross_entropy against arange(M), MeanReducer over the anchors (0 when there is none)."""
    n, d = r.randint(1, 9), r.randint(2, 5)
    e = tensor((n, d), rng=g)
    y = torch.randint(0, r.randint(1, 5), (n,), generator=g)
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        labels = t['labels']
        matches = labels.unsqueeze(1) == labels.unsqueeze(0)
        matches.fill_diagonal_(False)
        a, p = torch.where(matches)
        rows = torch.zeros(n, dtype=torch.float64)
        if len(a) == 0:
            return rows if o['reduction'] == 'none' else (t['embeddings'] * 0).sum()
        _, first = np.unique(labels[a].numpy(), return_index=True)
        a, p = a[first], p[first]
        q = F.normalize(t['embeddings'], dim=1)
        sim = q[a] @ q[p].T
        losses = F.cross_entropy(sim, torch.arange(len(a)), reduction='none')
        if o['reduction'] == 'none':
            return torch.zeros(n, dtype=losses.dtype).index_put((a,), losses)
        return losses.sum() if o['reduction'] == 'sum' else losses.mean()
    return 'n_pairs_loss', {'embeddings': e, 'labels': y}, o, fn


def g_center(r, g):
    """KaiyangZhou/pytorch-center-loss's CenterLoss.forward: distmat = ‖x‖² + ‖c‖² − 2x·cᵀ, masked by the labels'
    one-hot, clamped to [1e-12, 1e12], summed and divided by the batch size (the clamp adds 1e-12 for each masked
    zero: 1e-12·(C − 1) per row, within the tolerance). none and sum (LossLab's) from the same masked matrix."""
    n, d, c = r.randint(1, 6), r.randint(1, 5), r.randint(1, 4)
    labels = torch.randint(0, c, (n,), generator=g)
    ins = {'embeddings': tensor((n, d), rng=g), 'labels': labels, 'centers': tensor((c, d), rng=g)}
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        x, centers = t['embeddings'], t['centers']
        distmat = x.pow(2).sum(1, keepdim=True).expand(n, c) + centers.pow(2).sum(1, keepdim=True).expand(c, n).t()
        distmat = torch.addmm(distmat, x, centers.t(), beta=1, alpha=-2)
        mask = F.one_hot(t['labels'], c).to(x.dtype)
        if o['reduction'] == 'mean':
            return (distmat * mask).clamp(min=1e-12, max=1e12).sum() / n
        rows = (distmat * mask).sum(1)
        return reduce_rows(rows, o['reduction'])
    return 'center_loss', ins, o, fn

