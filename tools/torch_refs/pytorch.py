"""PyTorch's own losses (torch.nn.functional), with random shapes, options and out-of-domain values.

Each generator returns (loss name, {name: tensor}, options for LossLab, torch function of the inputs).
"""
import torch
import torch.nn.functional as F

from . import common
from .common import red, shape_nd, softplus, tensor


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
    c = r.randint(1, 300) if common.BIG and r.random() < 0.3 else r.randint(1, 5)
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


def g_triplet_distance(r, g):
    # The default distance (pairwise_distance); any other is a C# IEmbeddingDistance, outside the protocol.
    n, d = r.randint(1, 5), r.randint(1, 5)
    o = {'reduction': red(r), 'margin': r.choice((1.0, 0.2, 3.0)), 'swap': r.random() < 0.5}
    ins = {'anchor': tensor((n, d), rng=g), 'positive': tensor((n, d), rng=g), 'negative': tensor((n, d), rng=g)}
    return 'triplet_margin_with_distance_loss', ins, o, \
        lambda t: F.triplet_margin_with_distance_loss(t['anchor'], t['positive'], t['negative'], **o)


def g_ctc(r, g):
    big = common.BIG and r.random() < 0.3   # long sequences: the log-space recursions over 60 steps
    n, c = r.randint(1, 3), r.randint(2, 20 if big else 5)
    tmax = r.randint(1, 60 if big else 7)
    blank = r.randrange(c)
    lengths_in = [r.randint(1, tmax) for _ in range(n)]
    smax = r.randint(0, 15 if big else 4)
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


def _rnnt_costs(lp, targets, logit_lengths, target_lengths, blank):
    """Per-sequence RNN-T costs from log-probabilities (B, T, U + 1, V), the lattice recursion written out with
    logsumexp (autograd gives the gradient)."""
    costs = []
    for b in range(lp.shape[0]):
        tb, ub = int(logit_lengths[b]), int(target_lengths[b])
        alpha = {}
        for t in range(tb):
            for u in range(ub + 1):
                if t == 0 and u == 0:
                    alpha[t, u] = lp.new_zeros(())
                    continue
                terms = []
                if t > 0:
                    terms.append(alpha[t - 1, u] + lp[b, t - 1, u, blank])
                if u > 0:
                    terms.append(alpha[t, u - 1] + lp[b, t, u - 1, int(targets[b, u - 1])])
                alpha[t, u] = torch.logsumexp(torch.stack(terms), 0)
        costs.append(-(alpha[tb - 1, ub] + lp[b, tb - 1, ub, blank]))
    return torch.stack(costs)


class _RnntLoss(torch.autograd.Function):
    """torchaudio's rnnt_loss semantics in float64: per-sequence costs, each sequence's gradient clamped to
    [−clamp, clamp] when clamp > 0, then scaled by the upstream gradient (the reduction)."""
    @staticmethod
    def forward(ctx, logits, targets, logit_lengths, target_lengths, blank, clamp):
        with torch.enable_grad():
            x = logits.detach().requires_grad_(True)
            costs = _rnnt_costs(torch.log_softmax(x, -1), targets, logit_lengths, target_lengths, blank)
            grad, = torch.autograd.grad(costs.sum(), x)
        if clamp > 0:
            grad = grad.clamp(-clamp, clamp)
        ctx.save_for_backward(grad)
        return costs.detach()

    @staticmethod
    def backward(ctx, grad_costs):
        grad, = ctx.saved_tensors
        return grad * grad_costs.view(-1, 1, 1, 1), None, None, None, None, None


