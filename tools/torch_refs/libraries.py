"""The papers of the modern losses, TRL's preference losses, scikit-learn's, Liger-Kernel's and ML.NET's, written out
in torch from their definitions (pytorch-metric-learning's are in metric.py, segmentation_models_pytorch's in
segmentation.py, Optax's in optax.py)."""
import math

import torch
import torch.nn.functional as F

from .common import red, reduce_rows, rows_case, shape_nd, tensor, weighted_reduce


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
    """TRL's DPOTrainer.dpo_loss: loss_type sigmoid (with cDPO's label smoothing), robust, exo_pair, hinge, ipo,
    nca_pair, sppo_hard, aot, aot_pair, apo_zero, apo_down, discopop and sft (the batch's NLL of the chosen tokens,
    expanded to every pair; bco_pair keeps a running mean: left out), f_divergence_type reverse_kl, js_divergence and
    alpha_divergence (cap_exp at log(max float)), the reference_free log-ratios as TRL forms them (some types use the
    reference inputs regardless), and get_batch_loss_metrics' RPO term losses + rpo_alpha·nll_loss."""
    n = r.randint(0, 8)
    s = (n,)
    names = ('policy_chosen_logps', 'policy_rejected_logps', 'reference_chosen_logps', 'reference_rejected_logps')
    scale = 300.0 if r.random() < 0.1 else 30.0           # sums of many token log-probabilities now and then
    ins = {k: -tensor(s, 0, 1, g) * scale for k in names}
    types = ('sigmoid', 'robust', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'sppo_hard', 'aot', 'aot_pair', 'apo_zero', 'apo_down', 'discopop', 'sft')
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'beta': r.choice((0.1, 0.5, 1.0)),
         'loss_type': r.choice(types), 'reference_free': r.random() < 0.2}
    if r.random() < 0.3:
        o['rpo_alpha'] = r.choice((0.5, 1.0))
    if o['loss_type'] == 'sft' or 'rpo_alpha' in o or r.random() < 0.2:
        if r.random() < 0.95:                                 # else missing where it is needed: refused
            ins['policy_nll_loss'] = tensor((), 0.2, 3, g)
    o['label_smoothing'] = r.choice((0.0, 0.1, 0.3)) if o['loss_type'] in ('sigmoid', 'robust', 'exo_pair', 'aot', 'aot_pair') else 0.0
    if o['loss_type'] in ('sigmoid', 'robust', 'exo_pair', 'hinge', 'ipo') and r.random() < 0.4:
        o['f_divergence_type'] = r.choice(('js_divergence', 'alpha_divergence'))
        if o['f_divergence_type'] == 'alpha_divergence':
            o['alpha_divergence_coef'] = r.choice((1.0, 0.5))
            for k in names:                                  # e^{−α·log-ratio}: keep the log-ratios of a sane size
                ins[k] = ins[k] / 30.0
    if o['loss_type'] == 'discopop':
        o['discopop_tau'] = r.choice((0.05, 1.0))
    def fn(t):
        beta, eps = o['beta'], o['label_smoothing']
        w, l, wr, lr = (t[k] for k in names)
        nll_weight = (1.0 if o['loss_type'] == 'sft' else 0.0) + o.get('rpo_alpha', 0.0)
        if nll_weight != 0 and 'policy_nll_loss' not in t:
            raise ValueError('needs the NLL of the chosen tokens')
        free = o['reference_free']
        c = w - (0 if free else wr)
        rj = l - (0 if free else lr)
        kind = o['loss_type']
        fdiv = o.get('f_divergence_type', 'reverse_kl')
        if fdiv == 'alpha_divergence':
            a = o['alpha_divergence_coef']
            cap = math.log(torch.finfo(c.dtype).max)
            z = (torch.exp(torch.clamp(rj * -a, max=cap)) - torch.exp(torch.clamp(c * -a, max=cap))) / a
        else:
            z = (w - l) - (0 if free else wr - lr)
            if fdiv == 'js_divergence':
                # TRL's F.softplus returns x itself above 20 (slope exactly 1); LossLab's softplus is exact there (e^{−20}
                # = 2e-9 of difference in the slope), and so is this reference.
                sp = lambda x: torch.logaddexp(torch.zeros_like(x), x)
                z = z - (sp(c) - sp(rj))
        if kind == 'sigmoid':
            v = -F.logsigmoid(beta * z) * (1 - eps) - F.logsigmoid(-beta * z) * eps
        elif kind == 'robust':
            v = (-F.logsigmoid(beta * z) * (1 - eps) + F.logsigmoid(-beta * z) * eps) / (1 - 2 * eps)
        elif kind == 'exo_pair':
            e = 1e-3 if eps == 0 else eps
            v = (beta * z).sigmoid() * (F.logsigmoid(beta * z) - math.log(1 - e)) + (-beta * z).sigmoid() * (F.logsigmoid(-beta * z) - math.log(e))
        elif kind == 'hinge':
            v = torch.relu(1 - beta * z)
        elif kind == 'ipo':
            v = (z - 1 / (2 * beta)) ** 2
        elif kind == 'nca_pair':
            cr, rr = (w - wr) * beta, (l - lr) * beta
            v = -F.logsigmoid(cr) - 0.5 * F.logsigmoid(-cr) - 0.5 * F.logsigmoid(-rr)
        elif kind == 'sppo_hard':
            v = (w - wr - 0.5 / beta) ** 2 + (l - lr + 0.5 / beta) ** 2
        elif kind in ('aot', 'aot_pair'):
            first, second = (w - wr, l - lr) if kind == 'aot_pair' else (w - l, wr - lr)
            delta = torch.sort(first, dim=0)[0] - torch.sort(second, dim=0)[0]
            v = -F.logsigmoid(beta * delta) * (1 - eps) - F.logsigmoid(-beta * delta) * eps
        elif kind == 'apo_zero':
            v = 1 - torch.sigmoid(beta * c) + torch.sigmoid(beta * rj)
        elif kind == 'apo_down':
            v = torch.sigmoid(beta * c) + 1 - torch.sigmoid(beta * (c - rj))
        elif kind == 'discopop':
            m = ((w - l) - (wr - lr)) * beta
            mod = torch.sigmoid(m / o['discopop_tau'])
            v = -F.logsigmoid(m) * (1 - mod) + torch.exp(-m) * mod
        else:
            v = torch.zeros_like(w)                          # sft: the NLL term alone, added below
        if 'policy_nll_loss' in t:
            v = v + nll_weight * t['policy_nll_loss']
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


def g_cpo(r, g):
    """TRL's CPOTrainer.cpo_loss as written (AlphaPO's reward (1 − exp(c).pow(−α))/α when α ≠ 0; then sigmoid, hinge,
    ipo or simpo of the margin), and get_batch_loss_metrics' losses.mean() + cpo_alpha·nll; CPOConfig turns alphapo
    into simpo with cpo_alpha 0. LossLab also takes sum and none, where every pair carries the batch's NLL term (so
    that the sum is the sum of the none values); label smoothing with hinge or ipo (which TRL ignores) is refused."""
    s = (r.randint(0, 8),)
    lo = r.choice((0.01, 1.0))
    hi = 3.0 if lo == 0.01 else 40.0                      # average token log-probabilities, or sums of them
    ins = {k: -tensor(s, lo, hi, g) for k in ('policy_chosen_logps', 'policy_rejected_logps')}
    loss_type = r.choice(('sigmoid', 'hinge', 'ipo', 'simpo', 'alphapo'))
    o = {'reduction': r.choice(('none', 'mean', 'sum', 'mean')), 'beta': r.choice((0.1, 0.5, 2.0)), 'loss_type': loss_type,
         'alpha': r.choice((0.0, 0.0, 0.25, -0.5, 1e-3)), 'cpo_alpha': r.choice((1.0, 0.3, 0.0))}
    smoothing_refused = False
    if loss_type in ('sigmoid', 'simpo', 'alphapo'):
        o['label_smoothing'] = r.choice((0.0, 0.1, 0.3))
    elif r.random() < 0.05:
        o['label_smoothing'] = 0.2
        smoothing_refused = True
    if loss_type in ('simpo', 'alphapo'):
        o['simpo_gamma'] = r.choice((0.0, 0.5, 1.5))
    if r.random() < 0.6:
        ins['policy_nll_loss'] = tensor((), 0.2, 3, g)
    weight = 0.0 if loss_type == 'alphapo' else o['cpo_alpha']
    def fn(t):
        if smoothing_refused:
            raise ValueError('refused by LossLab on purpose')
        c, rej = t['policy_chosen_logps'], t['policy_rejected_logps']
        beta, eps = o['beta'], o.get('label_smoothing', 0.0)
        if o['alpha'] != 0:
            z = (1 - torch.exp(c).pow(-o['alpha'])) / o['alpha'] - (1 - torch.exp(rej).pow(-o['alpha'])) / o['alpha']
        else:
            z = c - rej
        if loss_type in ('simpo', 'alphapo'):
            z = z - o['simpo_gamma'] / beta
        if loss_type == 'hinge':
            v = torch.relu(1 - beta * z)
        elif loss_type == 'ipo':
            v = (z - 1 / (2 * beta)) ** 2
        else:
            v = -F.logsigmoid(beta * z) * (1 - eps) - F.logsigmoid(-beta * z) * eps
        if 'policy_nll_loss' not in t:
            return reduce_rows(v, o['reduction'])
        if o['reduction'] == 'mean':
            return v.mean() + weight * t['policy_nll_loss']          # TRL's get_batch_loss_metrics
        return reduce_rows(v + weight * t['policy_nll_loss'], o['reduction'])
    return 'cpo_loss', ins, o, fn


def g_kto(r, g):
    """TRL's KTOTrainer.kto_loss: KL = (policy_KL − reference_KL).mean().detach().clamp(min=0); desirable
    1 − σ(β(r_c − KL)), undesirable 1 − σ(β(KL − r_r)), weighted and concatenated; mean over both groups.
    loss_type apo_zero_unpaired: 1 − σ(β·r_c) and σ(β·r_r), no KL."""
    nd, nu, m = r.randint(0, 5), r.randint(0, 5), r.randint(1, 6)
    if nd + nu == 0:
        nd = 1
    scale = 300.0 if r.random() < 0.1 else 30.0
    ins = {'policy_chosen_logps': -tensor((nd,), 0, 1, g) * scale, 'policy_rejected_logps': -tensor((nu,), 0, 1, g) * scale,
           'policy_KL_logps': -tensor((m,), 0, 1, g) * scale, 'reference_chosen_logps': -tensor((nd,), 0, 1, g) * scale,
           'reference_rejected_logps': -tensor((nu,), 0, 1, g) * scale, 'reference_KL_logps': -tensor((m,), 0, 1, g) * scale}
    o = {'reduction': r.choice(('none', 'mean', 'sum')), 'beta': r.choice((0.1, 0.5, 2.0)),
         'desirable_weight': r.choice((1.0, 0.5)), 'undesirable_weight': r.choice((1.0, 1.33))}
    apo = r.random() < 0.3
    if apo:
        o['loss_type'] = 'apo_zero_unpaired'
        if r.random() < 0.5:   # TRL computes no KL completions for it
            del ins['policy_KL_logps'], ins['reference_KL_logps']
    def fn(t):
        rc = t['policy_chosen_logps'] - t['reference_chosen_logps']
        rr = t['policy_rejected_logps'] - t['reference_rejected_logps']
        if apo:   # APO-zero, unpaired: 1 − σ(β·r) for desirable, σ(β·r) for undesirable
            chosen, rejected = 1 - torch.sigmoid(o['beta'] * rc), torch.sigmoid(o['beta'] * rr)
            v = torch.cat((o['desirable_weight'] * chosen, o['undesirable_weight'] * rejected), 0)
            return reduce_rows(v, o['reduction'])
        kl = (t['policy_KL_logps'] - t['reference_KL_logps']).mean().detach().clamp(min=0)
        chosen = 1 - torch.sigmoid(o['beta'] * (rc - kl))
        rejected = 1 - torch.sigmoid(o['beta'] * (kl - rr))
        v = torch.cat((o['desirable_weight'] * chosen, o['undesirable_weight'] * rejected), 0)
        return reduce_rows(v, o['reduction'])
    return 'kto_loss', ins, o, fn


