"""Random custom-loss expressions (expr:...) of the autograd primitives, with their torch counterparts."""
import torch

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