def g_rnnt(r, g):
    """torchaudio.functional.rnnt_loss: the lattice in float64 (above), checked against torchaudio itself (float32
    only, within 1e-4) when it is installed; torchaudio's shape rule (the longest sequence fills T and U) kept so
    that it can run. A target equal to the blank (which torchaudio does not check) is refused by LossLab."""
    big = common.BIG and r.random() < 0.3
    b, frames = r.randint(1, 3), r.randint(1, 30 if big else 6)
    u_max, v = r.randint(0, 10 if big else 4), r.randint(2, 40 if big else 6)
    blank_option = r.choice((-1, 0, v - 1, r.randrange(v)))
    blank = blank_option % v
    logit_lengths = [frames] + [r.randint(1, frames) for _ in range(b - 1)]
    target_lengths = [r.randint(0, u_max) for _ in range(b)]
    target_lengths[r.randrange(b)] = u_max
    targets = torch.zeros((b, u_max), dtype=torch.long)
    for i in range(b):
        for j in range(u_max):
            k = r.randrange(v - 1)
            targets[i, j] = k if k < blank else k + 1
    refused = u_max > 0 and r.random() < 0.05
    if refused:
        targets[target_lengths.index(u_max), 0] = blank
    o = {'reduction': red(r), 'blank': blank_option, 'clamp': r.choice((-1.0, -1.0, 0.05, 0.3))}
    ins = {'logits': tensor((b, frames, u_max + 1, v), -3, 3, g), 'targets': targets,
           'logit_lengths': torch.tensor(logit_lengths), 'target_lengths': torch.tensor(target_lengths)}
    def fn(t):
        if refused:
            raise ValueError('a target equal to the blank')
        costs = _RnntLoss.apply(t['logits'], t['targets'], t['logit_lengths'], t['target_lengths'], blank, o['clamp'])
        try:
            import torchaudio.functional as TAF
        except ImportError:
            TAF = None
        if TAF is not None:
            xf = t['logits'].detach().float().requires_grad_(True)
            theirs = TAF.rnnt_loss(xf, t['targets'].int(), t['logit_lengths'].int(), t['target_lengths'].int(),
                                   blank=blank, clamp=o['clamp'], reduction='none')
            theirs.sum().backward()
            with torch.enable_grad():
                x = t['logits'].detach().requires_grad_(True)
                _RnntLoss.apply(x, t['targets'], t['logit_lengths'], t['target_lengths'], blank, o['clamp']).sum().backward()
            if not (torch.allclose(theirs.detach().double(), costs.detach(), rtol=1e-4, atol=1e-4)
                    and torch.allclose(xf.grad.double(), x.grad, rtol=1e-4, atol=1e-5)):
                raise AssertionError('the float64 lattice disagrees with torchaudio.functional.rnnt_loss')
        return {'none': costs, 'mean': costs.mean(), 'sum': costs.sum()}[o['reduction']]
    return 'rnnt_loss', ins, o, fn


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


def g_adaptive(r, g):
    """nn.AdaptiveLogSoftmaxWithLoss itself, its parameters the case's inputs (state_dict names, through
    functional_call): 1–3 clusters, every projection at least one row (a (0, D) weight has no JSON spelling), the head's
    bias half the time, unbatched one case in six. LossLab's reduction none is −output, mean is torch's loss."""
    from torch.nn.utils.stateless import functional_call
    import math as _math
    clusters = r.randint(1, 3)
    div = r.choice((1.5, 2.0, 4.0))
    d = _math.ceil(div ** clusters) + r.randint(0, 5)
    sizes = [r.randint(1, 4) for _ in range(clusters + 1)]
    cutoffs = [sum(sizes[:i + 1]) for i in range(clusters)]
    n_classes = sum(sizes)
    bias = r.random() < 0.5
    m = torch.nn.AdaptiveLogSoftmaxWithLoss(d, n_classes, cutoffs, div_value=div, head_bias=bias).double()
    unbatched = r.random() < 1 / 6
    n = r.randint(1, 5)
    ins = {'input': tensor((d,) if unbatched else (n, d), -2, 2, g),
           'target': torch.randint(0, n_classes, () if unbatched else (n,), generator=g)}
    for k, v in m.state_dict().items():
        ins[k] = tensor(tuple(v.shape), -1, 1, g)
    o = {'reduction': red(r), 'div_value': div}
    if r.random() < 0.5:
        o['cutoffs'] = cutoffs
    if r.random() < 0.5:
        o['n_classes'] = n_classes
    def fn(t):
        params = {k: v for k, v in t.items() if k.startswith(('head.', 'tail.'))}
        out = functional_call(m, params, (t['input'], t['target']))
        return {'none': -out.output, 'mean': out.loss, 'sum': -out.output.sum()}[o['reduction']]
    return 'adaptive_log_softmax_with_loss', ins, o, fn


def corrupt(r, loss, ins):
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




def g_box_iou(name):
    """torchvision.ops' box IoU losses, called themselves (Debian's python3-torchvision): random boxes that overlap, do
    not, or coincide (where torch.maximum and torch.minimum split the gradient at ties)."""
    def gen(r, g):
        from torchvision import ops   # imported here: only these cases need it
        n = r.randint(1, 6)   # (0, 4) has no JSON spelling; no boxes are tested in BoxIouTests
        def boxes():
            xy = tensor((n, 2), 0, 4, g)
            wh = tensor((n, 2), 0.2, 3, g)
            return torch.cat([xy, xy + wh], 1)
        b1, b2 = boxes(), boxes()
        if n and r.random() < 0.3:
            b2[0] = b1[0]                                   # a perfect prediction
        o = {'reduction': r.choice(('none', 'mean', 'sum'))}
        if name != 'complete_box_iou_loss' and r.random() < 0.3:
            o['eps'] = r.choice((1e-7, 1e-3, 0.0))          # torchvision 0.14's complete loss ignores eps in its DIoU part
        fn = {'generalized_box_iou_loss': ops.generalized_box_iou_loss, 'distance_box_iou_loss': ops.distance_box_iou_loss,
              'complete_box_iou_loss': ops.complete_box_iou_loss}[name]
        return name, {'boxes1': b1, 'boxes2': b2}, o, lambda t: fn(t['boxes1'], t['boxes2'], **o)
    return gen
