#!/usr/bin/env python3
"""Audit losses' values and gradients at extreme inputs against mpmath, in units in the last place (ulp).

Each loss below is written out from its definition in mpmath (60 to 80 digits) and evaluated at inputs where naive
formulas lose digits: logits of ±700 and ±1e4, probabilities within 2⁻⁵³ of 0 and 1, residuals of 1e-300 and 1e200,
confident softmax rows such as (40, 0, 0). The CLI answers them in one `losslab loss --batch` run with reduction
"none"; the script prints every case more than --ulps from the reference and each loss's worst error.

    python3 tools/accuracy_audit.py --cli src/LossLab.Cli/bin/Release/net10.0/LossLab.Cli [--dtype float32] [--ulps 64]

Results in the subnormal range (below 2.2e-308) are avoided: there an intermediate such as e^−745 keeps one bit, and
an ulp count means little. The inputs are chosen where the answer is well conditioned: at e^{−βz} with βz = 700 the rounding of the product βz
alone moves the exact answer by 175 ulp, which no implementation working from that product can avoid.

In float64 it exits 1 when a case is off by more than --ulps. In float32 the inputs are rounded to float32 first and
errors count float32 ulps; it only reports, since the fused float32 kernels round confident rows as PyTorch does (a
loss of 8.5e-18 at (40, 0, 0) comes out 0) and flush probabilities below e^−87 to the smallest normal float.
"""
import argparse, json, math, struct, subprocess, sys

import mpmath as mp

mp.mp.dps = 80


def sig(x):
    return 1 / (1 + mp.exp(-x))


def softplus(x):
    return max(x, 0) + mp.log1p(mp.exp(-abs(x)))


def softmax(x):
    m = max(x)
    e = [mp.exp(v - m) for v in x]
    s = mp.fsum(e)
    return [v / s for v in e], m + mp.log(s)


# ------------------------------------------------------------------ elementwise losses: (name, input names, reference)
def bce(p, y):
    lp = max(mp.log(p), -100) if p > 0 else mp.mpf(-100)
    l1p = max(mp.log1p(-p), -100) if p < 1 else mp.mpf(-100)
    return -(y * lp + (1 - y) * l1p), [(p - y) / max(p * (1 - p), mp.mpf(1e-12))]


def bce_logits(x, y):
    return (max(x, 0) - y * x) + mp.log1p(mp.exp(-abs(x))), [(1 - y) * sig(x) - y * sig(-x)]


def soft_margin(x, y):
    return softplus(-y * x), [-y * sig(-y * x)]


def poisson(x, t):
    return mp.exp(x) - t * x, [mp.exp(x) - t]


def gaussian(x, t, var):
    v = max(var, mp.mpf(1e-6))
    return (mp.log(v) + (x - t) ** 2 / v) / 2, [(x - t) / v]


def huber(x, t):
    d = x - t
    return (d * d / 2, [d]) if abs(d) <= 1 else (abs(d) - mp.mpf(0.5), [mp.sign(d)])


def kl(lp, q):
    return (mp.mpf(0), [mp.mpf(0)]) if q == 0 else (q * (mp.log(q) - lp), [-q])


def log_cosh(yt, yp):
    d = yp - yt
    return mp.log(mp.cosh(d)), [None, mp.tanh(d)]


def focal(x, y, alpha=mp.mpf(0.25)):
    def f(z):
        p = sig(z)
        ce = y * softplus(-z) + (1 - y) * softplus(z)
        return (alpha * y + (1 - alpha) * (1 - y)) * ce * (1 - (p * y + (1 - p) * (1 - y))) ** 2
    return f(x), [mp.diff(f, x)]


def dpo(pc, pr, rc, rr, beta=mp.mpf(0.1)):
    z = beta * ((pc - pr) - (rc - rr))
    return softplus(-z), [-beta * sig(-z)]


def robust(x, t, alpha):
    u = (x - t) ** 2
    if alpha == 0:
        return mp.log(u / 2 + 1), [(x - t) / (u / 2 + 1)]
    b = abs(alpha - 2)
    return b / alpha * ((u / b + 1) ** (alpha / 2) - 1), [(x - t) * (u / b + 1) ** (alpha / 2 - 1)]


