#!/usr/bin/env python3
"""Times PyTorch (CPU) on the shapes of LossLab's benchmark, so the two can be compared on one machine.

Usage: /usr/bin/python3 bench/torch_bench.py [--quick] [--json]
Needs Debian's python3-torch (apt-get install python3-torch). Each case runs forward + backward with the
gradient buffer reused (as LossLab's benchmarks do); the reported time is the median of repeated runs, on 1 and
2 threads (torch.set_num_threads).
"""
import argparse
import warnings
import json
import statistics
import time

import torch
import torch.nn.functional as F

CE_SHAPES = [(4096, 10), (4096, 1000), (512, 32000), (64, 128256)]
N_ELEM = 1 << 22


def median_ms(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def fwd_bwd(loss_fn, x, *rest):
    def run():
        x.grad = None if x.grad is None else x.grad.zero_()
        loss = loss_fn(x, *rest)
        loss.backward()
        return loss
    return run


def main():
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    reps = 5 if args.quick else 21
    g = torch.Generator().manual_seed(1)
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for n, c in CE_SHAPES:
            x = (torch.rand(n, c, generator=g) * 8 - 4).requires_grad_()
            t = torch.randint(0, c, (n,), generator=g)
            ms = median_ms(fwd_bwd(F.cross_entropy, x, t), reps)
            results.append({"loss": "cross_entropy", "shape": f"{n}x{c}", "threads": threads, "ms": round(ms, 4)})
        x0 = torch.rand(N_ELEM, generator=g) * 6 - 3
        y0 = torch.rand(N_ELEM, generator=g) * 6 - 3
        labels = (y0 > 0).float()
        probs = torch.sigmoid(x0)
        cases = {
            "mse": (F.mse_loss, x0, y0),
            "l1": (F.l1_loss, x0, y0),
            "huber": (F.huber_loss, x0, y0),
            "smooth_l1": (F.smooth_l1_loss, x0, y0),
            "bce": (F.binary_cross_entropy, probs, labels),
            "bce_with_logits": (F.binary_cross_entropy_with_logits, x0, labels),
            "kl_div": (lambda a, b: F.kl_div(a, b, reduction="mean"), x0, torch.sigmoid(y0)),
        }
        try:
            from torchvision.ops import sigmoid_focal_loss
            cases["sigmoid_focal"] = (lambda a, b: sigmoid_focal_loss(a, b, reduction="mean"), x0, labels)
        except ImportError:
            pass
        for name, (fn, a, b) in cases.items():
            xa = a.clone().requires_grad_()
            ms = median_ms(fwd_bwd(fn, xa, b), reps)
            results.append({"loss": name, "shape": str(N_ELEM), "threads": threads, "ms": round(ms, 4)})
    if args.json:
        print(json.dumps({"torch": torch.__version__, "results": results}, indent=2))
    else:
        print(f"PyTorch {torch.__version__} (CPU), forward + backward, median ms")
        for r in results:
            print(f"{r['loss']:<16} {r['shape']:<12} {r['threads']:>3} {r['ms']:>9.3f}")


if __name__ == "__main__":
    main()
