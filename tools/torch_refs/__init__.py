"""Torch references for tools/torch_diff.py: PyTorch's own losses, other libraries' losses written out, and expressions."""
