"""Optax's segmentation losses (optax/losses/_segmentation.py: dice_loss, binary_dice_loss,
multiclass_generalized_dice_loss), written out in torch from their source."""
import torch
import torch.nn.functional as F

from .common import reduce_rows, tensor


def optax_dice(x, t, o, generalized=False, binary=False):
    """optax.losses.dice_loss in torch, following its source: rank fix-ups, activation, sums over the spatial axes."""
    if binary and x.dim() == t.dim() and x.shape[-1] != 1:
        x, t = x.unsqueeze(-1), t.unsqueeze(-1)
    if x.dim() == t.dim() - 1:
        x = x.unsqueeze(-1)
    if t.dim() == x.dim() - 1:
        t = t.unsqueeze(-1)
    if x.shape != t.shape:
        raise ValueError('shapes')
    c = x.shape[-1]
    if not o.get('apply_softmax', True):
        if c == 1:   # LossLab checks probabilities (README: Optax's sum-to-1 check rejects every one-class map)
            if bool(((x < 0) | (x > 1)).any()):
                raise ValueError('not probabilities')
        elif x.numel() and not bool(torch.isclose(x.sum(-1), torch.ones((), dtype=x.dtype), rtol=1e-5, atol=1e-8).all()):
            raise ValueError('rows do not sum to 1')
        p = x
    else:
        p = torch.sigmoid(x) if c == 1 else torch.softmax(x, -1)
    axis = o.get('axis')
    axis = tuple(range(1, p.dim() - 1)) if axis is None else tuple(a % p.dim() for a in axis)
    def total(v):
        return v.sum(dim=axis) if axis else v
    inter, ps, ts = total(p * t), total(p), total(t)
    s, a, b = o.get('smooth', 1.0), o.get('alpha', 0.5), o.get('beta', 0.5)
    dice = 1 - (inter + s) / (inter + a * (ps - inter) + b * (ts - inter) + s)
    if generalized:
        f = t.reshape(-1, c).sum(0)
        w = 1 / (f ** 2 + 1e-7)
        dice = dice * (w / w.sum() * c)
    elif 'class_weights' in o:
        dice = dice * o['class_weights']
    if o.get('ignore_background') and c > 1:
        dice = dice[..., 1:]
    if generalized:   # Optax: the mean; LossLab's reduction may also keep (samples…, classes) or sum
        return reduce_rows(dice, o.get('reduction', 'mean'))
    return {'mean': lambda v: v.mean(-1), 'sum': lambda v: v.sum(-1), 'none': lambda v: v}[o.get('reduction', 'mean')](dice)


def dice_case(r, g, classes, soft_ok=True):
    spatial = [r.randint(1, 4) for _ in range(r.choice((0, 1, 2)))]
    shape = (r.randint(1, 3), *spatial, classes)
    x = tensor(shape, -3, 3, g)
    labels = torch.randint(0, classes, shape[:-1], generator=g)
    t = F.one_hot(labels, classes).to(torch.float64) if classes > 1 or r.random() < 0.5 else (torch.rand(shape, generator=g) < 0.5).to(torch.float64)
    if soft_ok and r.random() < 0.3:
        t = torch.softmax(tensor(shape, -2, 2, g), -1) if classes > 1 else tensor(shape, 0, 1, g)
    return x, t


def g_optax_dice(r, g):
    c = r.choice((1, 2, 3, 4))
    x, t = dice_case(r, g, c)
    o = {'reduction': r.choice(('mean', 'sum', 'none')), 'smooth': r.choice((1.0, 1.0, 0.5, 1e-3, 0.0)),
         'ignore_background': r.random() < 0.2}
    if r.random() < 0.4:
        o['alpha'], o['beta'] = r.choice(((0.3, 0.7), (0.7, 0.3), (1.0, 1.0)))
    if r.random() < 0.25:
        o['apply_softmax'] = False
        x = torch.softmax(x, -1) if c > 1 else torch.sigmoid(x)
    if x.dim() >= 3 and r.random() < 0.3:
        o['axis'] = [r.choice([d for d in range(x.dim() - 1)])]
    ins = {'predictions': x, 'targets': t}
    if r.random() < 0.25:
        ins['class_weights'] = tensor((c,), 0.2, 2, g)
    if c == 1 and x.dim() > 1 and r.random() < 0.3:
        ins['predictions'] = x.squeeze(-1)    # a missing class axis is added back
    def fn(tt):
        oo = dict(o, **({'class_weights': tt['class_weights']} if 'class_weights' in tt else {}))
        return optax_dice(tt['predictions'], tt['targets'], oo)
    return 'optax.dice_loss', ins, o, fn


def g_optax_binary_dice(r, g):
    spatial = [r.randint(1, 4) for _ in range(r.choice((1, 2)))]
    shape = (r.randint(1, 3), *spatial) + ((1,) if r.random() < 0.2 else ())
    x, t = tensor(shape, -3, 3, g), (torch.rand(shape, generator=g) < 0.5).to(torch.float64)
    o = {'smooth': r.choice((1.0, 0.5, 1e-3)), 'apply_sigmoid': r.random() < 0.8, 'reduction': r.choice(('none', 'mean', 'sum'))}
    if not o['apply_sigmoid']:
        x = torch.sigmoid(x)
    def fn(tt):   # Optax: one value per sample; LossLab's reduction on top
        v = optax_dice(tt['predictions'], tt['targets'], {'smooth': o['smooth'], 'apply_softmax': o['apply_sigmoid']}, binary=True)
        return reduce_rows(v, o['reduction'])
    return 'optax.binary_dice_loss', {'predictions': x, 'targets': t}, o, fn


def g_optax_generalized_dice(r, g):
    c = r.choice((2, 3, 4, 1))
    x, t = dice_case(r, g, c)
    o = {'smooth': r.choice((1.0, 0.5, 1e-3)), 'ignore_background': r.random() < 0.3, 'reduction': r.choice(('mean', 'mean', 'sum', 'none'))}
    if r.random() < 0.2:
        o['apply_softmax'] = False
        x = torch.softmax(x, -1) if c > 1 else torch.sigmoid(x)
    def fn(tt):
        return optax_dice(tt['predictions'], tt['targets'], o, generalized=True)
    return 'optax.multiclass_generalized_dice_loss', {'predictions': x, 'targets': t}, o, fn
