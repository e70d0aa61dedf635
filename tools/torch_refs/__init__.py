"""Torch references for tools/torch_diff.py: PyTorch's own losses (pytorch.py), other libraries' losses written
out in torch (metric.py, segmentation.py, libraries.py, optax.py, optax_dice.py, keras.py), and random expressions of
the autograd primitives (expressions.py)."""