def g_grpo(r, g):
    """TRL's GRPOTrainer._compute_loss: coef_1 = exp(logp − old) (old absent: logp detached; importance_sampling_level
    "sequence", GSPO: exp of each completion's masked mean log-ratio), coef_2 its clamp to
    [1 − ε, 1 + ε_high], −min(coef_1·A, coef_2·A) + β·(exp(ref − logp) − (ref − logp) − 1), reduced by loss_type with
    the completion mask (dr_grpo over B·T, T standing for max_completion_length)."""
    b, t = r.randint(1, 4), r.randint(1, 5)
    logp = tensor((b, t), -3, -0.05, g)
    ins = {'per_token_logps': logp, 'advantages': tensor((b,), -1.5, 1.5, g)}
    if r.random() < 0.7:
        ins['old_per_token_logps'] = logp + tensor((b, t), -0.6, 0.6, g)
    o = {'beta': r.choice((0.0, 0.04, 0.5)), 'epsilon': r.choice((0.1, 0.2)), 'loss_type': r.choice(('grpo', 'bnpo', 'dr_grpo', 'dapo'))}
    if o['loss_type'] == 'dr_grpo' and r.random() < 0.5:
        o['max_completion_length'] = t + r.randint(0, 4)
    if o['loss_type'] == 'dapo' and r.random() < 0.5:
        o['num_items_in_batch'] = float(r.randint(1, 30))
    if r.random() < 0.4:
        o['epsilon_high'] = 0.28
    if r.random() < 0.4:
        o['importance_sampling_level'] = r.choice(('token', 'sequence'))
    if o['beta'] != 0 or r.random() < 0.3:
        ins['ref_per_token_logps'] = logp + tensor((b, t), -0.5, 0.5, g)
    if r.random() < 0.6:
        ins['completion_mask'] = (torch.rand((b, t), generator=g) < 0.7).to(torch.float64)
    def fn(tt):
        lp = tt['per_token_logps']
        old = tt['old_per_token_logps'] if 'old_per_token_logps' in tt else lp.detach()
        high = o.get('epsilon_high', o['epsilon'])
        mask = tt['completion_mask'] if 'completion_mask' in tt else torch.ones_like(lp)
        log_ratio = lp - old
        if o.get('importance_sampling_level') == 'sequence':   # GSPO: the masked mean log-ratio of each completion
            log_ratio = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)
        coef_1 = torch.exp(log_ratio)
        coef_2 = torch.clamp(coef_1, 1 - o['epsilon'], 1 + high)
        adv = tt['advantages'].unsqueeze(1)
        loss = -torch.min(coef_1 * adv, coef_2 * adv)
        if o['beta'] != 0:
            d = tt['ref_per_token_logps'] - lp
            loss = loss + o['beta'] * (torch.exp(d) - d - 1)
        if o['loss_type'] == 'grpo':
            return ((loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
        if o['loss_type'] == 'bnpo':
            return (loss * mask).sum() / mask.sum().clamp(min=1.0)
        if o['loss_type'] == 'dapo':   # num_items_in_batch / num_processes; Liger's one-batch form: mask.sum().clamp(min=1)
            return (loss * mask).sum() / o.get('num_items_in_batch', max(float(mask.sum()), 1.0))
        return (loss * mask).sum() / (b * o.get('max_completion_length', t))
    return 'grpo_loss', ins, o, fn


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


def g_linear_ce(r, g):
    """Liger-Kernel's LigerFusedLinearCrossEntropyLoss(ce_weight, ignore_index, lse_square_scale, label_smoothing,
    reduction, softcap) as its reference computes it: F.linear(_input, lin_weight, bias), softcap·tanh(z/softcap) when
    set, torch's cross_entropy (weight, ignore_index, label_smoothing), plus lse_square_scale·lse² on the counted rows
    (summed, then divided by the counted rows for mean)."""
    n, d, v = r.randint(1, 5), r.randint(1, 4), r.randint(2, 6)
    h, w = tensor((n, d), rng=g), tensor((v, d), rng=g)
    y, o, ignore = _liger_ce_case(r, g, n, v)
    ins = {'lin_weight': w, '_input': h, 'target': y}
    if r.random() < 0.6:
        ins['bias'] = tensor((v,), rng=g)
    if r.random() < 0.3:
        ins['ce_weight'] = tensor((v,), 0.2, 2, g)
    def fn(t):
        z = F.linear(t['_input'], t['lin_weight'], t.get('bias'))
        if 'softcap' in o:
            z = o['softcap'] * torch.tanh(z / o['softcap'])
        return _liger_ce(z, t['target'], t.get('ce_weight'), o, ignore)
    return 'linear_cross_entropy', ins, o, fn


def _liger_ce_case(r, g, n, v):
    """Targets (a quarter ignored) and the options of Liger's cross-entropies: reduction, ignore_index, and at random
    label_smoothing, lse_square_scale and softcap."""
    ignore = r.choice((-100, 0))
    y = torch.randint(0, v, (n,), generator=g)
    y = torch.where(torch.rand(n, generator=g) < 0.25, torch.tensor(ignore), y)
    o = {'reduction': red(r), 'ignore_index': ignore}
    if r.random() < 0.5:
        o['label_smoothing'] = r.choice((0.0, 0.1, 0.3))
    if r.random() < 0.5:
        o['lse_square_scale'] = r.choice((1e-4, 0.1))
    if r.random() < 0.45:
        o['softcap'] = r.choice((0.5, 2.0, 30.0))
    return y, o, ignore


def _liger_ce(z, target, weight, o, ignore):
    """Liger's cross-entropy on (capped) logits z: torch's cross_entropy (weight, ignore_index, label_smoothing) plus
    lse_square_scale·lse² on the counted rows; none and sum per row, mean as torch's own (every row ignored: NaN with
    zero gradients, pytorch#70348) plus the z-loss summed over the counted rows and divided by their number."""
    kw = dict(weight=weight, ignore_index=ignore, label_smoothing=o.get('label_smoothing', 0.0))
    ce = F.cross_entropy(z, target, reduction='none', **kw)
    keep = (target != ignore).to(z.dtype)
    zl = o.get('lse_square_scale', 0.0) * torch.logsumexp(z, dim=1) ** 2 * keep
    if o['reduction'] == 'none':
        return ce + zl
    if o['reduction'] == 'sum':
        return ce.sum() + zl.sum()
    return F.cross_entropy(z, target, **kw) + (zl.sum() / keep.sum() if bool(keep.any()) else 0.0)


def _matryoshka(o, fn, names):
    """sentence-transformers' MatryoshkaLoss around a loss: Σ_k w_k·loss(embeddings[..., :k]) when o has matryoshka_dims."""
    if 'matryoshka_dims' not in o:
        return fn
    dims, weights = o['matryoshka_dims'], o.get('matryoshka_weights', [1.0] * len(o['matryoshka_dims']))
    def wrapped(t):
        return sum(w * fn({key: (v[..., :k] if key in names else v) for key, v in t.items()}) for k, w in zip(dims, weights))
    return wrapped


def _st_sim(kind, a, b):
    """sentence-transformers' cos_sim (F.normalize, eps 1e-12, then a product) or dot_score, (N, D) × (M, D) → (N, M)."""
    if kind == 'dot_score':
        return a @ b.T
    return F.normalize(a, p=2, dim=1) @ F.normalize(b, p=2, dim=1).T


def _lse_minus(scores, positive_mask, positive):
    """log Σ_j e^{s_j} − s_pos per row, written as log k + softplus(lse_{others}(s − s_pos) − log k), k the entries that
    hold the positive pair itself: the same value, but autograd's slope at the positive is then −σ(·), which keeps its
    digits where the row is confident, instead of softmax − 1 (whose rounded lse costs it ulp(max), 1e-13 at logits of
    hundreds). A row without other entries is log k, slope 0."""
    k = positive_mask.sum(dim=1).to(scores.dtype)
    others = (scores - positive.unsqueeze(1)).masked_fill(positive_mask, -math.inf)
    empty = torch.isneginf(others).all(dim=1)
    others = others.masked_fill(empty.unsqueeze(1).expand_as(others), 0.0)
    x = torch.logsumexp(others, 1) - torch.log(k)
    value = torch.log(k) + torch.logaddexp(torch.zeros_like(x), x)   # F.softplus is x itself above 20
    return torch.where(empty, torch.log(k), value)


def g_mnrl(r, g):
    """sentence-transformers' MultipleNegativesRankingLoss (v5: directions, partition_mode) written out: the documents
    are the positives then each hard-negative column; query_to_query masks q_i·q_i, doc_to_doc masks the anchor's own
    documents, both with −∞; log Z is one log-sum-exp over the selected blocks (joint) or their mean (per_direction)."""
    # D ≥ 2: at D = 1 a unit vector's cosine gradient is exactly 0, and torch's rounding leaves 1e-13 there
    n, d = r.randint(1, 5), r.randint(2, 5)
    k = r.choice((0, 0, 1, 2, 3))
    ins = {'anchors': tensor((n, d), rng=g), 'positives': tensor((n, d), rng=g)}
    if k == 1 and r.random() < 0.5:
        ins['negatives'] = tensor((n, d), rng=g)
    elif k:
        ins['negatives'] = tensor((n, k, d), rng=g)
    o = {'reduction': red(r), 'scale': r.choice((20.0, 1.0, 5.0)), 'similarity_fct': r.choice(('cos_sim', 'dot_score')),
         'query_to_query': r.random() < 0.4, 'doc_to_query': r.random() < 0.4, 'doc_to_doc': r.random() < 0.4,
         'partition_mode': r.choice(('joint', 'per_direction'))}
    if n == 1 and o['partition_mode'] == 'per_direction':
        o['query_to_query'] = o['doc_to_doc'] = False   # LossLab refuses a direction with nothing to normalize over
    def fn(t):
        q, p = t['anchors'], t['positives']
        docs = [p]
        if 'negatives' in t:
            neg = t['negatives'] if t['negatives'].dim() == 3 else t['negatives'].unsqueeze(1)
            docs += [neg[:, c] for c in range(neg.shape[1])]
        all_docs = torch.cat(docs, 0)
        sim = lambda a, b: _st_sim(o['similarity_fct'], a, b) * o['scale']
        eye = torch.eye(n, dtype=torch.bool)
        mats = [sim(q, all_docs)]
        if o['query_to_query']:
            mats.append(sim(q, q).masked_fill(eye, -math.inf))
        if o['doc_to_query']:
            mats.append(sim(q, p).T)
        if o['doc_to_doc']:
            mats.append(sim(all_docs, p).T.masked_fill(eye.repeat(1, len(docs)), -math.inf))
        pos = mats[0][torch.arange(n), torch.arange(n)]
        # The positive pair sits at column i of query_to_doc and of doc_to_query (the same similarity).
        masks = [torch.zeros_like(mat, dtype=torch.bool) for mat in mats]
        masks[0][:, :n] = eye
        if o['doc_to_query']:
            masks[1 + int(o['query_to_query'])][:, :] = eye
        if o['partition_mode'] == 'joint':
            rows = _lse_minus(torch.cat(mats, 1), torch.cat(masks, 1), pos)
        else:
            rows = sum(_lse_minus(m, mk, pos) if mk.any() else torch.logsumexp(m, 1) - pos for m, mk in zip(mats, masks)) / len(mats)
        return reduce_rows(rows, o['reduction'])
    if d >= 2 and r.random() < 0.3:
        o['matryoshka_dims'], o['matryoshka_weights'] = [d, d // 2], [1.0, 0.5]
    return 'multiple_negatives_ranking_loss', ins, o, _matryoshka(o, fn, ('anchors', 'positives', 'negatives'))


def _angle_sim(x, y):
    """sentence-transformers' pairwise_angle_sim: an odd D padded with a zero, the halves as real and imaginary parts."""
    if x.shape[1] % 2:
        x, y = F.pad(x, (0, 1)), F.pad(y, (0, 1))
    a, b = torch.chunk(x, 2, dim=1)
    c, d = torch.chunk(y, 2, dim=1)
    z = torch.sum(c ** 2 + d ** 2, dim=1, keepdim=True)
    re, im = (a * c + b * d) / z, (b * c - a * d) / z
    dz = torch.sum(a ** 2 + b ** 2, dim=1, keepdim=True) ** 0.5
    dw = torch.sum(c ** 2 + d ** 2, dim=1, keepdim=True) ** 0.5
    re, im = re / (dz / dw), im / (dz / dw)
    return torch.abs(torch.sum(torch.cat((re, im), dim=1), dim=1))


def g_cosent(name):
    """sentence-transformers' CoSENTLoss (pairwise_cos_sim) and AnglELoss (pairwise_angle_sim) as their code computes
    them: s_i − s_j, the unranked pairs pushed down by 10¹², a 0 prepended, one log-sum-exp. Labels with ties half the
    time (tied pairs are not ranked)."""
    def gen(r, g):
        n, d = r.randint(1, 6), r.randint(2, 6)   # at D = 1 both similarities are ±1 or 1 with gradient exactly 0 (torch: 1e-13)
        u, v = tensor((n, d), rng=g), tensor((n, d), rng=g)
        y = torch.randint(0, 3, (n,), generator=g).to(torch.float64) if r.random() < 0.5 else tensor((n,), 0, 5, g)
        o = {'scale': r.choice((20.0, 1.0, 5.0))}
        def fn(t):
            e1, e2 = t['embeddings1'], t['embeddings2']
            s = (_angle_sim(e1, e2) if name == 'angle_loss' else
                 (F.normalize(e1, p=2, dim=1) * F.normalize(e2, p=2, dim=1)).sum(-1)) * o['scale']
            diff = s[:, None] - s[None, :]
            ranked = (t['labels'][:, None] < t['labels'][None, :]).to(s.dtype)
            diff = diff - (1 - ranked) * 1e12
            return torch.logsumexp(torch.cat((torch.zeros(1, dtype=s.dtype), diff.view(-1))), 0)
        if r.random() < 0.3:
            o['matryoshka_dims'] = [d, max(1, d // 2)]
        return name, {'embeddings1': u, 'embeddings2': v, 'labels': y}, o, _matryoshka(o, fn, ('embeddings1', 'embeddings2'))
    return gen


def g_cosine_similarity_st(r, g):
    """sentence-transformers' CosineSimilarityLoss: MSELoss(cos(u, v), labels) (reduction as MSELoss's)."""
    n, d = r.randint(1, 6), r.randint(2, 6)
    ins = {'embeddings1': tensor((n, d), rng=g), 'embeddings2': tensor((n, d), rng=g), 'labels': tensor((n,), -1, 1, g)}
    o = {'reduction': red(r)}
    def fn(t):
        c = (F.normalize(t['embeddings1'], p=2, dim=1) * F.normalize(t['embeddings2'], p=2, dim=1)).sum(-1)
        return F.mse_loss(c, t['labels'], reduction=o['reduction'])
    return 'cosine_similarity_loss', ins, o, fn


def g_margin_mse(r, g):
    """sentence-transformers' MarginMSELoss: MSELoss(sim(q, p) − sim(q, n_k), labels) over every second passage, with
    pairwise_dot_score (the default) or pairwise_cos_sim."""
    n, d = r.randint(1, 5), r.randint(2, 5)
    k = r.choice((1, 1, 2, 3))
    single = k == 1 and r.random() < 0.5
    ins = {'query': tensor((n, d), rng=g), 'passage': tensor((n, d), rng=g),
           'negatives': tensor((n, d) if single else (n, k, d), rng=g), 'labels': tensor((n,) if single else (n, k), -3, 3, g)}
    o = {'reduction': red(r), 'similarity_fct': r.choice(('pairwise_dot_score', 'pairwise_cos_sim'))}
    def fn(t):
        q, p, neg = t['query'], t['passage'], t['negatives']
        if o['similarity_fct'] == 'pairwise_cos_sim':
            q, p, neg = F.normalize(q, p=2, dim=-1), F.normalize(p, p=2, dim=-1), F.normalize(neg, p=2, dim=-1)
        pos = (q * p).sum(-1)
        negs = (q * neg).sum(-1) if single else (q.unsqueeze(1) * neg).sum(-1)
        margin = pos - negs if single else pos.unsqueeze(1) - negs
        return F.mse_loss(margin, t['labels'], reduction=o['reduction'])
    return 'margin_mse_loss', ins, o, fn


def g_gor(r, g):
    """sentence-transformers' GlobalOrthogonalRegularizationLoss (mode gemma/original) on a list of columns: gemma takes
    each column's similarity matrix with its diagonal filled with 0, M1 = Σ/(N(N − 1)) squared and M2 = Σs²/(N(N − 1));
    original each column pair's diagonal similarities, mean squared and mean of squares; relu(M2 − τ) where thresholded;
    the parts weighted and summed or averaged over terms, then added (its trainer sums the returned dictionary)."""
    mode = r.choice(('gemma', 'original'))
    c = r.randint(2, 3) if mode == 'original' else r.randint(1, 3)
    n, d = r.randint(2, 5), r.randint(2, 5)
    single = c == 1 and r.random() < 0.5
    ins = {'embeddings': tensor((n, d) if single else (c, n, d), rng=g)}
    o = {'mode': mode, 'similarity_fct': r.choice(('cos_sim', 'dot_score')), 'aggregation': r.choice(('sum', 'mean')),
         'second_moment_threshold': r.choice(('auto', 'dimension', 'none')),
         'mean_weight': r.choice((None, 0.5, 1.0)), 'second_moment_weight': r.choice((None, 0.0, 2.0))}
    if o['mean_weight'] == 0 or (o['mean_weight'] is None and mode == 'gemma'):
        o['second_moment_weight'] = r.choice((None, 2.0))   # both zero is refused
    if c >= 2 and r.random() < 0.3:
        o['embedding_indices'] = [-1, 0] if r.random() < 0.5 else [1, 0]
    if r.random() < 0.2:
        o['matryoshka_dims'] = [d, 1] if d > 1 else [d]
    mean_w = o['mean_weight'] if o['mean_weight'] is not None else (0.0 if mode == 'gemma' else 1.0)
    second_w = o['second_moment_weight'] if o['second_moment_weight'] is not None else 1.0
    threshold = o['second_moment_threshold']
    if threshold == 'auto':
        threshold = 'none' if mode == 'gemma' else 'dimension'
    def fn(t):
        e = t['embeddings']
        cols = [e] if e.dim() == 2 else list(e.unbind(0))
        if 'embedding_indices' in o:
            cols = [cols[i] for i in o['embedding_indices']]
        sim = lambda a, b: _st_sim(o['similarity_fct'], a, b)
        def second(m2, width):
            return m2 if threshold == 'none' else torch.relu(m2 - 1.0 / width)
        terms = []
        if mode == 'gemma':
            for x in cols:
                m = x.shape[0]
                s = sim(x, x).masked_fill(torch.eye(m, dtype=torch.bool), 0.0)
                terms.append(((s.sum() / (m * (m - 1))) ** 2, second((s ** 2).sum() / (m * (m - 1)), x.shape[1])))
        else:
            for a in range(len(cols)):
                for b in range(a + 1, len(cols)):
                    s = sim(cols[a], cols[b]).diagonal()
                    terms.append((s.mean() ** 2, second((s ** 2).mean(), cols[a].shape[1])))
        agg = (lambda v: torch.stack(v).sum()) if o['aggregation'] == 'sum' else (lambda v: torch.stack(v).mean())
        total = 0
        if mean_w:
            total = total + mean_w * agg([m for m, _ in terms])
        if second_w:
            total = total + second_w * agg([v for _, v in terms])
        return total
    return 'global_orthogonal_regularization_loss', ins, o, _matryoshka(o, fn, ('embeddings',))


def g_flops(r, g):
    """sentence-transformers' sparse-encoder FlopsLoss: with a threshold, rows with at most that many non-zero entries
    are multiplied by 0; then the sum over the vocabulary of the squared mean over rows. Inputs ≥ 0 with some exact
    zeros (sparse activations)."""
    n, v = r.randint(1, 6), r.randint(1, 8)
    w = torch.relu(tensor((n, v), -1, 2, g))
    o = {'threshold': r.choice((None, 0.0, 1.0, 2.5, 3.0))}
    def fn(t):
        e = t['embeddings']
        if o['threshold'] is not None:
            mask = ((e != 0).sum(dim=1) > o['threshold']).to(e.dtype)
            e = e * mask.unsqueeze(1)
        return torch.sum(torch.mean(e, dim=0) ** 2)
    return 'flops_loss', {'embeddings': w}, o, fn


def _document_lists(r, g):
    """N queries' scores and graded labels (N, L), some queries shorter (mask 0 at their end, sometimes in the middle)."""
    n, l = r.randint(1, 4), r.randint(1, 6)
    s = tensor((n, l), -3, 3, g)
    y = torch.randint(0, 4, (n, l), generator=g).to(torch.float64)
    mask = torch.ones(n, l, dtype=torch.float64)
    for q in range(n):
        if l > 1 and r.random() < 0.4:
            short = r.randint(1, l - 1)
            if r.random() < 0.7:
                mask[q, short:] = 0
            else:
                mask[q, r.randrange(l)] = 0
    ins = {'logits': s, 'labels': y}
    if bool((mask == 0).any()) or r.random() < 0.5:
        ins['mask'] = mask
    return ins, mask.bool()


def g_listnet(r, g):
    """sentence-transformers' cross-encoder ListNetLoss on its padded matrix: logits −1e16 and labels −inf at padding,
    CrossEntropyLoss(logits, softmax(labels)) (probability targets; mean over queries by default)."""
    ins, valid = _document_lists(r, g)
    o = {'reduction': red(r)}
    def fn(t):
        logits = torch.where(valid, t['logits'], torch.full_like(t['logits'], -1e16))
        labels = torch.where(valid, t['labels'], torch.full_like(t['labels'], float('-inf')))
        return F.cross_entropy(logits, labels.softmax(dim=1), reduction=o['reduction'])
    return 'list_net_loss', ins, o, fn


def g_listmle(r, g):
    """sentence-transformers' cross-encoder ListMLELoss / PListMLELoss per query over its documents only (LossLab leaves
    padding out; sentence-transformers' padded logits 1e-16 add e^{1e-16} = 1 to the sums): the documents in input order
    or by label descending (a stable sort), log(flip-cumsum(exp) + 1e-10), p-ListMLE's weights 2^(n − k) − 1 normalized
    with + 1e-10, −Σ w·log p per query, mean over queries."""
    ins, valid = _document_lists(r, g)
    o = {'reduction': red(r), 'lambda_weight': r.choice(('none', 'position')), 'respect_input_order': r.random() < 0.5}
    def fn(t):
        losses = []
        for q in range(t['logits'].shape[0]):
            keep = valid[q].nonzero().flatten()
            s, y = t['logits'][q, keep], t['labels'][q, keep]
            if not o['respect_input_order']:
                s = s[torch.sort(y, descending=True, stable=True).indices]
            n = s.shape[0]
            log_probs = s - torch.log(torch.flip(torch.cumsum(torch.flip(s.exp(), [0]), 0), [0]) + 1e-10)
            if o['lambda_weight'] == 'position':
                w = torch.pow(2.0, n - torch.arange(n, dtype=s.dtype)) - 1.0
                log_probs = log_probs * (w / (w.sum() + 1e-10))
            losses.append(-log_probs.sum())
        per = torch.stack(losses)
        return per if o['reduction'] == 'none' else per.sum() if o['reduction'] == 'sum' else per.mean()
    return 'list_mle_loss', ins, o, fn


def g_lambda_loss(r, g):
    """sentence-transformers' cross-encoder LambdaLoss (and RankNetLoss, its no-weighting form) on its padded matrix:
    logits −1e16 and labels −inf at padding, sort by logits, gather the labels, pairs with finite label differences
    (> 0 but for NDCGLoss1) among the first k, gains (2^t − 1)/maxDCG@k with log2(1 + rank) discounts, the scheme's
    weights, log of clamp(clamp(sigmoid(σ·diff), eps)^w, eps), −mean over the selected pairs (0 when there is none,
    LossLab's documented value where torch's mean of nothing is NaN). The labels are data: no gradient is compared."""
    ins, valid = _document_lists(r, g)
    ranknet = r.random() < 0.25
    o = {'sigma': r.choice((1.0, 0.5, 3.0)), 'reduction_log': r.choice(('binary', 'natural')), 'k': r.choice((None, None, 1, 2, 4))}
    if not ranknet:
        o['weighting_scheme'] = r.choice(('ndcg_loss2pp', 'ndcg_loss2', 'ndcg_loss1', 'lambda_rank', 'none'))
        o['mu'] = r.choice((10.0, 2.0))
    scheme = 'none' if ranknet else o['weighting_scheme']
    eps = 1e-10
    def weights(gain, discount):
        if scheme == 'none':
            return torch.tensor(1.0, dtype=gain.dtype)
        if scheme == 'ndcg_loss1':
            return (gain / discount)[:, :, None]
        def ndcg2():
            pos = torch.arange(1, gain.shape[1] + 1)
            d = torch.abs(pos[:, None] - pos[None, :])
            deltas = torch.abs(torch.pow(torch.abs(discount[0, d - 1]), -1.0) - torch.pow(torch.abs(discount[0, d]), -1.0))
            deltas.diagonal().zero_()
            return deltas[None, :, :] * torch.abs(gain[:, :, None] - gain[:, None, :])
        def lambda_rank():
            return torch.abs(torch.pow(discount[:, :, None], -1.0) - torch.pow(discount[:, None, :], -1.0)) * \
                torch.abs(gain[:, :, None] - gain[:, None, :])
        if scheme == 'ndcg_loss2':
            return ndcg2()
        if scheme == 'lambda_rank':
            return lambda_rank()
        return o['mu'] * ndcg2() + lambda_rank()
    def fn(t):
        logits = torch.where(valid, t['logits'], torch.full_like(t['logits'], -1e16))
        labels = torch.where(valid, t['labels'], torch.full_like(t['labels'], float('-inf')))
        n, m = logits.shape
        logits_sorted, idx = logits.sort(descending=True, dim=-1, stable=True)
        labels_sorted, _ = labels.sort(descending=True, dim=-1)
        true_sorted = torch.gather(labels, 1, idx)
        diffs = true_sorted[:, :, None] - true_sorted[:, None, :]
        mask = torch.isfinite(diffs)
        if scheme != 'ndcg_loss1':
            mask = mask & (diffs > 0)
        k = o['k'] or m
        at_k = torch.zeros((m, m), dtype=torch.bool)
        at_k[:k, :k] = True
        true_sorted = true_sorted.clamp(min=0.0)
        labels_sorted = labels_sorted.clamp(min=0.0)
        discount = torch.log2(1.0 + torch.arange(1, m + 1, dtype=logits.dtype))[None, :]
        max_dcg = torch.sum(((torch.pow(2, labels_sorted) - 1) / discount)[:, :k], dim=-1).clamp(min=eps)
        gain = (torch.pow(2, true_sorted) - 1) / max_dcg[:, None]
        w = weights(gain, discount)
        score_diffs = (logits_sorted[:, :, None] - logits_sorted[:, None, :]).clamp(min=-1e8, max=1e8)
        score_diffs = torch.where(torch.isnan(score_diffs), torch.zeros_like(score_diffs), score_diffs)
        probas = (torch.sigmoid(o['sigma'] * score_diffs).clamp(min=eps) ** w).clamp(min=eps)
        losses = torch.log(probas) if o['reduction_log'] == 'natural' else torch.log2(probas)
        selected = losses[mask & at_k]
        if selected.numel() == 0:
            return (t['logits'] * 0).sum()         # documented: LossLab's 0 where the mean of nothing is NaN
        return -torch.mean(selected)
    return ('rank_net_loss' if ranknet else 'lambda_loss'), ins, o, fn


def g_gist(r, g):
    """sentence-transformers' GISTEmbedLoss on one device, the guide's embeddings given: cosine similarity matrices
    (nn.CosineSimilarity), guide similarities above the anchor's guide positive similarity (less the margin, or times
    1 − margin) set to −∞ except the positive pair, the blocks concatenated over the temperature, cross-entropy with
    labels arange. Guide width G differs from D half the time."""
    n, d = r.randint(1, 5), r.randint(2, 5)
    gw = d if r.random() < 0.5 else r.randint(2, 6)
    ins = {'anchors': tensor((n, d), rng=g), 'positives': tensor((n, d), rng=g),
           'guide_anchors': tensor((n, gw), rng=g), 'guide_positives': tensor((n, gw), rng=g)}
    if r.random() < 0.5:
        ins['negatives'], ins['guide_negatives'] = tensor((n, d), rng=g), tensor((n, gw), rng=g)
    # τ = 0.01 multiplies torch's rounding in 1 − p by 100 (1e-12 gradients off by 5e-13); LossLab sums the positive's
    # weight without that cancellation, and its tests cover the default
    o = {'reduction': red(r), 'temperature': r.choice((0.05, 0.2, 1.0)), 'margin_strategy': r.choice(('absolute', 'relative')),
         'margin': r.choice((0.0, 0.1, -0.2)), 'contrast_anchors': r.random() < 0.6, 'contrast_positives': r.random() < 0.6}
    def fn(t):
        sim = lambda x, y: F.cosine_similarity(x.unsqueeze(1), y.unsqueeze(0), dim=-1)
        a, p, ga, gp = t['anchors'], t['positives'], t['guide_anchors'], t['guide_positives']
        guided = sim(ga, gp).diagonal().view(-1, 1)
        threshold = guided - o['margin'] if o['margin_strategy'] == 'absolute' else guided * (1 - o['margin'])
        def masked(gm, m, protect=False):
            mask = gm > threshold
            if protect:
                mask = mask & ~torch.eye(n, dtype=torch.bool)
            return m.masked_fill(mask, -math.inf)
        blocks = [masked(sim(ga, gp), sim(a, p), True)]
        if o['contrast_anchors']:
            blocks.append(masked(sim(ga, ga), sim(a, a)))
        if o['contrast_positives']:
            blocks.append(masked(sim(gp, gp), sim(p, p)))
        if 'negatives' in t:
            blocks.append(masked(sim(ga, t['guide_negatives']), sim(a, t['negatives'])))
        scores = torch.cat(blocks, 1) / o['temperature']
        return F.cross_entropy(scores, torch.arange(n), reduction=o['reduction'])
    return 'gist_embed_loss', ins, o, fn


def _siamese(kind, x, y):
    """sentence-transformers' SiameseDistanceMetric: 1 − cosine_similarity, or pairwise_distance with p = 2 or 1."""
    if kind == 'euclidean':
        return F.pairwise_distance(x, y, p=2)
    if kind == 'manhattan':
        return F.pairwise_distance(x, y, p=1)
    return 1 - F.cosine_similarity(x, y)


def g_pair_contrastive(r, g):
    """sentence-transformers' ContrastiveLoss: ½(y·d² + (1 − y)·relu(m − d)²), mean (size_average) or sum; 0/1 labels
    as classes (no gradient)."""
    n, d = r.randint(1, 6), r.randint(2, 5)
    ins = {'embeddings1': tensor((n, d), rng=g), 'embeddings2': tensor((n, d), rng=g),
           'labels': torch.randint(0, 2, (n,), generator=g).to(torch.float64)}
    o = {'reduction': red(r), 'distance_metric': r.choice(('cosine_distance', 'euclidean', 'manhattan')),
         'margin': r.choice((0.5, 1.0, 3.0))}
    def fn(t):
        dist = _siamese(o['distance_metric'], t['embeddings1'], t['embeddings2'])
        y = t['labels'].detach()
        return reduce_rows(0.5 * (y * dist ** 2 + (1 - y) * F.relu(o['margin'] - dist) ** 2), o['reduction'])
    return 'pair_contrastive_loss', ins, o, fn


def g_online_contrastive(r, g):
    """sentence-transformers' OnlineContrastiveLoss: the hard pairs by its thresholds (the other kind's extreme, or the
    own kind's mean when at most one pair of the other kind exists), Σ d² + Σ relu(m − d)²."""
    n, d = r.randint(1, 7), r.randint(2, 5)
    ins = {'embeddings1': tensor((n, d), rng=g), 'embeddings2': tensor((n, d), rng=g),
           'labels': torch.randint(0, 2, (n,), generator=g).to(torch.float64)}
    o = {'distance_metric': r.choice(('cosine_distance', 'euclidean', 'manhattan')), 'margin': r.choice((0.5, 1.0, 3.0))}
    def fn(t):
        dist = _siamese(o['distance_metric'], t['embeddings1'], t['embeddings2'])
        y = t['labels'].detach()
        negs, poss = dist[y == 0], dist[y == 1]
        negative_pairs = negs[negs < (poss.max() if len(poss) > 1 else negs.mean())]
        positive_pairs = poss[poss > (negs.min() if len(negs) > 1 else poss.mean())]
        return positive_pairs.pow(2).sum() + F.relu(o['margin'] - negative_pairs).pow(2).sum()
    return 'online_contrastive_loss', ins, o, fn


def _st_batch_distances(kind, e):
    """sentence-transformers' BatchHardTripletLossDistanceFunction: eucledian_distance (squared or not, from the dot
    products, zeros masked before the square root) or cosine_distance."""
    if kind == 'cosine_distance':
        u = F.normalize(e, p=2, dim=1)
        return 1 - u @ u.T
    dot = e @ e.T
    sq = torch.diag(dot)
    dist = (sq.unsqueeze(0) - 2.0 * dot + sq.unsqueeze(1)).clamp(min=0)
    if kind == 'squared_euclidean':
        return dist
    mask = dist.eq(0).to(dist.dtype)
    return (1.0 - mask) * torch.sqrt(dist + mask * 1e-16)


def _batch_labels(r, g, n):
    """Labels with repeats (every class twice or more half the time), or any labels."""
    if r.random() < 0.5:
        return torch.tensor([i % max(1, n // 2) for i in range(n)])
    return torch.randint(0, 3, (n,), generator=g)


def g_st_batch_triplet(name):
    """sentence-transformers' BatchAll, BatchHard (and soft margin) and BatchSemiHard triplet losses as their code
    computes them, on the distances above."""
    def gen(r, g):
        n, d = r.randint(2, 7), r.randint(2, 4)
        ins = {'embeddings': tensor((n, d), rng=g), 'labels': _batch_labels(r, g, n)}
        o = {'margin': r.choice((5.0, 0.5, 1.0)), 'distance_metric': r.choice(('euclidean', 'squared_euclidean', 'cosine_distance'))}
        if name == 'batch_hard_triplet_loss' and r.random() < 0.4:
            o['soft_margin'] = True
        def fn(t):
            e, y = t['embeddings'], t['labels']
            dist = _st_batch_distances(o['distance_metric'], e)
            same = y.unsqueeze(0) == y.unsqueeze(1)
            eye = torch.eye(n, dtype=torch.bool)
            if name == 'batch_all_triplet_loss':
                valid = (same & ~eye).unsqueeze(2) & (~same).unsqueeze(1)
                tl = (valid.to(e.dtype) * (dist.unsqueeze(2) - dist.unsqueeze(1) + o['margin'])).clamp(min=0)
                return tl.sum() / ((tl > 1e-16).sum() + 1e-16)
            if name == 'batch_hard_triplet_loss':
                hp = ((same & ~eye).to(e.dtype) * dist).max(1, keepdim=True)[0]
                row_max = dist.max(1, keepdim=True)[0]
                hn = (dist + row_max * (1.0 - (~same).to(e.dtype))).min(1, keepdim=True)[0]
                if o.get('soft_margin'):
                    return torch.log1p(torch.exp(hp - hn)).mean()
                return (hp - hn + o['margin']).clamp(min=0).mean()
            # semi-hard, TensorFlow Addons' formulation
            adjacency_not = ~same
            tile = dist.repeat([n, 1])
            mask = adjacency_not.repeat([n, 1]) & (tile > dist.t().reshape(-1, 1))
            mask_final = (mask.sum(1, keepdim=True) > 0).reshape(n, n).t()
            mx = tile.max(1, keepdim=True)[0]
            outside = (((tile - mx) * mask).min(1, keepdim=True)[0] + mx).reshape(n, n).t()
            mn = dist.min(1, keepdim=True)[0]
            inside = (((dist - mn) * adjacency_not).max(1, keepdim=True)[0] + mn).repeat([1, n])
            semi = torch.where(mask_final, outside, inside)
            pos = same.to(e.dtype) - torch.eye(n, dtype=e.dtype)
            if pos.sum() == 0:   # no positive pair: sentence-transformers divides 0 by 0; LossLab returns 0 (documented)
                return 0 * dist.sum()
            return torch.max((dist - semi + o['margin']) * pos, torch.tensor([0.0], dtype=e.dtype)).sum() / pos.sum()
        return name, ins, o, fn
    return gen


def g_st_softmax(r, g):
    """sentence-transformers' SoftmaxLoss: nn.Linear over [u, v, |u − v|, u ∗ v] (the chosen parts), cross-entropy."""
    n, d, c = r.randint(1, 5), r.randint(1, 4), r.randint(2, 4)
    o = {'reduction': red(r), 'concatenation_sent_rep': r.random() < 0.7, 'concatenation_sent_difference': r.random() < 0.7,
         'concatenation_sent_multiplication': r.random() < 0.4}
    if not (o['concatenation_sent_rep'] or o['concatenation_sent_difference'] or o['concatenation_sent_multiplication']):
        o['concatenation_sent_rep'] = True
    parts = 2 * o['concatenation_sent_rep'] + o['concatenation_sent_difference'] + o['concatenation_sent_multiplication']
    ins = {'embeddings1': tensor((n, d), rng=g), 'embeddings2': tensor((n, d), rng=g),
           'labels': torch.randint(0, c, (n,), generator=g), 'classifier.weight': tensor((c, parts * d), -1, 1, g)}
    if r.random() < 0.6:
        ins['classifier.bias'] = tensor((c,), -1, 1, g)
    def fn(t):
        a, b = t['embeddings1'], t['embeddings2']
        feats = []
        if o['concatenation_sent_rep']:
            feats += [a, b]
        if o['concatenation_sent_difference']:
            feats.append(torch.abs(a - b))
        if o['concatenation_sent_multiplication']:
            feats.append(a * b)
        z = F.linear(torch.cat(feats, 1), t['classifier.weight'], t.get('classifier.bias'))
        return F.cross_entropy(z, t['labels'], reduction=o['reduction'])
    return 'softmax_loss', ins, o, fn


def _image_text(r, g):
    """A batch of N matched image–text pairs of unit rows (open_clip's models normalize the features before the loss),
    or raw rows now and then: the losses take the features as given."""
    n, d = r.randint(1, 6), r.randint(1, 6)
    i, t = tensor((n, d), rng=g), tensor((n, d), rng=g)
    if r.random() < 0.7:
        i, t = F.normalize(i, dim=1), F.normalize(t, dim=1)
    return i, t


def _learned_scalar(r, g, lo, hi):
    return tensor((), lo, hi, g) if r.random() < 0.5 else tensor((1,), lo, hi, g)


def g_clip(r, g):
    """open_clip's ClipLoss on one device: logits_per_image = logit_scale·I·Tᵀ, logits_per_text = logit_scale·T·Iᵀ,
    (cross_entropy(logits_per_image, arange) + cross_entropy(logits_per_text, arange))/2; reduction none and sum are
    LossLab's (per pair: the two rows' losses halved)."""
    i, t = _image_text(r, g)
    o = {'reduction': red(r)}
    ins = {'image_features': i, 'text_features': t, 'logit_scale': _learned_scalar(r, g, 0.5, 30)}
    def fn(x):
        s = x['logit_scale'].reshape(())
        per_image = s * x['image_features'] @ x['text_features'].T
        per_text = s * x['text_features'] @ x['image_features'].T
        # cross_entropy(logits, arange) row by row, in _lse_minus's form (the same value; see there for why).
        eye = torch.eye(per_image.shape[0], dtype=torch.bool)
        rows = (_lse_minus(per_image, eye, per_image.diagonal()) + _lse_minus(per_text, eye, per_text.diagonal())) / 2
        return reduce_rows(rows, o['reduction'])
    return 'clip_loss', ins, o, fn


def g_siglip(r, g):
    """open_clip's SigLipLoss on one device: logits = logit_scale·I·Tᵀ (+ logit_bias), labels 2·eye − 1,
    −logsigmoid(labels·logits) summed over the texts, then the mean over the images (open_clip's Σ/N); none and sum
    are LossLab's."""
    i, t = _image_text(r, g)
    o = {'reduction': red(r)}
    ins = {'image_features': i, 'text_features': t, 'logit_scale': _learned_scalar(r, g, 0.5, 20)}
    if r.random() < 0.7:
        ins['logit_bias'] = _learned_scalar(r, g, -12, 2)
    def fn(x):
        logits = x['logit_scale'].reshape(()) * x['image_features'] @ x['text_features'].T
        if 'logit_bias' in x:
            logits = logits + x['logit_bias'].reshape(())
        n = logits.shape[0]
        labels = 2 * torch.eye(n, dtype=logits.dtype) - 1
        return reduce_rows(-F.logsigmoid(labels * logits).sum(dim=1), o['reduction'])
    return 'siglip_loss', ins, o, fn


def g_ldam(r, g):
    """The LDAM paper's reference LDAMLoss: m_list = 1/n^(1/4) scaled so its largest is max_m; the target's logit
    lowered by its class's margin (torch.where over a one-hot index), then F.cross_entropy(s·output, target, weight).
    Without cls_num_list every margin is max_m (LossLab's default); reduction none and sum are LossLab's."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'max_m': r.choice((0.5, 0.3, 0.0)), 's': r.choice((30.0, 1.0, 5.0))}
    counts = None
    if r.random() < 0.8:
        counts = [float(r.randint(1, 1000)) for _ in range(c)]
        o['cls_num_list'] = counts
    weight = None
    if r.random() < 0.3:
        weight = [0.5 + r.random() for _ in range(c)]
        o['weight'] = weight
    def fn(t):
        if counts is None:
            m = torch.full((c,), o['max_m'], dtype=t['input'].dtype)
        else:
            m = 1.0 / torch.tensor(counts, dtype=torch.float64).sqrt().sqrt()
            m = m * (o['max_m'] / m.max())
        index = F.one_hot(t['target'], c).bool()
        output = torch.where(index, t['input'] - m[t['target']].unsqueeze(1), t['input'])
        w = None if weight is None else torch.tensor(weight, dtype=t['input'].dtype)
        return F.cross_entropy(o['s'] * output, t['target'], weight=w, reduction=o['reduction'])
    return 'ldam_loss', {'input': x, 'target': y}, o, fn


def g_general_robust(r, g):
    """robust_loss_pytorch's general.lossfun(x, alpha, scale) on x = input − target, its exact (not approximate) form:
    the α ∈ {−inf, 0, 2, +inf} limits, log1p_safe and expm1_safe's clamps (3e37, 87.5), otherwise (b/a)·((u/b + 1)^{α/2} − 1)
    with float32 machine-epsilon guards on b = |α − 2| and a = α (LossLab divides by α itself, which differs only for
    0 < |α| < ε, never drawn here). Reduction is LossLab's (the reference is elementwise)."""
    shape = shape_nd(r)
    # ±∞ go as the protocol's strings "Infinity" and "-Infinity" (JSON has no such number).
    o = {'reduction': red(r), 'alpha': r.choice((1.0, 2.0, 0.0, -2.0, 0.5, 3.0, -10.0, 'Infinity', '-Infinity')),
         'scale': r.choice((1.0, 0.5, 2.0, 0.1))}
    if o['alpha'] == 'Infinity' and o['scale'] < 0.5:
        o['scale'] = 0.5   # e^{u/2} up to e^{87.5} = 10³⁸ per element would leave float32's range (the clamp: a C# test)
    def fn(t):
        x = t['input'] - t['target']
        alpha = torch.tensor(float(o['alpha']), dtype=x.dtype)
        u = (x / o['scale']) ** 2
        eps = torch.tensor(1.1920928955078125e-07, dtype=x.dtype)
        if float(o['alpha']) == 2:
            loss = 0.5 * u
        elif float(o['alpha']) == 0:
            loss = torch.log1p(torch.minimum(0.5 * u, torch.tensor(3e37, dtype=x.dtype)))
        elif float(o['alpha']) == float('-inf'):
            loss = -torch.expm1(-0.5 * u)
        elif float(o['alpha']) == float('inf'):
            loss = torch.expm1(torch.minimum(0.5 * u, torch.tensor(87.5, dtype=x.dtype)))
        else:
            b = torch.maximum(eps, torch.abs(alpha - 2))
            a = (1.0 if float(o['alpha']) >= 0 else -1.0) * torch.maximum(eps, torch.abs(alpha))
            loss = (b / a) * (torch.pow(u / b + 1, 0.5 * alpha) - 1)
        return reduce_rows(loss, o['reduction'])
    return 'general_robust_loss', {'input': tensor(shape, rng=g), 'target': tensor(shape, rng=g)}, o, fn


def _barron_log_partition(alpha):
    """log Z(α) = log ∫ e^{−ρ(x, α)} dx by mpmath's quadrature (25 digits), and its slope by a central difference of
    step 1e-8 (error about 1e-16): robust_loss_pytorch interpolates a spline of the same integral."""
    from mpmath import mp, mpf, quad, exp, log, inf
    mp.dps = 25
    def log_z(a):
        b = abs(a - 2)
        rho = (lambda x: log(x * x / 2 + 1)) if a == 0 else (lambda x: (b / a) * ((x * x / b + 1) ** (a / 2) - 1))
        return log(2 * quad(lambda x: exp(-rho(x)), [0, 1, 10, 100, 1e3, 1e6, 1e12, inf]))
    a, h = mpf(alpha), mpf('1e-8')
    return float(log_z(a)), float((log_z(a + h) - log_z(a - h)) / (2 * h))


class _BarronLogZ(torch.autograd.Function):
    @staticmethod
    def forward(ctx, alpha):
        values = [_barron_log_partition(float(a)) for a in alpha.reshape(-1)]
        ctx.save_for_backward(torch.tensor([v[1] for v in values], dtype=alpha.dtype).reshape(alpha.shape))
        return torch.tensor([v[0] for v in values], dtype=alpha.dtype).reshape(alpha.shape)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope


def g_adaptive_robust(r, g):
    """robust_loss_pytorch's distribution.nllfun(x, alpha, scale) = general.lossfun(x, alpha, scale) + log(scale) +
    log Z(α), α and scale per dimension (the last axis) or shared; α kept off the ε guard band around 2 and above 0.01
    (the quadrature's difference needs α − h > 0); a negative α is refused by both. Reduction is LossLab's."""
    n, d = r.randint(1, 5), r.randint(1, 4)      # (0, d) has no JSON spelling
    shared = r.random() < 0.3
    ps = () if shared else (d,)
    alpha = tensor(ps, 0.01, 3.5, g)
    alpha = torch.where((alpha - 2).abs() < 1e-3, alpha + 0.01, alpha)
    refused = r.random() < 0.05
    if refused:
        alpha = alpha - 4.0
    ins = {'x': tensor((n, d), -4, 4, g), 'alpha': alpha, 'scale': tensor(ps, 0.3, 3, g)}
    o = {'reduction': r.choice(('none', 'mean', 'sum'))}
    def fn(t):
        if refused:
            raise ValueError('alpha < 0: no partition function')
        x, a, c = t['x'], t['alpha'], t['scale']
        eps = torch.tensor(1.1920928955078125e-07, dtype=x.dtype)
        u = (x / c) ** 2
        b = torch.maximum(eps, torch.abs(a - 2))
        loss = (b / a) * (torch.pow(u / b + 1, 0.5 * a) - 1)
        return reduce_rows(loss + torch.log(c) + _BarronLogZ.apply(a), o['reduction'])
    return 'adaptive_robust_loss', ins, o, fn


def _log_t(u, t):
    return torch.log(u) if t == 1.0 else (u.pow(1.0 - t) - 1.0) / (1.0 - t)


def _exp_t(u, t):
    return torch.exp(u) if t == 1.0 else torch.relu(1.0 + (1.0 - t) * u).pow(1.0 / (1.0 - t))


def _tempered_softmax(a, t, iters):
    """google/bi-tempered-loss's tempered softmax: the fixed-point normalization for t > 1, the binary search for t < 1,
    here run for `iters` steps (the reference's default is 5; run long, both reach the exact normalization)."""
    if t == 1.0:
        return torch.softmax(a, -1)
    mu = a.max(-1, keepdim=True).values
    z0 = a - mu
    if t > 1.0:
        z = z0
        for _ in range(iters):
            part = _exp_t(z, t).sum(-1, keepdim=True)
            z = z0 * part.pow(1.0 - t)
        part = _exp_t(z, t).sum(-1, keepdim=True)
        norm = -_log_t(1.0 / part, t) + mu
    else:
        dim = (z0 > -1.0 / (1.0 - t)).to(a.dtype).sum(-1, keepdim=True)
        lower = torch.zeros_like(dim)
        upper = -_log_t(1.0 / dim, t) * torch.ones_like(lower)
        for _ in range(iters):
            part = (upper + lower) / 2.0
            s = _exp_t(z0 - part, t).sum(-1, keepdim=True)
            update = (s < 1.0).to(a.dtype)
            lower = lower * update + (1.0 - update) * part
            upper = upper * (1.0 - update) + update * part
        norm = (upper + lower) / 2.0 + mu
    return _exp_t(a - norm, t)


class _BiTempered(torch.autograd.Function):
    """The reference's loss with its custom gradient (exact for an exact normalization)."""

    @staticmethod
    def forward(ctx, a, y, t1, t2):
        p = _tempered_softmax(a.detach(), t2, 200)
        temp1 = torch.where(y != 0, (_log_t(y + 1e-10, t1) - _log_t(p, t1)) * y, torch.zeros_like(y))
        temp2 = (y.pow(2.0 - t1) - p.pow(2.0 - t1)) / (2.0 - t1)
        ctx.save_for_backward(p, y)
        ctx.t = (t1, t2)
        return (temp1 - temp2).sum(-1)

    @staticmethod
    def backward(ctx, g):
        p, y = ctx.saved_tensors
        t1, t2 = ctx.t
        forget = (p - y) * p.pow(t2 - t1)
        escorts = p.pow(t2) / p.pow(t2).sum(-1, keepdim=True)
        d = forget - escorts * forget.sum(-1, keepdim=True)
        return g.unsqueeze(-1) * d, None, None, None


def g_bitempered(r, g):
    """google/bi-tempered-loss's bi_tempered_logistic_loss (its label smoothing, its custom gradient), the
    normalization iterated to convergence (200 steps) where the reference stops at num_iters = 5: LossLab solves it
    exactly. One-hot, soft or index labels; t1 ≤ 1 ≤ t2 mostly (the paper's range), sometimes t2 < 1."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 't1': r.choice((0.8, 0.5, 1.0, 0.2)), 't2': r.choice((1.2, 2.0, 1.0, 4.0, 0.8)),
         'label_smoothing': r.choice((0.0, 0.0, 0.1))}
    if o['t2'] < o['t1']:
        # A class outside the support (p = 0, t2 < 1) has (p − y)·p^{t2 − t1} = 0·∞ in the reference (NaN); LossLab
        # takes the limit 0 (a C# test). Keep t1 ≤ t2 here.
        o['t1'] = 0.5
    kind = r.choice(('index', 'onehot', 'soft'))
    if kind == 'index':
        labels = y.to(torch.float64)
        onehot = F.one_hot(y, c).to(torch.float64)
    elif kind == 'onehot':
        labels = onehot = F.one_hot(y, c).to(torch.float64)
    else:
        labels = onehot = torch.softmax(tensor((n, c), rng=g), -1)
    def fn(t):
        lab = onehot
        if o['label_smoothing'] > 0:
            lab = (1 - c * o['label_smoothing'] / (c - 1)) * lab + o['label_smoothing'] / (c - 1)
        return reduce_rows(_BiTempered.apply(t['activations'], lab, o['t1'], o['t2']), o['reduction'])
    return 'bi_tempered_logistic_loss', {'activations': x, 'labels': labels}, o, fn


def g_active_passive(r, g):
    """The APL paper's reference code (Active-Passive-Losses loss.py): NormalizedCrossEntropy (−Σ onehot·log_softmax over
    −Σ log_softmax), NormalizedFocalLoss (its normalizor Σ_j −(1 − p_j)^γ·log p_j), ReverseCrossEntropy (softmax clamped
    to [1e-7, 1], one-hot clamped to [1e-4, 1]), MeanAbsoluteError (1 − Σ onehot·softmax), each scaled by α or β and
    averaged over the rows; reduction none and sum are LossLab's."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'active': r.choice(('nce', 'nfl')), 'passive': r.choice(('rce', 'mae', 'none')),
         'alpha': r.choice((1.0, 0.1, 10.0)), 'beta': r.choice((1.0, 0.1, 10.0)), 'gamma': r.choice((0.5, 0.0, 2.0))}
    def fn(t):
        lp = torch.log_softmax(t['input'], 1)
        p = lp.exp()
        onehot = F.one_hot(t['target'], c).to(lp.dtype)
        if o['active'] == 'nce':
            active = (-(onehot * lp).sum(1)) / (-lp.sum(1))
        else:
            normalizor = (-(1 - p) ** o['gamma'] * lp).sum(1)
            lpt = lp.gather(1, t['target'].unsqueeze(1)).squeeze(1)
            active = -(1 - lpt.exp()) ** o['gamma'] * lpt / normalizor
        rows = o['alpha'] * active
        if o['passive'] == 'rce':
            rows = rows + o['beta'] * (-(torch.clamp(p, min=1e-7, max=1.0) * torch.log(torch.clamp(onehot, min=1e-4, max=1.0))).sum(1))
        elif o['passive'] == 'mae':
            rows = rows + o['beta'] * (1.0 - (onehot * p).sum(1))
        return reduce_rows(rows, o['reduction'])
    return 'active_passive_loss', {'input': x, 'target': y}, o, fn


def g_varifocal(r, g):
    """mmdetection's varifocal_loss: focal_weight = q·[q > 0] (1 without iou_weighted) + α·|σ(x) − q|^γ·[q ≤ 0], not
    detached, times binary_cross_entropy_with_logits(pred, q); mean over every element (its default)."""
    shape = (r.randint(1, 5), r.randint(1, 5))
    x = tensor(shape, rng=g)
    q = torch.where(torch.rand(shape, generator=g, dtype=torch.float64) < 0.3, tensor(shape, 0.05, 1.0, g), torch.zeros(shape, dtype=torch.float64))
    o = {'reduction': red(r), 'alpha': r.choice((0.75, 0.25, 1.0)), 'gamma': r.choice((2.0, 0.5, 1.0, 0.0)), 'iou_weighted': r.random() < 0.7}
    def fn(t):
        p = t['pred'].sigmoid()
        target = t['target']
        pos = (target > 0).to(p.dtype)
        weight = (target if o['iou_weighted'] else torch.ones_like(target)) * pos + o['alpha'] * (p - target).abs().pow(o['gamma']) * (1 - pos)
        return reduce_rows(F.binary_cross_entropy_with_logits(t['pred'], target, reduction='none') * weight, o['reduction'])
    return 'varifocal_loss', {'pred': x, 'target': q}, o, fn


def g_quality_focal(r, g):
    """mmdetection's quality_focal_loss: BCE-with-logits against 0 times σ^β everywhere, replaced at each positive box's
    label by BCE against its score times |score − σ|^β; the sum over classes, then the mean over boxes."""
    n, c = r.randint(1, 6), r.randint(1, 5)
    x = tensor((n, c), rng=g)
    label = torch.randint(0, c + 1, (n,), generator=g)
    score = tensor((n,), 0.05, 0.95, g)
    o = {'reduction': red(r), 'beta': r.choice((2.0, 1.0, 0.5, 0.0))}
    def fn(t):
        pred = t['pred']
        p = pred.sigmoid()
        loss = F.binary_cross_entropy_with_logits(pred, torch.zeros_like(pred), reduction='none') * p.pow(o['beta'])
        pos = ((t['label'] >= 0) & (t['label'] < c)).nonzero().squeeze(1)
        if len(pos):
            lab = t['label'][pos]
            scale = t['score'][pos] - p[pos, lab]
            loss = loss.index_put((pos, lab), F.binary_cross_entropy_with_logits(pred[pos, lab], t['score'][pos], reduction='none') * scale.abs().pow(o['beta']))
        return reduce_rows(loss.sum(1), o['reduction'])
    return 'quality_focal_loss', {'pred': x, 'label': label, 'score': score}, o, fn


def g_distribution_focal(r, g):
    """mmdetection's distribution_focal_loss: cross_entropy at ⌊y⌋ times (⌊y⌋ + 1 − y) plus at ⌊y⌋ + 1 times (y − ⌊y⌋)."""
    n, c = r.randint(1, 6), r.randint(2, 9)
    x = tensor((n, c), rng=g)
    y = torch.tensor([r.randint(0, c - 2) + 0.05 + 0.9 * r.random() for _ in range(n)], dtype=torch.float64)
    o = {'reduction': red(r)}
    def fn(t):
        left = t['label'].long()
        wl = (left + 1).to(x.dtype) - t['label']
        wr = t['label'] - left.to(x.dtype)
        v = F.cross_entropy(t['pred'], left, reduction='none') * wl + F.cross_entropy(t['pred'], left + 1, reduction='none') * wr
        return reduce_rows(v, o['reduction'])
    return 'distribution_focal_loss', {'pred': x, 'label': y}, o, fn


def g_coral(r, g):
    """coral_pytorch's coral_loss: −Σ_k (log σ(z)·y + (log σ(z) − z)·(1 − y))·λ_k per row, mean or sum (LossLab's none:
    its None), the levels given or from ranks (levels_from_labelbatch)."""
    n, k = r.randint(1, 6), r.randint(1, 5)
    z = tensor((n, k), rng=g)
    ranks = torch.randint(0, k + 1, (n,), generator=g)
    levels = (torch.arange(k).unsqueeze(0) < ranks.unsqueeze(1)).to(torch.float64)
    o = {'reduction': red(r)}
    if r.random() < 0.3:
        o['importance_weights'] = [0.5 + r.random() for _ in range(k)]
    target = ranks.to(torch.float64) if r.random() < 0.5 else levels
    def fn(t):
        lz = F.logsigmoid(t['logits'])
        term = lz * levels + (lz - t['logits']) * (1 - levels)
        if 'importance_weights' in o:
            term = term * torch.tensor(o['importance_weights'], dtype=term.dtype)
        return reduce_rows(-term.sum(1), o['reduction'])
    return 'coral_loss', {'logits': z, 'levels': target}, o, fn


def g_corn(r, g):
    """coral_pytorch's corn_loss: threshold i trains on the rows with y > i − 1, target y > i; the tasks' summed
    losses over the number of examples they used."""
    n, k = r.randint(1, 7), r.randint(1, 5)
    z = tensor((n, k), rng=g)
    y = torch.randint(0, k + 1, (n,), generator=g)
    def fn(t):
        losses, count = 0.0, 0
        for i in range(k):
            mask = y > i - 1
            labels = (y[mask] > i).to(t['logits'].dtype)
            if len(labels) < 1:
                continue
            count += len(labels)
            pred = t['logits'][mask, i]
            losses = losses - torch.sum(F.logsigmoid(pred) * labels + (F.logsigmoid(pred) - pred) * (1 - labels))
        return losses / count
    return 'corn_loss', {'logits': z, 'labels': y}, {}, fn


def g_emd(r, g):
    """dlordinal's EMDLoss (the squared EMD, Hou et al. 2016): Σ_k (cumsum(softmax(x)) − cumsum(onehot(y)))² per row, mean
    over the batch (dlordinal's only reduction; none and sum are LossLab's)."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r)}
    def fn(t):
        d = torch.cumsum(torch.softmax(t['input'], 1), 1) - torch.cumsum(F.one_hot(t['target'], c).to(t['input'].dtype), 1)
        return reduce_rows((d ** 2).sum(1), o['reduction'])
    return 'emd_loss', {'input': x, 'target': y}, o, fn


def g_cdw(r, g):
    """dlordinal's CDWCELoss (Polat et al. 2022): −Σ_j |j − y|^α·log(1 − p_j) per row, the row times w_y/Σw, summed over
    N (mean: / N as dlordinal; none and sum are LossLab's). log(1 − p_j) exactly, as the log-sum-exp of the other logits
    minus that of all: dlordinal's 10⁻⁸ inside both logs is not copied (it moves the value by about 10⁻⁸/Σe^x)."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'alpha': r.choice((0.0, 0.5, 1.0, 2.0, 0.3))}
    if r.random() < 0.4:
        o['weight'] = [0.2 + r.random() for _ in range(c)]
    dist = (torch.arange(c).unsqueeze(0) - y.unsqueeze(1)).abs().to(torch.float64) ** o['alpha']
    eye = torch.eye(c, dtype=torch.bool)
    def fn(t):
        xs = t['input']
        others = torch.logsumexp(xs.unsqueeze(1).expand(n, c, c).masked_fill(eye, float('-inf')), 2)   # row j: lse over k ≠ j
        log1mp = others - torch.logsumexp(xs, 1, keepdim=True)
        row = -(dist.to(xs.dtype) * log1mp).sum(1)
        if 'weight' in o:
            w = torch.tensor(o['weight'], dtype=xs.dtype)
            row = row * (w / w.sum())[t['target']]
        return reduce_rows(row, o['reduction'])
    return 'cdw_ce_loss', {'input': x, 'target': y}, o, fn


def g_wk(r, g):
    """dlordinal's WKLoss (de la Torre et al. 2018) on softmax probabilities: P = y^e / (ε + Σ y^e) with e = 2 (quadratic)
    or 1 (linear), C = Pᵀ·Y, W_ab = (a − b)²/(K − 1)² times the column's class weight, ℓ = Σ W∘C / (Σ W∘(h tᵀ)/N + ε)."""
    n, k = r.randint(1, 6), r.randint(2, 5)
    p = torch.softmax(tensor((n, k), rng=g), 1)
    y = torch.randint(0, k, (n,), generator=g)
    o = {'penalization_type': r.choice(('quadratic', 'linear')), 'epsilon': r.choice((1e-10, 1e-3, 0.0))}
    if r.random() < 0.3:
        o['weight'] = [0.2 + r.random() for _ in range(k)]
    if o['epsilon'] == 0.0 and n == 1:
        o['epsilon'] = 1e-10   # one row of one class: no disagreement is expected by chance, 0/0 without ε
    def fn(t):
        yt = F.one_hot(y, k).to(t['input'].dtype)
        a = torch.arange(k, dtype=t['input'].dtype)
        w = (a.unsqueeze(1) - a.unsqueeze(0)) ** 2 / (k - 1) ** 2
        if 'weight' in o:
            w = w * torch.tensor(o['weight'], dtype=w.dtype).unsqueeze(0)
        q = t['input'] ** (2 if o['penalization_type'] == 'quadratic' else 1)
        pn = q / (o['epsilon'] + q.sum(1, keepdim=True))
        observed = (w * (pn.T @ yt)).sum()
        expected = (w * torch.outer(pn.sum(0), yt.sum(0)) / n).sum()
        return observed / (expected + o['epsilon'])
    return 'wk_loss', {'input': p, 'target': y}, o, fn


def g_sord(r, g):
    """dlordinal's SORDLoss (Díaz and Marathe 2019): CE of log_softmax(x) (or log(x + 1e-9) with use_logits false) against
    softmax(−α·φ), φ = |j − y| or, with prox, from dlordinal's create_prox_mat(counts, inv=False) by ftype; times the
    true class's weight, mean over N (none and sum are LossLab's)."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 'alpha': r.choice((0.5, 1.0, 2.0, 4.0))}
    if r.random() < 0.5:
        o['prox'] = True
        o['ftype'] = r.choice(('max', 'norm_max', 'log', 'norm_log', 'division', 'norm_division'))
        o['class_counts'] = [float(r.randint(1, 30)) for _ in range(c)]
    if r.random() < 0.3:
        o['weight'] = [0.2 + r.random() for _ in range(c)]
    if r.random() < 0.25:
        o['use_logits'] = False
        x = torch.softmax(x, 1)
    if o.get('prox'):
        cnt, total = o['class_counts'], sum(o['class_counts'])
        prox = torch.zeros(c, c, dtype=torch.float64)
        for a in range(c):
            for b in range(c):
                num = cnt[a] / 2 + (sum(cnt[a + 1:b + 1]) if a <= b else sum(cnt[b:a]))
                prox[a, b] = -math.log(num / total)
        norm = F.normalize(prox, p=1, dim=0)
        phi = {'max': prox.max() - prox[y], 'norm_max': norm.max() - norm[y], 'log': -torch.log(prox[y]),
               'norm_log': -torch.log(norm[y]), 'division': 1.0 / prox[y], 'norm_division': 1.0 / norm[y]}[o['ftype']]
    else:
        phi = (torch.arange(c).view(1, -1) - y.view(-1, 1)).abs().to(torch.float64)
    q = torch.softmax(-o['alpha'] * phi, 1)
    def fn(t):
        logp = torch.log(t['input'] + 1e-9) if o.get('use_logits') is False else F.log_softmax(t['input'], 1)
        row = -(q.to(logp.dtype) * logp).sum(1)
        if 'weight' in o:
            row = row * torch.tensor(o['weight'], dtype=row.dtype)[t['target']]
        return reduce_rows(row, o['reduction'])
    return 'sord_loss', {'input': x, 'target': y}, o, fn


def _softmax_rows(m):
    return torch.softmax(torch.tensor(m, dtype=torch.float64), 1).tolist()


def _binomial_rows(k):
    pis = [0.1 + 0.8 * y / (k - 1) for y in range(k)]   # numpy's linspace(0.1, 0.9, k)
    return [[math.comb(k - 1, j) * pi ** j * (1 - pi) ** (k - 1 - j) for j in range(k)] for pi in pis]


def _poisson_rows(k):
    return _softmax_rows([[lam ** j * math.exp(-lam) / math.factorial(j) for j in range(k)] for lam in range(1, k + 1)])


def _exponential_rows(k, p):
    return _softmax_rows([[-(abs(j - y) ** p) for j in range(k)] for y in range(k)])


def _interval_ends(n):
    """dlordinal's interval ends, numpy's linspace(1e-9, 1 − 1e-9, n + 1)."""
    start, stop = 1e-9, 1 - 1e-9
    return [start + i * (stop - start) / n for i in range(n)] + [stop]


def _triangular_cdf(x, a, b, c):
    """dlordinal's triangular_cdf (1 at x = c, as its branches give)."""
    if x <= a:
        return 0.0
    if a < x < c:
        return (x - a) ** 2 / ((b - a) * (c - a))
    if c < x < b:
        return 1 - (b - x) ** 2 / ((b - a) * (b - c))
    return 1.0


def _triangular_rows(n, alpha2):
    """dlordinal's get_triangular_probabilities(n, alpha2), written from its formulas."""
    r2 = math.sqrt(2 * alpha2)
    den = 2.0 * n * (1 - 2 * alpha2)
    alpha1 = ((1 - math.sqrt(1 - 4 * (1 - 2 * alpha2) * (2 * alpha2 - r2))) / 2) ** 2
    alpha3 = ((1 - math.sqrt(1 - 4 * ((n - 1) / n) ** 2 * (1 - 2 * alpha2) * (r2 * (-1 + r2)))) / 2) ** 2
    def a_of(j):
        num = 2.0 * j - 2 - 4 * j * alpha2 + 2 * alpha2
        return (num + r2) / den if (num + r2) / den < (j - 1.0) / n else (num - r2) / den
    def b_of(j):
        num = 2.0 * j - 4 * j * alpha2 + 2 * alpha2
        return (num + r2) / den if (num + r2) / den > j / n else (num - r2) / den
    a_plus = 1.0 + 1.0 / (n * (math.sqrt(alpha3) - 1.0))
    a_last = a_plus if a_plus > 0 else 1.0 + 1.0 / (-n * (math.sqrt(alpha3) - 1.0))
    pts = _interval_ends(n)
    cdf = _triangular_cdf
    rows = []
    for j in range(1, n + 1):
        if j == 1:
            a, b, c = 0.0, 1.0 / ((1.0 - math.sqrt(alpha1)) * n), 0.0
        elif j == n:
            a, b, c = a_last, 1.0, 1.0
        else:
            a, b = a_of(j), b_of(j)
            c = (a + b) / 2.0
        rows.append([cdf(pts[i + 1], a, b, c) - cdf(pts[i], a, b, c) for i in range(n)])
    return rows


def _geometric_rows(n, alphas):
    """dlordinal's get_geometric_soft_labels: a float, a list of n floats, or n (α, F_l, F_r) tuples (α = 0: one-hot)."""
    rows = []
    for y in range(n):
        asym = isinstance(alphas, list) and isinstance(alphas[0], tuple)
        a = alphas[y][0] if asym else alphas[y] if isinstance(alphas, list) else alphas
        term = [a ** abs(y - k) * (1 - a) for k in range(n)]
        left, right = sum(term[:y]), sum(term[y + 1:])
        if asym:
            fl, fr = (1, 0) if y == n - 1 else (0, 1) if y == 0 else (alphas[y][1], alphas[y][2])
        row = []
        for k in range(n):
            if k == y:
                row.append(1 - a)
            elif a == 0:
                row.append(0.0)
            elif not asym:
                row.append(a * term[k] / (left + right))
            elif k < y:
                row.append(fl * a * term[k] / left if fl > 0 else 0.0)
            else:
                row.append(fr * a * term[k] / right if fr > 0 else 0.0)
        rows.append(row)
    return rows


_BETA_PQ = {3: [(1, 4), (4, 4), (4, 1)], 4: [(1, 6), (6, 10), (10, 6), (6, 1)],
            5: [(1, 8), (6, 14), (12, 12), (14, 6), (8, 1)], 6: [(1, 10), (7, 20), (15, 20), (20, 15), (20, 7), (10, 1)]}


def _beta_rows(n):
    """dlordinal's get_beta_softlabels (Vargas et al. 2022's table, a = 1): B(p, q)'s mass on linspace(1e-9, 1 − 1e-9, n + 1),
    the CDF of integer (p, q) as a binomial upper tail computed with exact integer binomial coefficients."""
    pts = _interval_ends(n)
    def cdf(x, p, q):
        m = p + q - 1
        return sum(math.comb(m, i) * x ** i * (1 - x) ** (m - i) for i in range(p, m + 1))
    return [[cdf(pts[i + 1], p, q) - cdf(pts[i], p, q) for i in range(n)] for (p, q) in _BETA_PQ[n]]


def _bisect(f, x0, x1):
    """A root of f between x0 and x1 (f changes sign), to the last bit."""
    f0 = f(x0)
    for _ in range(300):
        m = 0.5 * (x0 + x1)
        if m in (x0, x1):
            break
        fm = f(m)
        if (fm > 0) == (f0 > 0):
            x0, f0 = m, fm
        else:
            x1 = m
    return 0.5 * (x0 + x1)


def _triangle_ends(lo, hi, c, al, ar):
    """The ends a < lo, b > hi of the triangle with mode c whose CDF leaves mass al below lo and ar above hi: each
    equation gives b as a function of a (the first directly, the second as its quadratic's larger root); the two curves
    cross once below lo, found by scanning down from lo for the sign change and bisecting."""
    if al == 0 and ar == 0:
        return lo, hi
    def b2(a):   # (b − hi)² = ar·(b − a)(b − c), the root above hi
        qa, qb, qc = 1 - ar, -(2 * hi - ar * (a + c)), hi * hi - ar * a * c
        return (-qb + math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)
    if al == 0:
        return lo, b2(lo)
    def h(a):    # (lo − a)² = al·(b − a)(c − a) solved for b, minus the second curve
        return a + (lo - a) ** 2 / (al * (c - a)) - b2(a)
    step, a0 = (hi - lo) / 64, lo
    while h(a0 - step) < 0:
        a0 -= step
    a = _bisect(h, a0, a0 - step)
    return a, b2(a)


def _general_triangular_rows(n, alphas):
    """dlordinal's get_general_triangular_softlabels: class j (1-based) a triangular distribution with its mode at its
    interval's centre and the masses alphas[2j − 1] below and alphas[2j] above its interval, here solved for the left end by
    bisection on the two CDF equations (dlordinal: sympy's nsolve); first and last as dlordinal."""
    pts = _interval_ends(n)
    cdf = _triangular_cdf
    rows = []
    for j in range(1, n + 1):
        if j == 1:
            a, b, c = 0.0, 1.0 / ((1 - math.sqrt(alphas[2])) * n), 0.0
        elif j == n:
            a, b, c = 1 - 1.0 / (n * (1 - math.sqrt(alphas[2 * n - 1]))), 1.0, 1.0
        else:
            lo, hi, c = (j - 1) / n, j / n, (2 * j - 1) / (2 * n)
            a, b = _triangle_ends(lo, hi, c, alphas[2 * j - 1], alphas[2 * j])
        rows.append([cdf(pts[i + 1], a, b, c) - cdf(pts[i], a, b, c) for i in range(n)])
    return rows


def g_unimodal(name):
    """dlordinal's CustomTargetsCrossEntropyLoss family: torch's cross_entropy (weight, label_smoothing, reduction) against
    (1 − η)·onehot(y) + η·S_y, S the binomial, Poisson, exponential or triangular soft labels (kept in float64 here)."""
    def gen(r, g):
        n, c = r.randint(1, 5), r.randint(3 if name == 'beta_ce_loss' else 2, 6)
        x = tensor((n, c), rng=g)
        y = torch.randint(0, c, (n,), generator=g)
        o = {'reduction': red(r), 'eta': r.choice((1.0, 0.5, 0.0, 0.9))}
        if r.random() < 0.3:
            o['weight'] = [0.2 + r.random() for _ in range(c)]
        if r.random() < 0.3:
            o['label_smoothing'] = r.choice((0.1, 0.3))
        if name == 'exponential_cross_entropy_loss':
            o['p'] = r.choice((1.0, 2.0, 0.5))
            rows = _exponential_rows(c, o['p'])
        elif name == 'triangular_ce_loss':
            o['alpha2'] = r.choice((0.05, 0.01, 0.2))
            rows = _triangular_rows(c, o['alpha2'])
        elif name == 'geometric_loss':
            kind = r.random()
            if kind < 0.4:
                o['alphas'] = r.choice((0.1, 0.3, 0.0, 0.9))
                alphas = o['alphas']
            elif kind < 0.7:
                alphas = [r.random() for _ in range(c)]
                o['alphas'] = alphas
            else:
                split = (0.0, 0.25, 0.5, 0.75, 1.0)
                alphas = [(r.random(), f, 1 - f) for f in (r.choice(split) for _ in range(c))]
                o['alphas'] = [list(t) for t in alphas]
            rows = _geometric_rows(c, alphas)
        elif name == 'poisson_ce_loss':
            rows = _poisson_rows(c)
        elif name == 'beta_ce_loss':
            rows = _beta_rows(c)
        elif name == 'general_triangular_ce_loss':
            alphas = [0.0] + [r.choice((0.0, 0.01, 0.05, 0.1, 0.2, 0.3)) for _ in range(2 * c - 2)] + [0.0]
            o['alphas'] = alphas
            rows = _general_triangular_rows(c, alphas)
        else:
            rows = _binomial_rows(c)
        soft = torch.tensor(rows, dtype=torch.float64)[y]
        target = (1 - o['eta']) * F.one_hot(y, c).to(torch.float64) + o['eta'] * soft
        def fn(t):
            w = torch.tensor(o['weight'], dtype=t['input'].dtype) if 'weight' in o else None
            return F.cross_entropy(t['input'], target.to(t['input'].dtype), weight=w, reduction=o['reduction'],
                                   label_smoothing=o.get('label_smoothing', 0.0))
        return name, {'input': x, 'target': y}, o, fn
    return gen


def g_soft_dtw(r, g):
    """pytorch-softdtw-cuda's SoftDTW (its CPU recursion written out with autograd): squared Euclidean costs, R_ij = D_ij
    + softmin_γ of the three predecessors, cells with 0 < bandwidth < |i − j| skipped, the value R_nm per pair;
    normalize (same lengths, as the reference needs) subtracts ½(R(x, x) + R(y, y)). Reduction is LossLab's (the
    reference returns the per-pair vector)."""
    batch, n, d = r.randint(1, 3), r.randint(1, 5), r.randint(1, 3)
    o = {'reduction': red(r), 'gamma': r.choice((1.0, 0.1, 0.01, 2.0)), 'normalize': r.random() < 0.3}
    m = n if o['normalize'] else r.randint(1, 5)
    if r.random() < 0.3:
        o['bandwidth'] = r.choice((0, abs(n - m) + 1, abs(n - m) + 2))
    x, y = tensor((batch, n, d), rng=g), tensor((batch, m, d), rng=g)

    def sdtw(a, b):
        la, lb = a.shape[0], b.shape[0]
        cost = ((a.unsqueeze(1) - b.unsqueeze(0)) ** 2).sum(2)
        inf = torch.tensor(math.inf, dtype=a.dtype)
        R = [[inf] * (lb + 1) for _ in range(la + 1)]
        R[0][0] = torch.tensor(0.0, dtype=a.dtype)
        band = o.get('bandwidth', 0)
        for i in range(1, la + 1):
            for j in range(1, lb + 1):
                if 0 < band < abs(i - j):
                    continue
                prev = torch.stack([R[i - 1][j - 1], R[i - 1][j], R[i][j - 1]])
                R[i][j] = cost[i - 1, j - 1] - o['gamma'] * torch.logsumexp(-prev / o['gamma'], 0)
        return R[la][lb]

    def fn(t):
        vals = []
        for p in range(batch):
            v = sdtw(t['x'][p], t['y'][p])
            if o['normalize']:
                v = v - 0.5 * (sdtw(t['x'][p], t['x'][p]) + sdtw(t['y'][p], t['y'][p]))
            vals.append(v)
        return reduce_rows(torch.stack(vals), o['reduction'])
    return 'soft_dtw_loss', {'x': x, 'y': y}, o, fn


def g_taylor_ce(r, g):
    """Feng et al.'s Taylor cross-entropy from its definition: Σ_{k=1}^{t} (1 − p_y)^k / k, p = softmax."""
    x, y, n, c = rows_case(r, g)
    o = {'reduction': red(r), 't': r.choice((1, 2, 3, 6, 50))}
    def fn(t):
        q = 1 - torch.softmax(t['input'], 1).gather(1, t['target'].unsqueeze(1)).squeeze(1)
        return reduce_rows(sum(q ** k / k for k in range(1, o['t'] + 1)), o['reduction'])
    return 'taylor_cross_entropy', {'input': x, 'target': y}, o, fn


SMALL_BLUR = False                                   # set by hand to probe blur 0.05 and 0.1


def _sinkhorn_potentials(eps, c, log_u, log_v, symmetric, iterations=200000):
    """Entropic OT potentials by log-domain Sinkhorn in float64 (no autograd): ε-annealing from the largest cost, then
    averaged (symmetric) or alternating updates at ε until they stop moving."""
    def softmin(e, cost, log_w, h):
        return -e * torch.logsumexp(log_w[None, :] + (h[None, :] - cost) / e, dim=1)
    f = torch.zeros(c.shape[0], dtype=c.dtype)
    g = torch.zeros(c.shape[1], dtype=c.dtype)
    e = max(float(c.max()), eps)
    while True:
        if symmetric:
            f = 0.5 * (f + softmin(e, c, log_v, f))
        else:
            f, g = 0.5 * (f + softmin(e, c, log_v, g)), 0.5 * (g + softmin(e, c.T, log_u, f))
        if e <= eps:
            break
        e = max(e * 0.5, eps)
    # A step is ε·log(a marginal's ratio): below 1e-14·ε the marginals hold to 1e-14 (or to double's resolution of the
    # potentials, about 1e-16 of the largest cost).
    tol = max(1e-14 * eps, 2e-16 * float(c.max()))
    for _ in range(iterations):
        if symmetric:
            new = 0.5 * (f + softmin(eps, c, log_v, f))
            done = float((new - f).abs().max()) <= tol
            f = new
        else:
            nf = softmin(eps, c, log_v, g)
            ng = softmin(eps, c.T, log_u, nf)
            done = max(float((nf - f).abs().max()), float((ng - g).abs().max())) <= tol
            f, g = nf, ng
        if done:
            break
    # Newton on the dual from there (quadratic convergence; Sinkhorn's rate is near 1 where the plan is almost a
    # permutation): the marginals' residual is the gradient, −Hessian = (1/ε)[[diag(π1), π], [πᵀ, diag(πᵀ1)]].
    u, v = log_u.exp(), log_v.exp()
    def residual(f_, g_):
        h_ = f_ if symmetric else g_
        plan = u[:, None] * v[None, :] * torch.exp((f_[:, None] + h_[None, :] - c) / eps)
        res = u - plan.sum(1) if symmetric else torch.cat([u - plan.sum(1), v - plan.sum(0)])
        err = float(res.abs().max())
        return plan, res, (err if err == err else float('inf'))
    plan, res, err = residual(f, g)
    for _ in range(30):
        if err <= 1e-15:
            break
        # The least-squares (SVD) step, not a plain solve: where the plan splits into blocks coupled below double's
        # resolution, each block has its own gauge (f + c, g − c on that block) and the Hessian as many near-null
        # directions, so that a solve returned noise (condition 3e16) and the marginals stayed 3e-8 off.
        if symmetric:
            hess = (torch.diag(plan.sum(1)) + plan) / eps
        else:
            hess = torch.cat([torch.cat([torch.diag(plan.sum(1)), plan], 1), torch.cat([plan.T, torch.diag(plan.sum(0))], 1)]) / eps
        try:
            step = torch.linalg.lstsq(hess, res[:, None], rcond=1e-13, driver='gelsd').solution[:, 0]
        except RuntimeError:
            break                                                     # keep Sinkhorn's
        scale, improved = 1.0, False
        for _ in range(20):
            nf = f + scale * step[:len(f)]
            ng = g if symmetric else g + scale * step[len(f):]
            nplan, nres, nerr = residual(nf, ng)
            if nerr < err:
                f, g, plan, res, err, improved = nf, ng, nplan, nres, nerr, True
                break
            scale *= 0.5
        if not improved:
            break
    return f, (f if symmetric else g)


def g_sinkhorn(r, g):
    """The debiased Sinkhorn divergence of geomloss's SamplesLoss("sinkhorn"), at its converged potentials: the dual
    objective ⟨α, f⟩ + ⟨β, g⟩ − ε⟨α⊗β, e^{(f⊕g − C)/ε} − 1⟩ with the potentials held fixed (the envelope theorem gives
    the gradients for the points and the weights), minus the two symmetric terms; C = |x − y|^p/p, ε = blur^p."""
    n, m, d = r.randint(1, 6), r.randint(1, 6), r.randint(1, 3)
    # blur ≥ 0.2 against points spread over [−1.5, 1.5]: smaller, the plan can split into blocks coupled by e^{−C/ε}
    # below double's resolution, whose potentials both solvers fix only to the marginals' 1e-9 (agreement about 1e-6;
    # SMALL_BLUR = True draws those, to be compared at --rtol 1e-5).
    blurs = (0.05, 0.1) if SMALL_BLUR else (0.2, 0.5, 1.0)
    o = {'p': r.choice((2, 2, 1)), 'blur': r.choice(blurs), 'scaling': r.choice((0.5, 0.8)), 'debias': r.random() < 0.8}
    ins = {'x': tensor((n, d), -1.5, 1.5, g), 'y': tensor((m, d), -1.5, 1.5, g)}
    bad_weights = False
    if r.random() < 0.4:
        ins['x_weights'] = tensor((n,), 0.2, 1, g)
        ins['y_weights'] = tensor((m,), 0.2, 1, g)
        if r.random() < 0.1:
            ins['y_weights'][0] = -0.5
            bad_weights = True
    def fn(t):
        if bad_weights:
            raise ValueError('weights must be > 0')
        x, y = t['x'], t['y']
        # The weights are normalized (probability measures), through autograd.
        a = t['x_weights'] / t['x_weights'].sum() if 'x_weights' in t else torch.full((n,), 1.0 / n, dtype=x.dtype)
        b = t['y_weights'] / t['y_weights'].sum() if 'y_weights' in t else torch.full((m,), 1.0 / m, dtype=x.dtype)
        eps = o['blur'] ** o['p']
        def cost(u, v):
            sq = ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)
            if o['p'] == 2:
                return 0.5 * sq
            positive = sq > 0
            return torch.where(positive, torch.sqrt(torch.where(positive, sq, torch.ones_like(sq))), torch.zeros_like(sq))
        def dual(wu, wv, c, f, h):
            plan = wu[:, None] * wv[None, :] * (torch.exp((f[:, None] + h[None, :] - c) / eps) - 1)
            return (wu * f).sum() + (wv * h).sum() - eps * plan.sum()
        cxy = cost(x, y)
        la, lb = torch.log(a.detach()), torch.log(b.detach())
        f, h = _sinkhorn_potentials(eps, cxy.detach(), la, lb, False)
        value = dual(a, b, cxy, f, h)
        if o['debias']:
            cxx, cyy = cost(x, x), cost(y, y)
            p, _ = _sinkhorn_potentials(eps, cxx.detach(), la, la, True)
            q, _ = _sinkhorn_potentials(eps, cyy.detach(), lb, lb, True)
            value = value - 0.5 * dual(a, a, cxx, p, p) - 0.5 * dual(b, b, cyy, q, q)
        return value
    return 'sinkhorn_divergence', ins, o, fn


class _Sqrt0(torch.autograd.Function):
    """geomloss's sqrt_0: √x with a zero slope at 0 (a point's distance to itself)."""
    @staticmethod
    def forward(ctx, x):
        root = x.clamp(min=0).sqrt()
        ctx.save_for_backward(root)
        return root

    @staticmethod
    def backward(ctx, grad):
        root, = ctx.saved_tensors
        return torch.where(root > 0, grad / (2 * torch.where(root > 0, root, torch.ones_like(root))), torch.zeros_like(root))


def g_kernel_mmd(r, g):
    """geomloss's kernel_tensorized: ½⟨α, K_xx α⟩ + ½⟨β, K_yy β⟩ − ⟨α, K_xy β⟩ with the gaussian, laplacian or energy
    kernel (its double_grad detaching is the true gradient of that value), distances through sqrt_0."""
    n, m, d = r.randint(1, 6), r.randint(1, 6), r.randint(1, 3)
    o = {'kernel': r.choice(('gaussian', 'laplacian', 'energy')), 'blur': r.choice((0.05, 0.3, 1.0))}
    ins = {'x': tensor((n, d), -1, 1, g), 'y': tensor((m, d), -1, 1, g)}
    if r.random() < 0.4:
        ins['x_weights'] = tensor((n,), 0.1, 1, g)
        ins['y_weights'] = tensor((m,), 0.1, 1, g)
    def fn(t):
        x, y = t['x'], t['y']
        a = t['x_weights'] if 'x_weights' in t else torch.full((n,), 1.0 / n, dtype=x.dtype)
        b = t['y_weights'] if 'y_weights' in t else torch.full((m,), 1.0 / m, dtype=x.dtype)
        def k(u, v):
            sq = ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)
            if o['kernel'] == 'gaussian':
                return torch.exp(-0.5 * sq / o['blur'] ** 2)
            dist = _Sqrt0.apply(sq)
            return torch.exp(-dist / o['blur']) if o['kernel'] == 'laplacian' else -dist
        return 0.5 * a @ k(x, x) @ a + 0.5 * b @ k(y, y) @ b - a @ k(x, y) @ b
    return 'kernel_mmd_loss', ins, o, fn



def _liger_jsd_rows(x, y, beta):
    """Liger's JSD per row from log-values x (student) and y (teacher), as its chunked reference writes it with kl_div."""
    if beta == 0:
        return F.kl_div(x, y, reduction='none', log_target=True).sum(-1)
    if beta == 1:
        return F.kl_div(y, x, reduction='none', log_target=True).sum(-1)
    log_m = torch.logsumexp(torch.stack([x + math.log(1 - beta), y + math.log(beta)]), dim=0)
    return (beta * F.kl_div(log_m, y, reduction='none', log_target=True)
            + (1 - beta) * F.kl_div(log_m, x, reduction='none', log_target=True)).sum(-1)


def g_liger_jsd(r, g):
    """Liger-Kernel's LigerJSD(beta, ignore_index)(log_q, log_p, shift_labels): the rows' JSD summed over the rows
    whose label is not ignore_index, divided by their number (0 when none counts); the teacher gets no gradient."""
    n, v = r.randint(1, 5), r.randint(1, 6)
    x = torch.log_softmax(tensor((n, v), rng=g), 1)
    y = torch.log_softmax(tensor((n, v), rng=g), 1)
    if r.random() < 0.3:
        x = x + tensor((n, v), -0.5, 0.5, g)   # unnormalized log-values: Liger takes them as given
    o = {'reduction': r.choice(('none', 'sum', 'mean', 'mean')), 'beta': r.choice((0.0, 1.0, 0.5, 0.5, 0.1, 0.9)),
         'ignore_index': r.choice((-100, 2))}
    ins = {'_input': x, 'target': y}
    if r.random() < 0.5:
        ins['shift_labels'] = torch.randint(0, 4, (n,), generator=g)
    def fn(t):
        keep = (t['shift_labels'] != o['ignore_index']).to(x.dtype) if 'shift_labels' in t else torch.ones(n, dtype=x.dtype)
        rows = _liger_jsd_rows(t['_input'], t['target'].detach(), o['beta']) * keep
        if o['reduction'] == 'none':
            return rows
        return rows.sum() / (keep.sum().clamp_min(1) if o['reduction'] == 'mean' else 1)
    return 'liger_jsd', ins, o, fn


def _linear_distillation(r, g, name, soft):
    """Liger's LigerFusedLinearDistillationBase: z = F.linear per model, hard = nll(log_softmax(z_s), y) summed over
    the labelled rows, soft(z_s/T padded to V_t, z_t/T, keep) per row, (w_hard·hard + w_soft·soft)/max(1, counted)."""
    n, ds, dt, vs = r.randint(1, 5), r.randint(1, 4), r.randint(1, 4), r.randint(2, 6)
    vt = vs + (r.randint(1, 2) if r.random() < 0.3 else 0)
    ignore = r.choice((-100, 0))
    y = torch.randint(0, vs, (n,), generator=g)
    y = torch.where(torch.rand(n, generator=g) < 0.25, torch.tensor(ignore), y)
    ins = {'student_input': tensor((n, ds), rng=g), 'student_weight': tensor((vs, ds), rng=g),
           'teacher_input': tensor((n, dt), rng=g), 'teacher_weight': tensor((vt, dt), rng=g), 'true_labels': y}
    if r.random() < 0.5:
        ins['student_bias'] = tensor((vs,), rng=g)
    if r.random() < 0.5:
        ins['teacher_bias'] = tensor((vt,), rng=g)
    o = {'reduction': r.choice(('none', 'sum', 'mean', 'mean')), 'weight_hard_loss': r.choice((0.5, 0.0, 1.0, 0.3)),
         'weight_soft_loss': r.choice((0.5, 1.0, 0.7)), 'ignore_index': ignore, 'temperature': r.choice((1.0, 2.0, 0.5)),
         'beta': r.choice((0.5, 0.0, 1.0, 0.2)) if name == 'linear_jsd_loss' else r.choice((0.5, 1.0, 2.0))}
    def fn(t):
        zs = F.linear(t['student_input'], t['student_weight'], t.get('student_bias'))
        with torch.no_grad():
            zt = F.linear(t['teacher_input'], t['teacher_weight'], t.get('teacher_bias'))
        keep = (t['true_labels'] != ignore).to(zs.dtype)
        hard = F.nll_loss(torch.log_softmax(zs, -1), t['true_labels'], ignore_index=ignore, reduction='none')
        zs_t, zt_t = zs / o['temperature'], zt / o['temperature']
        if vt > vs:
            zs_t = torch.cat([zs_t, torch.zeros(n, vt - vs, dtype=zs.dtype)], dim=-1)
        rows = o['weight_hard_loss'] * hard + o['weight_soft_loss'] * soft(zs_t, zt_t, keep, o)
        if o['reduction'] == 'none':
            return rows
        return rows.sum() / (keep.sum().clamp_min(1) if o['reduction'] == 'mean' else 1)
    return name, ins, o, fn


def g_linear_jsd(r, g):
    """Liger-Kernel's LigerFusedLinearJSDLoss: the JSD of the log-softmaxes, masked by the labels (Liger PR #974)."""
    return _linear_distillation(r, g, 'linear_jsd_loss', lambda s, t, keep, o: _liger_jsd_rows(
        torch.log_softmax(s, -1), torch.log_softmax(t, -1), o['beta']) * keep)


def g_linear_cosine(r, g):
    """Liger-Kernel's LigerFusedLinearCosineSimilarityLoss: β·(1 − cosine_similarity(normalize(s), normalize(t))) on
    every row (Liger does not mask it)."""
    return _linear_distillation(r, g, 'linear_cosine_similarity_loss', lambda s, t, keep, o: o['beta'] * (
        1 - F.cosine_similarity(F.normalize(s, p=2, dim=-1), F.normalize(t, p=2, dim=-1), dim=-1)))


def g_liger_ce(r, g):
    """Liger-Kernel's LigerCrossEntropyLoss(weight, ignore_index, lse_square_scale, label_smoothing, reduction, softcap)
    as its tests' reference computes it: softcap·tanh(z/softcap) when set, torch's cross_entropy, plus
    lse_square_scale·lse² on the counted rows (summed, then divided by the counted rows for mean)."""
    n, v = r.randint(1, 5), r.randint(2, 6)
    z0 = tensor((n, v), -4, 4, g)
    y, o, ignore = _liger_ce_case(r, g, n, v)
    ins = {'_input': z0, 'target': y}
    if r.random() < 0.3:
        ins['weight'] = tensor((v,), 0.2, 2, g)
    def fn(t):
        z = t['_input']
        if 'softcap' in o:
            z = o['softcap'] * torch.tanh(z / o['softcap'])
        return _liger_ce(z, t['target'], t.get('weight'), o, ignore)
    return 'liger_cross_entropy', ins, o, fn


def g_mce(r, g):
    """dlordinal's MCELoss(num_classes, weight, reduction): softmax of the logits, one-hot targets, the squared error
    of each class averaged over the batch (weighted per class), then mean / sum over the classes or the J values."""
    n, c = r.randint(1, 6), r.randint(2, 6)
    x = tensor((n, c), -4, 4, g)
    y = torch.randint(0, c, (n,), generator=g)
    o = {'reduction': red(r)}
    ins = {'input': x, 'target': y}
    if r.random() < 0.4:
        ins['weight'] = tensor((c,), 0.2, 2, g)
    def fn(t):
        p = torch.softmax(t['input'], dim=1)
        se = (F.one_hot(t['target'], c).to(p.dtype) - p) ** 2
        if 'weight' in t:
            se = se * t['weight'].unsqueeze(0)
        per_class = se.mean(0)
        return {'none': per_class, 'mean': per_class.mean(), 'sum': per_class.sum()}[o['reduction']]
    return 'mce_loss', ins, o, fn


def g_mce_wk(r, g):
    """dlordinal's MCEAndWKLoss(num_classes, C, wk_penalization_type, weight)(input, target): C·WKLoss on the outputs as
    given (pow 2 or 1, row-normalized with ε = 1e-10) + (1 − C)·MCELoss (softmax, per-class MSE, mean over classes)."""
    n, c = r.randint(1, 6), r.randint(2, 6)
    x = tensor((n, c), -3, 3, g)
    y = torch.randint(0, c, (n,), generator=g)
    o = {'C': r.choice((0.5, 0.0, 1.0, 0.3)), 'wk_penalization_type': 'quadratic'}
    if r.random() < 0.3:   # the linear kappa on positive outputs (negative ones can cancel a row's sum)
        o['wk_penalization_type'] = 'linear'
        x = tensor((n, c), 0.1, 3, g)
    ins = {'input': x, 'target': y}
    if r.random() < 0.4:
        ins['weight'] = tensor((c,), 0.2, 2, g)
    def fn(t):
        oh = F.one_hot(t['target'], c).to(torch.float64)
        w = t.get('weight')
        k = torch.arange(c, dtype=torch.float64)
        wk_w = (k.unsqueeze(1) - k.unsqueeze(0)) ** 2 / (c - 1) ** 2
        if w is not None:
            wk_w = wk_w * w.unsqueeze(0)
        pred = t['input'] ** (2 if o['wk_penalization_type'] == 'quadratic' else 1)
        pred = pred / (1e-10 + pred.sum(1, keepdim=True))
        nom = (wk_w * (pred.T @ oh)).sum()
        denom = (wk_w * torch.outer(pred.sum(0), oh.sum(0)) / n).sum()
        wk = nom / (denom + 1e-10)
        se = (oh - torch.softmax(t['input'], 1)) ** 2
        if w is not None:
            se = se * w.unsqueeze(0)
        mce = se.mean(0).mean()
        return o['C'] * wk + (1 - o['C']) * mce
    return 'mce_and_wk_loss', ins, o, fn


def g_ordinal_ecoc(r, g):
    """dlordinal's OrdinalECOCDistanceLoss(num_classes, weights)(input, target): the code matrix (K, K − 1) of ones with
    its upper triangle from the diagonal zeroed (code_q = [q < y]), MSELoss(reduction='sum') against the input, or with
    weights the rows' sums times the true class's weight, summed; none and mean per row here."""
    n, k = r.randint(1, 6), r.randint(2, 6)
    x = tensor((n, k - 1), 0.0, 1.0, g)
    y = torch.randint(0, k, (n,), generator=g)
    o = {'reduction': r.choice(('sum', 'sum', 'none', 'mean'))}
    ins = {'input': x, 'target': y}
    if r.random() < 0.4:
        ins['weights'] = tensor((k,), 0.2, 2, g)
    def fn(t):
        code = torch.ones(k, k - 1, dtype=torch.float64)
        rows_i, cols_i = torch.triu_indices(k, k - 1, 0)
        code[rows_i, cols_i] = 0.0
        rows = ((t['input'] - code[t['target']]) ** 2).sum(1)
        if 'weights' in t:
            rows = rows * t['weights'][t['target']]
        return reduce_rows(rows, o['reduction'])
    return 'ordinal_ecoc_distance_loss', ins, o, fn


def g_slace(r, g):
    """dlordinal's SLACELoss(alpha, num_classes, weight, use_logits)(input, target): softmax targets of −α·|j − y|,
    the prediction accumulated over every class at least as close to y (prox_dom), −Σ q·log(A + 1e-9) per row times
    the true class's weight; dlordinal's mean, and none / sum here."""
    n, k = r.randint(1, 6), r.randint(2, 6)
    use_logits = r.random() < 0.7
    x = tensor((n, k), -3, 3, g) if use_logits else torch.softmax(tensor((n, k), -3, 3, g), 1)
    y = torch.randint(0, k, (n,), generator=g)
    o = {'reduction': r.choice(('mean', 'mean', 'sum', 'none')), 'alpha': r.choice((0.5, 1.0, 3.0)), 'use_logits': use_logits}
    ins = {'input': x, 'target': y}
    if r.random() < 0.4:
        ins['weight'] = tensor((k,), 0.2, 2, g)
    def fn(t):
        p = torch.softmax(t['input'], 1) if use_logits else t['input']
        labels = torch.arange(k)
        prox = (labels.view(1, 1, -1) - labels.view(-1, 1, 1)).abs() <= (labels.view(1, -1, 1) - labels.view(-1, 1, 1)).abs()
        phi = (torch.arange(k, dtype=torch.float64).view(1, -1) - t['target'].double().view(-1, 1)).abs()
        q = torch.softmax(-o['alpha'] * phi, dim=1)
        acc = torch.matmul(prox[t['target']].double(), p.unsqueeze(2)).squeeze(2)
        rows = -(q * torch.log(acc + 1e-9)).sum(1)
        if 'weight' in t:
            rows = rows * t['weight'][t['target']]
        return reduce_rows(rows, o['reduction'])
    return 'slace_loss', ins, o, fn