def tweedie(x, y, rho=mp.mpf(1.5)):
    mu = mp.exp(x)
    yterm = y ** (2 - rho) / ((1 - rho) * (2 - rho)) if y > 0 else 0
    v = 2 * (yterm - y * mu ** (1 - rho) / (1 - rho) + mu ** (2 - rho) / (2 - rho))
    return v, [2 * (mu ** (2 - rho) - y * mu ** (1 - rho))]


def bce_logits_pos_weight(x, y, pw=mp.mpf(3)):
    # (1 − y)x + (1 + (pw − 1)y)·softplus(−x), with (1 − y)x = (1 − y)(softplus(x) − softplus(−x)): no cancellation.
    return (1 - y) * softplus(x) + pw * y * softplus(-x), [(1 - y) * sig(x) - pw * y * sig(-x)]


def poisson_full(x, t):
    stirling = t * mp.log(t) - t + mp.log(2 * mp.pi * t) / 2 if t > 1 else 0
    return mp.exp(x) - t * x + stirling, [mp.exp(x) - t]


def kl_log_target(lp, lq):
    return mp.exp(lq) * (lq - lp), [-mp.exp(lq)]


def smooth_l1(x, t, beta=mp.mpf(1e-8)):
    d = x - t
    return (d * d / (2 * beta), [d / beta]) if abs(d) < beta else (abs(d) - beta / 2, [mp.sign(d)])


XS = [-745, -700, -100, -40, -20, -1, -1e-5, -1e-10, -1e-300, 0, 1e-300, 1e-10, 1e-5, 0.5, 1, 17, 20, 40, 100, 700, 745]
PS = [1e-300, 1e-200, 1e-40, 1e-20, 1e-12, 1e-8, 1e-5, 0.001, 0.3, 0.5, 0.7, 0.999, 1 - 1e-5, 1 - 1e-8, 1 - 2**-40, 1 - 2**-52, 1 - 2**-53]
ELEMENTWISE = [
    ('binary_cross_entropy', ('input', 'target'), bce, [(p, y) for p in PS for y in (0.0, 1.0, 0.3, 1e-10, 1 - 1e-10)]),
    ('binary_cross_entropy_with_logits', ('input', 'target'), bce_logits, [(x, y) for x in XS for y in (0.0, 1.0, 0.3, 1e-10)]),
    ('binary_cross_entropy_with_logits', ('input', 'target'), bce_logits_pos_weight, [(x, y) for x in XS for y in (0.0, 1.0, 0.3)], {'pos_weight': [3.0]}),
    ('keras.binary_crossentropy', ('y_true', 'y_pred'), lambda y, x: (lambda v, g: (v, [None, g[0]]))(*bce_logits(x, y)),
     [(y, x) for x in XS for y in (0.0, 1.0, 0.3)], {'from_logits': True}),
    ('soft_margin_loss', ('input', 'target'), soft_margin, [(x, y) for x in XS for y in (1.0, -1.0)]),
    ('poisson_nll_loss', ('input', 'target'), poisson, [(x, t) for x in (-700, -40, -1e-10, 0, 1e-10, 1, 40, 700) for t in (0.0, 1.0, 3.0, 1e-10)]),
    ('gaussian_nll_loss', ('input', 'target', 'var'), gaussian,
     [(x, t, v) for x in (0.0, 1e-10, 1.0, 1e10) for t in (0.0, 1.0 + 1e-12) for v in (1e-6, 1.0, 1e10, 1e-3)]),
    ('poisson_nll_loss', ('input', 'target'), poisson_full, [(x, t) for x in (-40, -1e-10, 0, 1, 40) for t in (0.0, 1.0, 1.5, 3.0, 1e10)], {'full': True}),
    ('kl_div', ('input', 'target'), kl_log_target, [(lp, lq) for lp in (-700, -20, -1e-10, 0) for lq in (-700, -20, -1e-10, 0)], {'log_target': True}),
    ('smooth_l1_loss', ('input', 'target'), smooth_l1, [(x, t) for x in (1e-300, 1e-10, 5e-9, 1, 1e200) for t in (0.0, -1e-10)], {'beta': 1e-8}),
    ('huber_loss', ('input', 'target'), huber, [(x, t) for x in (1e-200, 1e-10, 0.5, 1, 2, 1e200) for t in (0.0, -1e-10, 1e100)]),
    ('kl_div', ('input', 'target'), kl, [(lp, q) for lp in (-700, -20, -1e-10, 0) for q in (0.0, 1e-300, 1e-10, 0.5, 1.0)]),
    ('keras.log_cosh', ('y_true', 'y_pred'), log_cosh, [(0.0, x) for x in (1e-300, 1e-10, 1e-5, 0.5, 20, 100, 700, 1000)]),
    ('multilabel_soft_margin_loss', ('input', 'target'), bce_logits, [(x, y) for x in XS for y in (0.0, 1.0)]),
    ('dpo_loss', ('policy_chosen_logps', 'policy_rejected_logps', 'reference_chosen_logps', 'reference_rejected_logps'), dpo,
     [(z, 0.0, 0.0, 0.0) for z in (-400, -10, -1e-8, 0, 1e-8, 10, 400)] + [(-50.25, -50.0, -60.0, -60.5), (1e-3, 0.0, 1e-3, 1e-12)]),
    ('tweedie_loss', ('input', 'target'), tweedie, [(x, y) for x in (-20, -1e-10, 0, 1e-10, 1e-5, 5) for y in (0.0, 1.0, 1e-10, 2.5)]),
    ('sigmoid_focal_loss', ('inputs', 'targets'), focal, [(x, y) for x in (-700, -40, -20, -1, -1e-10, 0, 1e-10, 1, 20, 40, 700) for y in (0.0, 1.0)]),
]
TWO_D = {'multilabel_soft_margin_loss', 'keras.log_cosh', 'keras.binary_crossentropy'}


