"""The `tinygrad-edu` command: a thin layer over the public APIs of tinygrad_edu and nn."""
import argparse
import sys

import numpy as np

import tinygrad_edu as te


def _demo(args):
    """Train a tiny 2-3-2 tanh network on XOR-like points with the engine alone."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    W1 = te.Tensor(rng.standard_normal((2, 8)) / np.sqrt(2), requires_grad=True)
    b1 = te.Tensor(np.zeros(8), requires_grad=True)
    W2 = te.Tensor(rng.standard_normal((8, 2)) / np.sqrt(8), requires_grad=True)
    b2 = te.Tensor(np.zeros(2), requires_grad=True)
    params = [W1, b1, W2, b2]
    for step in range(2001):
        loss = ((te.Tensor(X) @ W1 + b1).tanh() @ W2 + b2).softmax_cross_entropy(y)
        for p in params:
            p.zero_grad()
        loss.backward()
        with te.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-0.5)
        if step % 500 == 0:
            print(f"step {step:5d}  loss {loss.item():.6f}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="tinygrad-edu", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {te.__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="train a small network and show its loss").set_defaults(func=_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
