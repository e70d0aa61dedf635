#!/usr/bin/env python3
"""Fuzz the `losslab loss --batch` protocol with mutations of every catalog example.

Each loss's example request (from `losslab losses NAME`) is mutated: every input replaced by an empty list, a string,
null, NaN, ±1e30, 1e-40, a wrong nesting or length, or removed; every option set to a string, NaN, ±1e9, 1e-300, a
list, null or a bool; an unknown input and option added; the dtype changed. The whole set runs as one batch. Reported:
a batch that does not answer every line (a crash or a kill), a line that is not JSON, an `internal_error` (a bug), an
error code outside the protocol's, and every answer holding NaN (a silent NaN is a finding; ±∞ from inputs of 1e30
usually is the value overflowing float32, as PyTorch's does).

    python3 tools/protocol_fuzz.py --cli src/LossLab.Cli/bin/Release/net10.0/LossLab.Cli [--only NAME,...]
        [--option-sets N --seed S]   (N random combinations of one to three options at boundary values, per loss)
"""
import argparse, copy, json, random, re, subprocess, sys

CODES = {'unknown_loss', 'unsupported_option', 'invalid_shape', 'invalid_value', 'invalid_json', 'invalid_expression'}
BAD_INPUTS = [[], 0, [[[]]], "abc", None, {}, [1, "a"], "NaN", "Infinity", 1e308, 1e-320, True, 3.5, -5, 10**12, [None], [[1], [1, 2]]]
BAD_OPTIONS = ["x", -1, 1e9, -1e9, 0, "NaN", [1, 2], None, True, {}, 1e-300, 2]
SCALINGS = [lambda v: 1e30, lambda v: -1e30, lambda v: 0, lambda v: 1e-40,
            lambda v: -v if isinstance(v, (int, float)) else v, lambda v: v * 1000 if isinstance(v, (int, float)) else v]


def each(v, f):
    return [each(e, f) for e in v] if isinstance(v, list) else f(v)


def has_nan(x):
    if isinstance(x, list):
        return any(has_nan(e) for e in x)
    if isinstance(x, dict):
        return any(has_nan(e) for e in x.values())
    return x == "NaN"


def mutations(case, options):
    def with_(f):
        c = copy.deepcopy(case)
        f(c)
        return c
    for k, v in case['inputs'].items():
        for b in BAD_INPUTS:
            yield with_(lambda c: c['inputs'].__setitem__(k, b))
        for f in SCALINGS:
            yield with_(lambda c: c['inputs'].__setitem__(k, each(v, f)))
        yield with_(lambda c: c['inputs'].pop(k))
        yield with_(lambda c: c['inputs'].__setitem__(k, [v, v]))
        if isinstance(v, list) and v:
            yield with_(lambda c: c['inputs'].__setitem__(k, v[:-1]))
    yield with_(lambda c: c['inputs'].__setitem__('bogus', [1.0]))
    for o in options:
        for b in BAD_OPTIONS:
            yield with_(lambda c: c.setdefault('options', {}).__setitem__(o, b))
    yield with_(lambda c: c.setdefault('options', {}).__setitem__('bogus_option', 1))
    for dt in ("float16", 3, "float64"):
        yield with_(lambda c: c.__setitem__('dtype', dt))


BOUNDARY = {'Float': [0, 1, -1, 2, 0.5, 1e-12, 1e12, 1e-300, 100, 0.999999], 'Int': [0, 1, -1, 2, 3, 100, -100], 'Bool': [True, False]}


def option_sets(case, options, rng, count):
    """`count` copies of the example with one to three options set to boundary values of their type (or any choice)."""
    usable = [o for o in options if o['type'] in BOUNDARY or o['type'] == 'Choice']
    for _ in range(count if usable else 0):
        c = copy.deepcopy(case)
        c.setdefault('options', {})
        for o in rng.sample(usable, min(len(usable), rng.randint(1, 3))):
            c['options'][o['name']] = rng.choice(o['choices']) if o['type'] == 'Choice' else rng.choice(BOUNDARY[o['type']])
        if rng.random() < 0.3:
            c['dtype'] = 'float64'
        yield c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--only', default=None, help='comma-separated loss names')
    ap.add_argument('--option-sets', type=int, default=0, help='also this many random combinations of boundary option values per loss')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    cli = [a.cli] if not a.cli.endswith('.dll') else ['dotnet', a.cli]
    catalog = json.loads(subprocess.run(cli + ['losses', '--format', 'json'], capture_output=True, text=True, check=True).stdout)['losses']
    cases = []
    rng = random.Random(a.seed)
    for entry in catalog:
        name = entry['name']
        if a.only and name not in a.only.split(','):
            continue
        card = subprocess.run(cli + ['losses', name], capture_output=True, text=True).stdout
        m = re.search(r"example\s+echo '(.*?)' \| losslab loss", card, re.S)
        if not m:
            continue
        example = json.loads(re.sub(r"\n\s+", " ", m.group(1)))
        for c in mutations(example, [o['name'] for o in entry['options']]):
            cases.append((name, c))
        for c in option_sets(example, entry['options'], rng, a.option_sets):
            cases.append((name, c))
    lines = [json.dumps(dict({'id': i, 'loss': n}, **c)) for i, (n, c) in enumerate(cases)] + ['not json', '[1, 2]']
    p = subprocess.run(cli + ['loss', '--batch', '-'], input='\n'.join(lines) + '\n', capture_output=True, text=True)
    answers = p.stdout.splitlines()
    findings = []
    if len(answers) != len(lines):
        findings.append(f'the batch answered {len(answers)} of {len(lines)} lines (exit {p.returncode}): {p.stderr[:500]}')
    for line in answers:
        try:
            r = json.loads(line)
        except ValueError:
            findings.append('not JSON: ' + line[:300])
            continue
        i = r.get('id')
        case = cases[int(i)] if i is not None and str(i).isdigit() and int(i) < len(cases) else None
        what = f"{case[0]} options {json.dumps(case[1].get('options'))} dtype {case[1].get('dtype', 'float32')} inputs {json.dumps(case[1]['inputs'])[:200]}" if case else ''
        if 'error' in r:
            if r['error'].get('code') not in CODES:
                findings.append(f"{r['error'].get('code')}: {r['error'].get('message', '')[:300]} <- {what}")
        elif has_nan(r.get('loss')) or has_nan(r.get('grads', {})):
            findings.append(f'NaN: {line[:200]} <- {what}')
    for f in findings:
        print(f)
    print(f'protocol fuzz: {len(cases)} requests over {len({n for n, _ in cases})} losses, {len(findings)} findings')
    return 1 if any(not f.startswith('NaN') for f in findings) else 0


if __name__ == '__main__':
    sys.exit(main())
