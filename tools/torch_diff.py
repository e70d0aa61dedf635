#!/usr/bin/env python3
"""torch_diff.py -- randomized differential test of `losslab loss --batch` against PyTorch.

Every PyTorch-named loss of the catalog (torch_refs/pytorch.py), and the losses of pytorch-metric-learning,
segmentation_models_pytorch, Optax, the modern papers, TRL, Liger-Kernel, ML.NET and Keras 3 written out in torch
(torch_refs/metric.py, segmentation.py, libraries.py, optax.py, optax_dice.py, keras.py): every catalog loss, run on random inputs and random option combinations
(reductions, weights, ignore_index, label smoothing, pos_weight, K-dim and empty inputs, logits far out,
out-of-domain values), in float64 on both sides, or with --dtype float32 LossLab in float32 (its SIMD kernels)
against PyTorch in float64. Values and the gradients of the summed output are compared; a case that PyTorch
rejects must be rejected by LossLab too (with a typed error), and the other way round. PyTorch's NaN where
LossLab raises invalid_value counts as agreement (LossLab is stricter on purpose); the other accepted
differences are the ones README.md lists, each marked below where it is accepted.

Needs /usr/bin/python3 with PyTorch (Debian's python3-torch); the box IoU losses also need torchvision
(python3-torchvision) and are skipped without it. Usage:

    python3 tools/torch_diff.py --cli src/LossLab.Cli/bin/Release/net10.0/LossLab.Cli [--cases 40] [--seed 1]

With --expressions N it also checks N random expressions (`expr:...`) of the autograd primitives (exp, log, sqrt,
abs, relu, sigmoid, tanh, softplus, powers, clamp, + − × ÷, minimum, maximum, where, softmax, log_softmax, sum, mean,
max, logsumexp over an axis) against torch autograd.

Last line: "torch-diff: P agreed (R of them rejected by both), F disagreed over L losses and E expressions"
(exit 1 if F > 0).
"""
import argparse
import json
import math
import random
import shlex
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

from torch_refs import common
from torch_refs.expressions import expression_cases
from torch_refs.keras import (g_keras, g_keras_circle, g_keras_crossentropy, g_keras_ctc, g_keras_distillation, g_keras_focal, g_keras_gce,
                              g_keras_overlap)
from torch_refs.libraries import (g_active_passive, g_asl, g_bitempered, g_clip, g_coral, g_corn, g_cosent, g_cosine_similarity_st, g_distillation, g_distribution_focal, g_dpo, g_flops, g_gce, g_general_robust, g_adaptive_robust, g_sinkhorn, g_kernel_mmd, g_gist, g_gor, g_lambda_loss, g_ldam,
                                  g_grpo, g_js, g_kto, g_linear_ce, g_liger_ce, g_mce, g_mce_wk, g_ordinal_ecoc, g_slace, g_liger_jsd, g_linear_jsd, g_linear_cosine, g_listmle, g_listnet, g_logit_adjusted, g_margin_mse, g_mlnet, g_mnrl,
                                  g_online_contrastive, g_pair_contrastive, g_quality_focal, g_quantile, g_scfocal, g_sce, g_siglip, g_simpo_orpo, g_cpo, g_soft_dtw,
                                  g_st_batch_triplet, g_st_softmax, g_taylor_ce, g_tvd, g_tweedie, g_varifocal, g_emd, g_cdw, g_wk, g_sord, g_unimodal)
from torch_refs.metric import (g_angular, g_angular_loss, g_barlow, g_circle, g_contrastive, g_fast_ap, g_smooth_ap,
                               g_generalized_lifted, g_histogram, g_instance, g_intra_pair_variance, g_lifted,
                               g_margin, g_multi_similarity, g_multiplicative, g_nca, g_npairs, g_ntxent, g_p2sgrad, g_center,
                               g_pnp, g_proxy_anchor, g_ranked_list, g_snr_contrastive, g_soft_triple, g_supcon,
                               g_tcm, g_tuplet, g_vicreg)
