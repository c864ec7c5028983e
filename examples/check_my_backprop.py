"""Check your own backprop: document 000's 2-3-2 moons network, its backward written by hand, checked.

    python examples/check_my_backprop.py               # the planted mistake, its report, then the fix
    python examples/check_my_backprop.py --explain     # also the true backward pass, step by step
    python examples/check_my_backprop.py --draw DIR    # also the graph, wrong gradients in red

This file is written the way a learner of document 000 writes the network: a forward pass in plain
NumPy (z1 = X·W1 + b1, a1 = tanh z1, z2 = a1·W2 + b2, softmax, cross-entropy averaged over the N
points, plus the L2 penalty (λ/2)(‖W1‖² + ‖W2‖²) averaged with it) and a backward pass derived by
hand. The first backward has a mistake that is easy to make and hard to see: the tanh derivative
1 − y² written in terms of the layer's OUTPUT y = tanh(z), but applied to the pre-activation z
(document 003 makes exactly this one). Training with it still lowers the loss for a while, so nothing
looks wrong. tinygrad_edu.check_backprop runs the same forward on Tensors, gets the true gradients
by autodiff (and confirms them by central differences), and names the mistake; the fixed backward
then passes.

The file is also a valid input for the command line:

    tinygrad-edu check examples/check_my_backprop.py   # uses forward, backward, params, data below

and the three lines of a test suite for it:

    from check_my_backprop import forward, backward, params, data
    def test_my_backprop(assert_backprop):
        assert_backprop(forward, backward, params(), *data())

main(argv) returns the two reports (with the mistake, fixed).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import numpy as np  # noqa: E402

import tinygrad_edu as te  # noqa: E402
from nn.data import make_moons  # noqa: E402

REG_LAMBDA = 0.01          # document 000's λ


def data():
    """Document 000's data: 200 moons points with noise 0.2 (scikit-learn's, after seed 0)."""
    return make_moons(200, noise=0.2, seed=0)


def params():
    """Document 000's initialisation for 3 hidden units: W = randn / √fan_in, b = 0."""
    rng = np.random.RandomState(0)
    return {"W1": rng.randn(2, 3) / np.sqrt(2), "b1": np.zeros((1, 3)),
            "W2": rng.randn(3, 2) / np.sqrt(3), "b2": np.zeros((1, 2))}


def forward(params, X, y):
    """The loss: mean cross-entropy of the softmax outputs, plus the L2 penalty (also over N)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    num_examples = len(X)
    z1 = X.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    corect_logprobs = -np.log(probs[range(num_examples), y])
    data_loss = np.sum(corect_logprobs)
    data_loss += REG_LAMBDA / 2 * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
    return 1. / num_examples * data_loss


def backward_with_mistake(params, X, y):
    """The hand-derived gradients, with the tanh derivative taken at the pre-activation z1."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    num_examples = len(X)
    z1 = X.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    delta3 = probs.copy()
    delta3[range(num_examples), y] -= 1                 # ŷ − y
    delta3 /= num_examples                              # the loss is a mean
    dW2 = (a1.T).dot(delta3) + REG_LAMBDA / num_examples * W2
    db2 = np.sum(delta3, axis=0, keepdims=True)
    delta2 = delta3.dot(W2.T) * (1 - np.power(z1, 2))   # the mistake: 1 − y² needs y = a1, not z1
    dW1 = np.dot(X.T, delta2) + REG_LAMBDA / num_examples * W1
    db1 = np.sum(delta2, axis=0, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def backward(params, X, y):
    """The same, fixed: tanh'(z1) = 1 − tanh²(z1) = 1 − a1²."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    num_examples = len(X)
    z1 = X.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    delta3 = probs.copy()
    delta3[range(num_examples), y] -= 1
    delta3 /= num_examples
    dW2 = (a1.T).dot(delta3) + REG_LAMBDA / num_examples * W2
    db2 = np.sum(delta3, axis=0, keepdims=True)
    delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))   # the fix
    dW1 = np.dot(X.T, delta2) + REG_LAMBDA / num_examples * W1
    db1 = np.sum(delta2, axis=0, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explain", action="store_true", help="also print the true backward pass, step by step")
    parser.add_argument("--draw", metavar="DIR", help="write the graph of the mistake to DIR (SVG with Graphviz's "
                        "dot, else DOT text)")
    args = parser.parse_args(argv)
    X, y = data()

    print("1. The backward with the mistake\n")
    wrong = te.check_backprop(forward, backward_with_mistake, params(), X, y)
    print(wrong)
    if args.explain:
        print(wrong.explain())
    if args.draw:
        os.makedirs(args.draw, exist_ok=True)
        try:
            path = wrong.draw(os.path.join(args.draw, "mistake.svg"))
        except te.GraphvizNotFound:
            path = os.path.join(args.draw, "mistake.dot")
            with open(path, "w", encoding="utf-8") as f:
                f.write(wrong.to_dot())
        print(f"The graph, W1 and b1 in red: {path}\n")

    print("2. Fixed\n")
    fixed = te.check_backprop(forward, backward, params(), X, y)
    print(fixed)
    return wrong, fixed


if __name__ == "__main__":
    main()
