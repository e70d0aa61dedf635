"""Random custom-loss expressions (expr:...) of the autograd primitives, with their torch counterparts."""
import torch
import torch.nn.functional as F

from .common import softplus, tensor


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
        return repr(c), lambda t, c=c: torch.tensor(c, dtype=t['input'].dtype)
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


def catalog_term(r):
    """A catalog loss called inside an expression, on random sub-expressions, with keyword options."""
    (a, fa), (b, fb) = expr_node(r, 2), expr_node(r, 2)
    a, b = '(%s + 0*input)' % a, '(%s + 0*target)' % b
    ea = lambda t: fa(t).expand(t['input'].shape)
    eb = lambda t: fb(t).expand(t['input'].shape)
    k = r.randrange(6)
    if k == 0:
        return 'mse_loss(%s, %s)' % (a, b), lambda t: F.mse_loss(ea(t), eb(t))
    if k == 1:
        beta = r.choice((0.5, 1.0))
        return 'smooth_l1_loss(%s, %s, beta=%r)' % (a, b, beta), lambda t: F.smooth_l1_loss(ea(t), eb(t), beta=beta)
    if k == 2:
        delta = r.choice((0.5, 2.0))
        return "huber_loss(%s, %s, delta=%r, reduction='sum')" % (a, b, delta), \
            lambda t: F.huber_loss(ea(t), eb(t), delta=delta, reduction='sum')
    if k == 3:
        return 'binary_cross_entropy_with_logits(%s, sigmoid(%s))' % (a, b), \
            lambda t: F.binary_cross_entropy_with_logits(ea(t), torch.sigmoid(eb(t)))
    if k == 4:
        return "kl_div(log_softmax(%s), softmax(%s), reduction='batchmean')" % (a, b), \
            lambda t: F.kl_div(torch.log_softmax(ea(t), 1), torch.softmax(eb(t), 1), reduction='batchmean')
    eps = r.choice((0.0, 0.1))
    return 'cross_entropy(%s, softmax(%s), label_smoothing=%r)' % (a, b, eps), \
        lambda t: F.cross_entropy(ea(t), torch.softmax(eb(t), 1), label_smoothing=eps)


def expression_cases(r, g, count):
    cases = []
    for _ in range(count):
        if r.random() < 0.3:
            term, tf = catalog_term(r)
            w = r.choice((0.5, 1.0, 2.0))
            n, c = r.randint(1, 4), r.randint(1, 4)
            ins = {'input': tensor((n, c), rng=g), 'target': tensor((n, c), rng=g)}
            cases.append(('expr:%r*%s + 0*sum(input) + 0*sum(target)' % (w, term), ins, {},
                          lambda t, tf=tf, w=w: w * tf(t) + 0 * t['input'].sum() + 0 * t['target'].sum()))
            continue
        text, fn = expr_node(r, r.randint(1, 4))
        n, c = r.randint(1, 4), r.randint(1, 4)
        ins = {'input': tensor((n, c), rng=g), 'target': tensor((n, c), rng=g)}
        outer = r.choice(('mean', 'sum'))
        reduce = torch.mean if outer == 'mean' else torch.sum
        # + 0*input + 0*target: an expression must use every input of the request.
        cases.append(('expr:%s(%s + 0*input + 0*target)' % (outer, text), ins, {},
                      lambda t, fn=fn, reduce=reduce: reduce(fn(t).expand(t['input'].shape) + 0 * t['input'] + 0 * t['target'])))
    return cases


