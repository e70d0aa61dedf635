"""Torch references for tools/torch_diff.py: PyTorch's own losses (pytorch.py), other libraries' losses written
out in torch (libraries.py, keras.py), and random expressions of the autograd primitives (expressions.py)."""