from torch_refs.optax import (g_binary, g_cosine, g_crammer_singer, g_fenchel_young, g_fixmatch, g_l2, g_log_cosh,
                              g_mixmatch, g_multiclass_sparsemax, g_optax_ctc, g_optax_triplet, g_perceptron, g_poly,
                              g_ranking, g_row_divergence, g_softmax_ce, with_axis)
from torch_refs.optax_dice import g_optax_binary_dice, g_optax_dice, g_optax_generalized_dice
from torch_refs.pytorch import (corrupt, g_adaptive, g_bce, g_bce_logits, g_box_iou, g_ce, g_cosine_emb, g_ctc, g_rnnt, g_focal, g_gaussian,
                                g_hinge_emb, g_kl, g_margin_ranking, g_multi_margin, g_multilabel_margin,
                                g_multilabel_soft, g_pointwise, g_poisson, g_soft_margin, g_triplet,
                                g_triplet_distance)
from torch_refs.segmentation import g_lovasz, g_mcc, g_overlap, g_soft_bce, g_soft_ce, g_wing

RTOL, ATOL = 1e-8, 1e-13
OPTION_TENSORS = ('weight', 'pos_weight', 'sample_weight', 'where', 'weights', 'class_weights', 'priors', 'ce_weight')
# Gradients LossLab leaves out on purpose: labels that PyTorch's autograd happens to differentiate.
NO_GRAD = {('coral_loss', 'levels'), ('varifocal_loss', 'target'), ('quality_focal_loss', 'score'), ('distribution_focal_loss', 'label'), ('bi_tempered_logistic_loss', 'labels'), ('margin_ranking_loss', 'target'), ('hinge_embedding_loss', 'target'), ('soft_margin_loss', 'target'),
           ('cosine_embedding_loss', 'target'), ('lovasz_hinge', 'target'), ('keras.hinge', 'y_true'),
           ('keras.squared_hinge', 'y_true'), ('keras.categorical_hinge', 'y_true'), ('hinge_loss', 'targets'),
           ('perceptron_loss', 'targets'), ('sparsemax_loss', 'labels'), ('fixmatch_loss', 'unlabeled_weak_logits'),
           ('mixmatch_loss', 'unlabeled_targets'), ('optax.ctc_loss', 'logit_paddings'), ('optax.ctc_loss', 'label_paddings'),
           ('asymmetric_loss', 'target'), ('tweedie_loss', 'target'), ('mcc_loss', 'y_true'),
           ('tvd_loss', 'q'), ('kto_loss', 'policy_KL_logps'), ('kto_loss', 'reference_KL_logps'),
           ('grpo_loss', 'advantages'), ('grpo_loss', 'old_per_token_logps'), ('grpo_loss', 'ref_per_token_logps'),
           ('grpo_loss', 'completion_mask'), ('lambda_loss', 'labels'), ('rank_net_loss', 'labels')}