# ------------------------------------------------------------------ softmax rows: (name, options, reference, request)
def ce(x, y, eps=mp.mpf(0)):
    p, lse = softmax(x)
    c = len(x)
    return lse - (1 - eps) * x[y] - eps / c * mp.fsum(x), [p[j] - (1 - eps) * (j == y) - eps / c for j in range(c)]


def poly1(x, y, e=2):
    p, lse = softmax(x)
    return (lse - x[y]) + e * mp.fsum(p[j] for j in range(len(x)) if j != y), [p[j] - (j == y) - e * p[y] * ((j == y) - p[j]) for j in range(len(x))]


def softmax_focal(x, y, g=2):
    p, lse = softmax(x)
    lp, q = x[y] - lse, mp.fsum(p[j] for j in range(len(x)) if j != y)
    return -(q ** g) * lp, [(g * q ** (g - 1) * p[y] * lp - q ** g) * ((j == y) - p[j]) for j in range(len(x))]


ROWS = [[1e4, 0, -1e4], [40, 0, 0], [0, 1e-10, -1e-10], [-745, 0, 745], [20, 20, 20 + 1e-6], [0.5, -0.25, 3.0], [100, 99, 98], [-30, 30, 0], [1e-30, 0, 0]]
SOFTMAX = [
    ('cross_entropy', {}, ce, lambda r, y: {'input': [r], 'target': [y]}),
    ('cross_entropy', {'label_smoothing': 0.1}, lambda x, y: ce(x, y, mp.mpf(0.1)), lambda r, y: {'input': [r], 'target': [y]}),
    ('poly1', {'epsilon': 2.0}, poly1, lambda r, y: {'logits': [r], 'labels': [[1.0 if j == y else 0.0 for j in range(len(r))]]}),
    ('sparse_categorical_focal_loss', {}, softmax_focal, lambda r, y: {'input': [r], 'target': [y]}),
    ('keras.categorical_crossentropy', {'from_logits': True}, ce, lambda r, y: {'y_true': [[1.0 if j == y else 0.0 for j in range(len(r))]], 'y_pred': [r]}),
    ('keras.sparse_categorical_crossentropy', {'from_logits': True}, ce, lambda r, y: {'y_true': [y], 'y_pred': [r]}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64')
    ap.add_argument('--ulps', type=float, default=64)
    a = ap.parse_args()
    cli = ['dotnet', a.cli] if a.cli.endswith('.dll') else [a.cli]
    eps, tiny = (2.0**-52, 5e-324) if a.dtype == 'float64' else (2.0**-23, 1.4e-45)

    def rounded(v):
        return struct.unpack('f', struct.pack('f', v))[0] if a.dtype == 'float32' and abs(v) < 3.4e38 else float(v)

    def ulps(ours, ref):
        if isinstance(ours, str):
            ours = float(ours.replace('Infinity', 'inf'))
        top = 1.7976931348623157e308 if a.dtype == 'float64' else 3.4028234663852886e38
        if mp.isinf(ref) or math.isinf(ours):
            # past the type's largest number the right answer is ∞
            return 0.0 if math.isinf(ours) and (mp.isinf(ref) or abs(ref) > top) and (ours > 0) == (ref > 0) else math.inf
        return float(abs(mp.mpf(ours) - ref) / max(abs(ref) * eps, mp.mpf(tiny)))

    lines, cases = [], []
    for entry in ELEMENTWISE:
        name, names, ref, points = entry[:4]
        options = entry[4] if len(entry) > 4 else {}
        key = name + (json.dumps(options) if options else '')
        for point in points:
            vals = tuple(rounded(v) for v in point)
            inputs = {n: ([[v]] if name in TWO_D else [v]) for n, v in zip(names, vals)}
            opts = dict(options, reduction='none')
            lines.append(json.dumps({'id': len(cases), 'loss': name, 'inputs': inputs, 'options': opts, 'dtype': a.dtype}))
            cases.append((key, vals, lambda vals=vals, ref=ref: ref(*[mp.mpf(v) for v in vals]), names))
    for name, options, ref, request in SOFTMAX:
        for row in ROWS:
            for y in range(3):
                r = [rounded(v) for v in row]
                lines.append(json.dumps({'id': len(cases), 'loss': name, 'inputs': request(r, y), 'options': dict(options, reduction='none'), 'dtype': a.dtype}))
                key = name + (json.dumps(options) if options else '')
                cases.append((key, (r, y), lambda r=r, y=y, ref=ref: ref([mp.mpf(v) for v in r], y), None))
    p = subprocess.run(cli + ['loss', '--batch', '-'], input='\n'.join(lines) + '\n', capture_output=True, text=True)
    worst, bad = {}, 0

    def flat(v):
        return flat(v[0]) if isinstance(v, list) else v
    for line in p.stdout.splitlines():
        res = json.loads(line)
        name, point, ref, names = cases[int(res['id'])]
        if 'error' in res:
            print(f"error {name} {point}: {res['error']['message'][:160]}")
            continue
        value, grads = ref()
        e = ulps(flat(res['loss']), value)
        if names is None:   # a softmax row: the gradient of the row's logits
            g = next(res['grads'][k] for k in ('input', 'logits', 'y_pred') if k in res['grads'])[0]
            ge = max(ulps(g[j], grads[j]) for j in range(len(grads)))
        else:
            ge = max((ulps(flat(res['grads'][n]), grads[k]) for k, n in enumerate(names) if k < len(grads) and grads[k] is not None and n in res['grads']), default=0.0)
        if e > a.ulps or ge > a.ulps:
            bad += 1
            print(f"{name} at {point}: value {flat(res['loss'])} vs {mp.nstr(value, 17)} ({e:.3g} ulp), gradient off by {ge:.3g} ulp")
        w = worst.setdefault(name, [0.0, 0.0])
        w[0], w[1] = max(w[0], e), max(w[1], ge)
    for name, (e, ge) in worst.items():
        print(f"{name}: worst value {e:.3g} ulp, gradient {ge:.3g} ulp")
    print(f"accuracy audit ({a.dtype}): {len(cases)} cases over {len(worst)} losses, {bad} beyond {a.ulps:g} ulp")
    return 1 if bad and a.dtype == 'float64' else 0


if __name__ == '__main__':
    sys.exit(main())