LOGIT_LOSSES = ('binary_cross_entropy_with_logits', 'cross_entropy', 'sigmoid_focal_loss', 'multilabel_soft_margin_loss',
                'mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'multi_margin_loss', 'triplet_margin_loss')

GENERATORS = {
    'mse_loss': g_pointwise('mse_loss', F.mse_loss),
    'l1_loss': g_pointwise('l1_loss', F.l1_loss),
    'smooth_l1_loss': g_pointwise('smooth_l1_loss', F.smooth_l1_loss, lambda r: {'beta': r.choice((0.0, 0.5, 1.0, 2.0))}),
    'huber_loss': g_pointwise('huber_loss', F.huber_loss, lambda r: {'delta': r.choice((0.5, 1.0, 2.0))}),
    'quantile_loss': g_quantile,
    'tweedie_loss': g_tweedie,
    'asymmetric_loss': g_asl,
    'dpo_loss': g_dpo,
    'logit_adjusted_loss': g_logit_adjusted,
    'distillation_loss': g_distillation,
    'poisson_nll_loss': g_poisson,
    'gaussian_nll_loss': g_gaussian,
    'binary_cross_entropy': g_bce,
    'binary_cross_entropy_with_logits': g_bce_logits,
    'soft_margin_loss': g_soft_margin,
    'cross_entropy': lambda r, g: g_ce(r, g, False),
    'nll_loss': lambda r, g: g_ce(r, g, True),
    'kl_div': g_kl,
    'hinge_embedding_loss': g_hinge_emb,
    'margin_ranking_loss': g_margin_ranking,
    'cosine_embedding_loss': g_cosine_emb,
    'multi_margin_loss': g_multi_margin,
    'multilabel_margin_loss': g_multilabel_margin,
    'multilabel_soft_margin_loss': g_multilabel_soft,
    'triplet_margin_loss': g_triplet,
    'triplet_margin_with_distance_loss': g_triplet_distance,
    'ctc_loss': g_ctc,
    'rnnt_loss': g_rnnt,
    'sigmoid_focal_loss': g_focal,
    'adaptive_log_softmax_with_loss': g_adaptive,
    **{name: g_box_iou(name) for name in ('generalized_box_iou_loss', 'distance_box_iou_loss', 'complete_box_iou_loss')},
    'contrastive_loss': g_contrastive,
    'ntxent_loss': g_ntxent,
    'supcon_loss': g_supcon,
    'multi_similarity_loss': g_multi_similarity,
    'generalized_lifted_structure_loss': g_generalized_lifted,
    'lifted_structure_loss': g_lifted,
    'tuplet_margin_loss': g_tuplet,
    'intra_pair_variance_loss': g_intra_pair_variance,
    'margin_loss': g_margin,
    'signal_to_noise_ratio_contrastive_loss': g_snr_contrastive,
    'ranked_list_loss': g_ranked_list,
    'fast_ap_loss': g_fast_ap,
    'smooth_ap_loss': g_smooth_ap,
    'histogram_loss': g_histogram,
    'pnp_loss': g_pnp,
    'threshold_consistent_margin_loss': g_tcm,
    'p2s_grad_loss': g_p2sgrad,
    'center_loss': g_center,
    'instance_loss': g_instance,
    'angular_loss': g_angular_loss,
    'circle_loss': g_circle,
    'arcface_loss': g_angular('arcface_loss'),
    'cosface_loss': g_angular('cosface_loss'),
    'subcenter_arcface_loss': g_angular('subcenter_arcface_loss'),
    'normalized_softmax_loss': g_angular('normalized_softmax_loss'),
    'proxy_anchor_loss': g_proxy_anchor,
    'large_margin_softmax_loss': g_multiplicative('large_margin_softmax_loss'),
    'sphereface_loss': g_multiplicative('sphereface_loss'),
    'nca_loss': g_nca('nca_loss'),
    'proxy_nca_loss': g_nca('proxy_nca_loss'),
    'soft_triple_loss': g_soft_triple,
    'n_pairs_loss': g_npairs,
    'mcc_loss': g_mcc,
    'soft_bce_with_logits_loss': g_soft_bce,
    'soft_cross_entropy_loss': g_soft_ce,
    'wing_loss': g_wing,
    'tvd_loss': g_tvd,
    'linear_cross_entropy': g_linear_ce,
    'liger_jsd': g_liger_jsd,
    'liger_cross_entropy': g_liger_ce,
    'mce_loss': g_mce,
    'mce_and_wk_loss': g_mce_wk,
    'ordinal_ecoc_distance_loss': g_ordinal_ecoc,
    'slace_loss': g_slace,
    'logits_distillation': g_keras_distillation('logits_distillation'),
    'feature_distillation': g_keras_distillation('feature_distillation'),
    'linear_jsd_loss': g_linear_jsd,
    'linear_cosine_similarity_loss': g_linear_cosine,
    'multiple_negatives_ranking_loss': g_mnrl,
    'cosent_loss': g_cosent('cosent_loss'),
    'angle_loss': g_cosent('angle_loss'),
    'cosine_similarity_loss': g_cosine_similarity_st,
    'margin_mse_loss': g_margin_mse,
    'gist_embed_loss': g_gist,
    'list_net_loss': g_listnet,
    'list_mle_loss': g_listmle,
    'lambda_loss': g_lambda_loss,
    'rank_net_loss': g_lambda_loss,
    'flops_loss': g_flops,
    'clip_loss': g_clip,
    'ldam_loss': g_ldam,
    'taylor_cross_entropy': g_taylor_ce,
    'soft_dtw_loss': g_soft_dtw,
    'coral_loss': g_coral,
    'corn_loss': g_corn,
    'emd_loss': g_emd,
    'cdw_ce_loss': g_cdw,
    'wk_loss': g_wk,
    'sord_loss': g_sord,
    'binomial_ce_loss': g_unimodal('binomial_ce_loss'),
    'poisson_ce_loss': g_unimodal('poisson_ce_loss'),
    'exponential_cross_entropy_loss': g_unimodal('exponential_cross_entropy_loss'),
    'triangular_ce_loss': g_unimodal('triangular_ce_loss'),
    'geometric_loss': g_unimodal('geometric_loss'),
    'beta_ce_loss': g_unimodal('beta_ce_loss'),
    'general_triangular_ce_loss': g_unimodal('general_triangular_ce_loss'),
    'varifocal_loss': g_varifocal,
    'quality_focal_loss': g_quality_focal,
    'distribution_focal_loss': g_distribution_focal,
    'active_passive_loss': g_active_passive,
    'bi_tempered_logistic_loss': g_bitempered,
    'general_robust_loss': g_general_robust,
    'adaptive_robust_loss': g_adaptive_robust,
    'sinkhorn_divergence': g_sinkhorn,
    'kernel_mmd_loss': g_kernel_mmd,
    'siglip_loss': g_siglip,
    'global_orthogonal_regularization_loss': g_gor,
    'pair_contrastive_loss': g_pair_contrastive,
    'online_contrastive_loss': g_online_contrastive,
    'softmax_loss': g_st_softmax,
    **{name: g_st_batch_triplet(name) for name in ('batch_all_triplet_loss', 'batch_hard_triplet_loss', 'batch_semi_hard_triplet_loss')},
    'smoothed_hinge_loss': g_mlnet('smoothed_hinge_loss'),
    'exp_loss': g_mlnet('exp_loss'),
    'simpo_loss': g_simpo_orpo('simpo_loss'),
    'orpo_loss': g_simpo_orpo('orpo_loss'),
    'cpo_loss': g_cpo,
    'kto_loss': g_kto,
    'grpo_loss': g_grpo,
    'barlow_twins_loss': g_barlow,
    'vicreg_loss': g_vicreg,
    'dice_loss': g_overlap('dice_loss'),
    'jaccard_loss': g_overlap('jaccard_loss'),
    'tversky_loss': g_overlap('tversky_loss'),
    'lovasz_hinge': g_lovasz('lovasz_hinge'),
    'lovasz_softmax': g_lovasz('lovasz_softmax'),
    'generalized_cross_entropy': g_gce,
    'symmetric_cross_entropy': g_sce,
    'sparse_categorical_focal_loss': g_scfocal,
    'multiclass_hinge_loss': g_crammer_singer,
    'multiclass_perceptron_loss': g_perceptron,
    'convex_kl_divergence': with_axis(g_row_divergence('convex_kl_divergence')),
    'optax.kl_divergence': with_axis(g_row_divergence('optax.kl_divergence')),
    'optax.kl_divergence_with_log_targets': with_axis(g_row_divergence('optax.kl_divergence_with_log_targets')),
    'js_divergence': g_js,
    'poly_loss_cross_entropy': with_axis(g_poly),
    'hinge_loss': g_binary('hinge_loss'),
    'perceptron_loss': g_binary('perceptron_loss'),
    'sparsemax_loss': g_binary('sparsemax_loss'),
    'l2_loss': g_l2,
    'optax.log_cosh': g_log_cosh,
    'optax.softmax_cross_entropy': with_axis(g_softmax_ce),
    'optax.ctc_loss': g_optax_ctc,
    'fixmatch_loss': g_fixmatch,
    'mixmatch_loss': g_mixmatch,
    'optax.cosine_similarity': with_axis(g_cosine('optax.cosine_similarity')),
    'cosine_distance': with_axis(g_cosine('cosine_distance')),
    'multiclass_sparsemax_loss': g_multiclass_sparsemax,
    'optax.make_fenchel_young_loss': g_fenchel_young,
    'ranking_softmax_loss': g_ranking,
    'optax.triplet_margin_loss': g_optax_triplet,
    'optax.dice_loss': g_optax_dice,
    'optax.binary_dice_loss': g_optax_binary_dice,
    'optax.multiclass_generalized_dice_loss': g_optax_generalized_dice,
    **{name: g_keras(name) for name in (
        'keras.mean_squared_error', 'keras.mean_absolute_error', 'keras.mean_absolute_percentage_error',
        'keras.mean_squared_logarithmic_error', 'keras.huber', 'keras.log_cosh', 'keras.kl_divergence', 'keras.poisson',
        'keras.cosine_similarity', 'keras.hinge', 'keras.squared_hinge', 'keras.categorical_hinge')},
    **{name: g_keras_crossentropy(name) for name in (
        'keras.binary_crossentropy', 'keras.categorical_crossentropy', 'keras.sparse_categorical_crossentropy')},
    'keras.dice': g_keras_overlap('keras.dice'),
    'keras.tversky': g_keras_overlap('keras.tversky'),
    'keras.iou': g_keras_overlap('keras.iou'),
    'keras.binary_focal_crossentropy': g_keras_focal('keras.binary_focal_crossentropy'),
    'keras.categorical_focal_crossentropy': g_keras_focal('keras.categorical_focal_crossentropy'),
    'keras.categorical_generalized_cross_entropy': g_keras_gce,
    'keras.ctc': g_keras_ctc,
    'keras.circle': g_keras_circle,
}


try:
    import torchvision  # noqa: F401  (the box IoU losses are checked against torchvision.ops itself)
except ImportError:
    for _name in ('generalized_box_iou_loss', 'distance_box_iou_loss', 'complete_box_iou_loss'):
        GENERATORS.pop(_name)
    print('torch-diff: the box IoU losses are skipped (no torchvision: apt-get install python3-torchvision)')


def torch_answer(fn, ins, single=False):
    """(value, {name: grad}) or ('error', message). Gradients only for inputs torch can differentiate. single: run
    in float32 (for expressions, whose float32 evaluation rounds every operation, so that both sides take the same
    branch of a comparison that float64 would decide the other way)."""
    def run(grad_names):
        t = {}
        for k, v in ins.items():
            v = v.clone().float() if single and v.is_floating_point() else v.clone()
            if k in grad_names:
                v.requires_grad_(True)
            t[k] = v
        out = fn(t)
        grads = {}
        if grad_names:
            out.sum().backward()
            grads = {k: t[k].grad.double() for k in grad_names if t[k].grad is not None}
        return out.detach().double(), grads
    floats = [k for k, v in ins.items() if v.is_floating_point()]
    try:
        return run(floats)
    except Exception as e:
        msg = str(e)
    # Some targets have no derivative in PyTorch (e.g. binary_cross_entropy's): drop them one at a time.
    for drop in range(len(floats)):
        try:
            return run(floats[:drop] + floats[drop + 1:])
        except Exception:
            pass
    try:
        return run(floats[:1])
    except Exception:
        pass
    try:
        out, _ = run([])
        return out, {}
    except Exception as e:
        return 'error', str(e).splitlines()[0]


def close(a, b, rtol=None, atol=None):
    rtol, atol = RTOL if rtol is None else rtol, ATOL if atol is None else atol
    a = torch.as_tensor(a, dtype=torch.float64)
    b = b.to(torch.float64)
    if a.shape != b.shape:
        if a.numel() == b.numel() == 1:
            a, b = a.reshape(()), b.reshape(())
        else:
            return False, 'shape %s vs torch %s' % (tuple(a.shape), tuple(b.shape))
    both_nan = torch.isnan(a) & torch.isnan(b)
    diff = (a - b).abs()
    ok = both_nan | (a == b) | (diff <= atol + rtol * b.abs())
    if bool(ok.all()):
        return True, ''
    i = int((~ok).flatten().nonzero()[0])
    return False, "at flat index %d: %r vs torch %r (tolerance %.3g)" % (i, a.flatten()[i].item(), b.flatten()[i].item(), atol + rtol * abs(b.flatten()[i].item()))


def encode(x):
    """The protocol spells non-finite numbers as the strings "NaN", "Infinity" and "-Infinity"."""
    if isinstance(x, list):
        return [encode(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return 'NaN' if math.isnan(x) else ('Infinity' if x > 0 else '-Infinity')
    return x


def decode(x):
    if isinstance(x, list):
        return [decode(v) for v in x]
    if isinstance(x, str):
        return float(x)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--cases', type=int, default=40, help='random cases per loss')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--only', default=None, help='comma-separated generator keys (registry aliases)')
    ap.add_argument('--dtype', default='float64', choices=('float64', 'float32'),
                    help='float32: LossLab computes in float32 (its SIMD kernels) on float32-rounded inputs, '
                         'PyTorch in float64; compared to float32 tolerances')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--big', action='store_true', help='some last dimensions (and class counts) up to 300')
    ap.add_argument('--expressions', type=int, default=0,
                    help='also this many random expressions (expr:...) of the autograd primitives')
    ap.add_argument('--rtol', type=float, default=None, help='relative tolerance (default 1e-8 in float64, 2e-5 in float32)')
    ap.add_argument('--atol', type=float, default=None, help='absolute tolerance (default 1e-13 in float64, 2e-6 in float32)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    global RTOL, ATOL
    common.BIG = a.big
    if a.dtype == 'float32':
        RTOL, ATOL = 2e-5, 2e-6
    RTOL = RTOL if a.rtol is None else a.rtol
    ATOL = ATOL if a.atol is None else a.atol
    r = random.Random(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    cases = []
    for name, gen in GENERATORS.items():
        if a.only and name not in a.only.split(','):
            continue
        for _ in range(a.cases):
            loss, ins, opts, fn = gen(r, g)
            corrupt(r, loss, ins)
            if loss in LOGIT_LOSSES and r.random() < 0.15:
                for key in ('input', 'inputs', 'anchor', 'positive', 'negative'):
                    if key in ins:
                        ins[key] = ins[key] * 40.0     # logits far out, where the naive formulas overflow
            if a.dtype == 'float32':
                ins = {k: v.float().double() if v.is_floating_point() else v for k, v in ins.items()}
            cases.append((loss, ins, dict(opts), fn))
    cases += expression_cases(r, g, a.expressions)
    with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as f:
        for i, (loss, ins, opts, fn) in enumerate(cases):
            # PyTorch's weight tensors are LossLab options.
            o = dict(opts, **{k: v.tolist() for k, v in ins.items() if k in OPTION_TENSORS})
            req = {'id': str(i), 'loss': loss, 'dtype': a.dtype,
                   'inputs': {k: encode(v.tolist()) for k, v in ins.items() if k not in OPTION_TENSORS}, 'options': o}
            f.write(json.dumps(req) + '\n')
        path = f.name
    out = subprocess.run(shlex.split(a.cli) + ['loss', '--batch', path], capture_output=True, text=True)
    answers = {}
    for line in out.stdout.splitlines():
        if line.strip():
            d = json.loads(line)
            answers[d.get('id')] = d
    agreed = disagreed = both_rejected = 0
    for i, (loss, ins, opts, fn) in enumerate(cases):
        mine = answers.get(str(i))
        single_expr = a.dtype == 'float32' and loss.startswith('expr:')
        theirs = torch_answer(fn, ins, single=single_expr)
        # Random compositions in float32 can be ill-conditioned (σ′ = σ(1 − σ) near σ = 1): both sides round every
        # operation, in different orders, so expressions get a float32 tolerance of 1 %.
        tolerance = (1e-2, 1e-5) if single_expr else (None, None)
        problems = []
        if mine is None:
            problems.append('no answer')
        elif 'error' in mine and mine['error']['code'] == 'invalid_value' and theirs[0] != 'error' \
                and not bool(torch.isfinite(theirs[0]).all()):
            pass                                       # PyTorch returns NaN where LossLab raises: stricter on purpose
        elif theirs[0] == 'error' or 'error' in mine:
            if not (theirs[0] == 'error' and 'error' in mine):
                problems.append('torch: %s / losslab: %s' % (
                    theirs[1] if theirs[0] == 'error' else 'ok',
                    mine['error']['message'] if 'error' in mine else 'ok'))
        else:
            ok, why = close(decode(mine['loss']), theirs[0], *tolerance)
            if not ok:
                problems.append('value ' + why)
            for k, gt in theirs[1].items():
                if k in OPTION_TENSORS or (loss, k) in NO_GRAD:
                    continue
                gm = mine.get('grads', {}).get(k)
                kept = ins['where'] > 0.5 if 'where' in ins else torch.ones_like(ins[k], dtype=torch.bool)
                if (loss, k) in (('kl_div', 'target'), ('optax.kl_divergence', 'targets')) and not opts.get('log_target'):
                    # Documented: at t = 0 LossLab returns the limit -inf where PyTorch's autograd gives NaN.
                    gt = torch.where((ins[k] == 0) & kept, -math.inf, gt)
                if (loss, k) == ('optax.softmax_cross_entropy', 'labels'):
                    # Documented: the labels' gradient at a −∞ logit is −log p = +∞, its limit (torch's where gives 0).
                    gt = torch.where(torch.isinf(ins['logits']) & kept, math.inf, gt)
                if loss == 'poisson_nll_loss' and k == 'target' and opts['full'] and gm is not None:
                    # Documented: the Stirling term is 0 with gradient 0 where y <= 1; PyTorch's autograd gives NaN at y = 0.
                    zero = (ins['target'] == 0) & torch.isnan(gt)
                    gt = torch.where(zero, torch.as_tensor(decode(gm), dtype=torch.float64), gt)
                if loss == 'sigmoid_focal_loss' and gm is not None:
                    # Documented: where p_t rounds to 1 with γ < 1, PyTorch's autograd gives 0·∞ = NaN; LossLab's
                    # gradient is finite for every γ ≥ 0 (and tiny there).
                    mine_g = torch.as_tensor(decode(gm), dtype=torch.float64)
                    gt = torch.where(torch.isnan(gt) & (mine_g.abs() < 1e-8), mine_g, gt)
                if loss == 'tversky_loss' and float(theirs[0]) == 0 and bool(torch.isnan(gt).all()):
                    # A zero mean raised to γ < 1 has an infinite slope: PyTorch's autograd gives NaN, LossLab 0.
                    continue
                if gm is None:
                    problems.append('no gradient for %s' % k)
                    continue
                ok, why = close(decode(gm), gt, *tolerance)
                if not ok:
                    problems.append('grad %s %s' % (k, why))
        if problems:
            disagreed += 1
            shapes = {k: tuple(v.shape) for k, v in ins.items()}
            print('DIFF %s %s %s: %s' % (loss, json.dumps(opts), shapes, '; '.join(problems)))
            if a.verbose:
                print('   ', json.dumps({k: v.tolist() for k, v in ins.items()}))
        else:
            agreed += 1
            both_rejected += theirs[0] == 'error'
    names = {c[0] for c in cases if not c[0].startswith('expr:')}
    print('torch-diff: %d agreed (%d of them rejected by both), %d disagreed over %d losses and %d expressions'
          % (agreed, both_rejected, disagreed, len(names), a.expressions))
    sys.exit(1 if disagreed else 0)


if __name__ == '__main__':
    main()
