"""Document 002 (notes on network2.py from "Neural Networks and Deep Learning", chapter 3; see
docs/documents.md), with nn: cross-entropy against the quadratic cost, L2 against L1.

    python examples/network2.py                 # 8×8 digits, 64-30-10, 7 runs of 20 epochs (~10 s)
    python examples/network2.py --full          # 30 epochs each, as the book
    python examples/network2.py --mnist DIR     # 784-30-10 on the MNIST IDX files in DIR, λ = 5.0
    python examples/network2.py --quick         # a smoke run (~2 s)

network2 trains a sigmoid network by mini-batch SGD (η = 0.5, mini-batches of m = 10) and can monitor
the cost and the accuracy on the training and the evaluation data after every epoch. Its two costs,
for sigmoid outputs a = σ(z) and one-hot targets y:

    QuadraticCost     C = ½‖a − y‖²                        δ = (a − y) σ'(z)
    CrossEntropyCost  C = Σ −y ln a − (1 − y) ln(1 − a)    δ = a − y

and its regularised updates, for a training set of n examples:

    L2  w ← (1 − ηλ/n) w − (η/m) Σ∇w       nn.SGD(lr=η, weight_decay=λ/n)
    L1  w ← w − (ηλ/n) sign(w) − (η/m) Σ∇w nn.SGD(lr=η, l1=λ/n)

(biases are not regularised; the notes' own L1 line, (1 − ηλ/n·sign(w))·w, is a bug - see
nn.reference.KNOWN_BUGS - and is not used here). Here every run is nn.MLP([n_in, 30, 10],
activation="sigmoid") with the book's initialisation (weights N(0, 1)/√n_in, biases N(0, 1), drawn
from np.random.RandomState(seed) in network2's order), the cost
nn.QuadraticCost (the network ends with Sigmoid) or nn.CrossEntropyCost (it takes the logits, so the
last layer is linear and the sigmoid lives in the cost), both with reduction="mean" so a mini-batch
gradient is (1/m)Σ∇, trained by nn.fit(batch_size=10, eval_data=...). The monitor is fit's History;
its "total_cost" metric is network2's total_cost: the mean cost plus (λ/2n)Σ‖w‖² (L2) or (λ/n)Σ|w|
(L1), with n the size of the data set measured.

The runs, on the 8×8 digits (1,437 training, 360 evaluation images) unless --mnist is given:
    quadratic + L2, cross-entropy + L2, cross-entropy + L1, cross-entropy without regularisation,
    quadratic + L2 and cross-entropy + L2 from the notes' initialisation (np.random.rand: uniform and
    all positive, where the book draws randn - the difference the notes introduce; the notes' network2
    uses the cross-entropy cost by default), and cross-entropy with the notes' own L1 line (NotesL1SGD,
    the documented bug, in a training run).
λ = 0.5 on the digits: the book's λ = 5.0 is meant for n = 50,000; on 1,437 images the same λ would
weigh 35 times more per example (λ/n is what the update uses) and costs several points of accuracy.

What the run shows (digits, 20 epochs, seed 0): cross-entropy learns at once - 78% evaluation
accuracy after the first epoch - while the quadratic cost starts at chance (9%), because its δ
carries the factor σ'(z), small wherever an output unit is saturated; it catches up later (95.3%
after 20 epochs against 96.9% for cross-entropy + L2). The notes' all-positive initialisation slows
the quadratic cost much further (still at chance after 2 epochs, 87% after 20) and cross-entropy's
first epoch too (45% instead of 78%), which then catches up (96.7%). L1 ends a little below L2 at
this λ (96.7%). The notes' L1 line does not hurt the accuracy here but does the opposite of L1 to
the negative weights: after 20 epochs they sum to about −888, against −499 with the L1 step and
−724 without any regularisation, while the positive weights shrink (495 against 550). Because
total_cost divides the penalty by the size of the set it measures, a regularised run's evaluation
cost (n = 360) carries a 4× larger penalty than its training cost (n = 1,437) and sits well above
it. The printed tables and the figures have the exact numbers.

Then the notes' exercise: rewrite network.py's cost_derivative for the cross-entropy. It becomes
∂C/∂a = (a − y)/(a(1 − a)) (nn.reference.cross_entropy_cost_derivative), and network.py's output
error cost_derivative·σ'(z) (nn.reference.output_delta) is a − y again - until a = σ(z) rounds to
exactly 1.0 (z ≳ 37 in float64): then a(1 − a) = 0, the division gives inf and inf·0 gives NaN. The
example prints a table of z, a, network.py's δ, the engine's gradient of the cost built op by op
(which divides by 1 − a inside log's derivative, so it fails the same way) and network2's δ = a − y,
which folds σ'(z) into the formula and never divides.

Figures: the monitor (total cost and accuracy per epoch, training and evaluation data) of the
quadratic and the cross-entropy run, and the evaluation accuracy and training cost of all seven.
main(argv) returns a dict of the numbers it printed (see main's docstring).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))       # for _cli

import numpy as np  # noqa: E402
from _cli import example_parser, parse  # noqa: E402

import nn  # noqa: E402
import nn.reference as reference  # noqa: E402  (the exercise's formulas, written by hand)
from nn.data import (DatasetNotFoundError, IDXError, MissingDependencyError, load_digits, load_mnist,  # noqa: E402
                     one_hot)
from tinygrad_edu import Tensor, no_grad  # noqa: E402

HIDDEN = 30
ETA = 0.5
MINI_BATCH = 10

# (label, cost, penalty, initialisation); λ is per data set (see LAMBDA). "L1-notes" is the notes' own
# L1 line, a documented bug (NotesL1SGD below).
RUNS = (
    ("quadratic + L2", "quadratic", "L2", "book"),
    ("cross-entropy + L2", "cross-entropy", "L2", "book"),
    ("cross-entropy + L1", "cross-entropy", "L1", "book"),
    ("cross-entropy, no regularisation", "cross-entropy", None, "book"),
    ("quadratic + L2, the notes' rand init", "quadratic", "L2", "notes"),
    ("cross-entropy + L2, the notes' rand init", "cross-entropy", "L2", "notes"),
    ("cross-entropy + the notes' L1 line (bug)", "cross-entropy", "L1-notes", "book"),
)
LAMBDA = {"digits": 0.5, "MNIST": 5.0}
SATURATION_Z = (0.5, 5.0, 20.0, 36.0, 37.0, 40.0)      # pre-activations for the cost_derivative exercise


class NotesL1SGD(nn.SGD):
    """The notes' L1 update, exactly as they write it (a documented bug, see
    nn.reference.KNOWN_BUGS['network2_update_mini_batch_l1_buggy']):

        w ← (1 − η(λ/n)·sign(w)) ∘ w − (η/m) Σ∇w   =   w − η(λ/n)·|w| − (η/m) Σ∇w

    It takes η(λ/n)·|w| off every weight: positive weights shrink in proportion to their size (like
    L2), negative ones grow away from zero. The L1 step is w − η(λ/n)·sign(w) − (η/m)Σ∇w
    (nn.SGD(l1=λ/n)). Weights only (ndim >= 2); biases get the plain gradient step."""

    def __init__(self, params, lr, l1):
        super().__init__(params, lr)
        self.notes_l1 = l1

    def step(self):
        with no_grad():
            for p in self.params:
                if p.grad is not None and p.ndim >= 2:
                    p.mul_(1.0 - self.lr * self.notes_l1 * np.sign(p.data))   # (1 − η(λ/n) sign(w)) ∘ w
        super().step()                                                        # − η ∇w (from .grad)


def load_data(mnist_dir, seed=0):
    """(X_train, y_train, X_eval, y_eval, name); exits with a one-line message if data is missing."""
    try:
        if mnist_dir:
            X_train, y_train = load_mnist(mnist_dir, "train")
            X_eval, y_eval = load_mnist(mnist_dir, "test")
            return X_train, y_train, X_eval, y_eval, "MNIST"
        X_train, X_eval, y_train, y_eval = load_digits(return_split=True, test_size=0.2, seed=seed)
        return X_train, y_train, X_eval, y_eval, "digits"
    except (MissingDependencyError, DatasetNotFoundError, IDXError) as e:
        raise SystemExit(f"network2.py: {e}") from None


def network(n_in, cost, init, seed=0):
    """n_in-30-10 sigmoid network with network2's initial weights, drawn as its
    default_weight_initializer draws them from np.random.seed(seed): first every bias, randn(out, 1),
    then every weight, randn(out, in)/√in. The notes write np.random.rand instead (uniform [0, 1), so
    every bias lies in [0, 1) and every weight in [0, 1/√in)): init="notes". network2's w (out, in) is
    our W.T. For the quadratic cost the network ends with Sigmoid (the cost sees a = σ(z)); for
    cross-entropy it ends with the linear layer (the cost takes z)."""
    model = nn.MLP([n_in, HIDDEN, 10], activation="sigmoid",
                   output_activation="sigmoid" if cost == "quadratic" else None, init="zeros")
    rs = np.random.RandomState(seed)
    draw = rs.rand if init == "notes" else rs.randn
    layers = (model[0], model[2])
    with no_grad():
        for layer in layers:
            layer.bias.copy_(draw(layer.out_features, 1)[:, 0])                     # (out,)
        for layer in layers:
            layer.weight.copy_(draw(layer.out_features, layer.in_features).T        # (in, out)
                               / np.sqrt(layer.in_features))
    return model


def total_cost_metric(model, cost_fn, lam, penalty):
    """network2's total_cost as a metric for nn.fit: f(output, target) -> mean cost + penalty, where
    the penalty uses n = len(target), the size of the set being measured (as network2 does)."""
    def total_cost(output, target):
        with no_grad():
            value = cost_fn(Tensor(output), target).item()
            n = len(target)
            if penalty == "L2":
                value += nn.l2_penalty(model, lam / n).item()       # (λ/2n) Σ‖w‖²
            elif penalty == "L1":
                value += nn.l1_penalty(model, lam / n).item()       # (λ/n) Σ|w|
        return value
    return total_cost


def run(label, cost, penalty, init, data, lam, epochs, seed=0):
    """Train one network as network2.SGD with its four monitor_* flags on; returns (History, model)."""
    X_train, Y_train, X_eval, Y_eval = data
    n = len(X_train)
    model = network(X_train.shape[1], cost, init, seed)
    cost_fn = nn.QuadraticCost("mean") if cost == "quadratic" else nn.CrossEntropyCost("mean")
    if penalty == "L1-notes":
        opt = NotesL1SGD(model.parameters(), lr=ETA, l1=lam / n)
        penalty = "L1"                                 # monitored with the L1 cost it meant to descend
    else:
        regulariser = {"L2": {"weight_decay": lam / n}, "L1": {"l1": lam / n}}.get(penalty, {})
        opt = nn.SGD(model.parameters(), lr=ETA, **regulariser)
    history = nn.fit(model, cost_fn, opt, (X_train, Y_train), epochs=epochs, batch_size=MINI_BATCH,
                     eval_data=(X_eval, Y_eval), seed=seed, progress=False,
                     metrics=("accuracy", total_cost_metric(model, cost_fn, lam, penalty)))
    return history, model


def weight_signs(model):
    """(Σ w over the positive weights, Σ w over the negative ones, how many are negative) of the
    network's weight matrices (biases left out, as the penalties leave them)."""
    w = np.concatenate([layer.weight.data.ravel() for layer in model if isinstance(layer, nn.Linear)])
    return float(w[w > 0].sum()), float(w[w < 0].sum()), int((w < 0).sum())


def saturation_table(zs=SATURATION_Z):
    """The exercise of the notes: network.py's cost_derivative rewritten for the cross-entropy,
    ∂C/∂a = (a − y)/(a(1 − a)), times σ'(z) (network.py's δ), against network2's δ = a − y and against
    the engine's gradient of C(σ(z)) built from log ops, for one output unit with target y = 0.
    Returns rows (z, a, 1 − a, network.py δ, engine δ, network2 δ); NaN where a rounds to 1."""
    z_col = np.array(zs, dtype=np.float64).reshape(-1, 1)                 # (k, 1) pre-activations
    y = np.zeros_like(z_col)
    a = reference.sigmoid(z_col)
    with np.errstate(divide="ignore", invalid="ignore"):                  # the point: 1/0 and inf·0
        by_hand = reference.output_delta(reference.cross_entropy_cost_derivative, z_col, a, y)
        z = Tensor(z_col, requires_grad=True)
        s = z.sigmoid()
        C = (-(y * s.log()) - (1 - y) * (1 - s).log()).sum()             # the cost, op by op
        C.backward()
    network2 = reference.CrossEntropyCost.delta(z_col, a, y)
    return [(float(z_col[i, 0]), float(a[i, 0]), float(1 - a[i, 0]), float(by_hand[i, 0]),
             float(z.grad.data[i, 0]), float(network2[i, 0])) for i in range(len(zs))]


def parse_args(argv):
    parser = example_parser(__doc__, "network2", "30 epochs per run, as the book")
    parser.add_argument("--mnist", metavar="DIR", help="folder with the MNIST IDX files (else: 8x8 digits)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 20; --full 30)")
    parser.add_argument("--lmbda", type=float, default=None,
                        help="regularisation λ (default 0.5 on the digits, 5.0 on MNIST)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, the split and the batches")
    return parse(parser, argv, {"epochs": (30, 2, 20)}, minimum={"epochs": 1})


def main(argv=None):
    """Train the seven runs, print their monitors and final accuracies, write the figures.

    Returns a dict: data, lmbda, epochs, histories (label -> nn.History), models (label -> the trained
    network), final_accuracy (label -> (train, eval) accuracy after the last epoch),
    first_epoch_accuracy (label -> eval accuracy after epoch 1), weight_signs (label -> Σ positive
    weights, Σ negative weights, count of negative weights; for the two L1 runs and the unregularised
    one), saturation (the rows of the cost_derivative table, see saturation_table), figures, seconds.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    X_train, y_train, X_eval, y_eval, name = load_data(args.mnist, args.seed)
    lam = args.lmbda if args.lmbda is not None else LAMBDA[name]
    data = (X_train, one_hot(y_train, 10), X_eval, one_hot(y_eval, 10))   # network2's vectorized_result rows
    print(f"Document 002: network2 on {name}: {X_train.shape[1]}-{HIDDEN}-10 sigmoid, η = {ETA}, mini-batch "
          f"{MINI_BATCH}, λ = {lam}, n = {len(X_train)}, {args.epochs} epochs; evaluation set of {len(X_eval)}")
    histories, models = {}, {}
    for label, cost, penalty, init in RUNS:
        h, models[label] = run(label, cost, penalty, init, data, lam, args.epochs, args.seed)
        histories[label] = h
        print(f"\n{label}:")
        print("  epoch  train cost  train acc  eval cost  eval acc")
        shown = sorted({0, len(h.epoch) - 1} | set(range(4, len(h.epoch), 5)))
        for i in shown:
            print(f"  {h.epoch[i]:5d}  {h.extra['train_total_cost'][i]:10.4f}  {h.train_acc[i]:9.4f}  "
                  f"{h.extra['eval_total_cost'][i]:9.4f}  {h.eval_acc[i]:8.4f}")

    final = {label: (h.train_acc[-1], h.eval_acc[-1]) for label, h in histories.items()}
    first = {label: h.eval_acc[0] for label, h in histories.items()}
    print(f"\nFinal accuracies after {args.epochs} epoch{'s' if args.epochs != 1 else ''} "
          "(evaluation accuracy after epoch 1 in brackets):")
    for label, (train_acc, eval_acc) in final.items():
        print(f"  {label:42s} train {train_acc:.4f}   eval {eval_acc:.4f}   [{first[label]:.4f}]")

    # The notes' L1 line in a training run: what it does to the weights.
    signs = {label: weight_signs(models[label]) for label in
             ("cross-entropy + L1", "cross-entropy + the notes' L1 line (bug)", "cross-entropy, no regularisation")}
    print("\nThe notes' L1 line, (1 − η(λ/n)·sign(w))·w, takes η(λ/n)·|w| off every weight: negative weights")
    print("grow away from zero. After training, the weight matrices hold:")
    for label, (pos, neg, count) in signs.items():
        print(f"  {label:42s} Σ w>0: {pos:7.1f}   Σ w<0: {neg:8.1f}   ({count} negative)")

    # The exercise: cost_derivative for the cross-entropy, and why network2 does not use it.
    table = saturation_table()
    print("\nThe exercise: network.py's δ = cost_derivative(a, y)·σ'(z) with the cross-entropy's cost_derivative")
    print("(a − y)/(a(1 − a)), for one output with target 0, against network2's δ = a − y. Where a = σ(z)")
    print("rounds to exactly 1.0 (z ≳ 37 in float64), a(1 − a) is 0 and the division gives 1/0, then inf·0 = NaN;")
    print("so does the engine's gradient of the cost built op by op (log(1 − a) is log 0). network2 cancels")
    print("σ'(z) by hand and nn.CrossEntropyCost works on z itself, so neither ever divides by a(1 − a).")
    print(f"  {'z':>5}  {'a = σ(z)':>18}  {'1 − a':>9}  {'network.py δ':>12}  {'engine, op by op':>16}  "
          f"{'network2 δ':>10}")
    for z, a, rest, by_hand, engine, net2 in table:
        print(f"  {z:5.1f}  {a:18.16f}  {rest:9.2e}  {by_hand:12.6f}  {engine:16.6f}  {net2:10.6f}")

    figures = write_figures(args.out, histories)
    seconds = time.perf_counter() - start
    print(f"\nfigures: {', '.join(figures)}  ({seconds:.1f} s)")
    return {"data": name, "lmbda": lam, "epochs": args.epochs, "histories": histories, "models": models,
            "final_accuracy": final, "first_epoch_accuracy": first, "weight_signs": signs,
            "saturation": table, "figures": figures, "seconds": seconds}


def write_figures(out, histories):
    """The monitor of the first two runs (quadratic and cross-entropy cost, both with L2: total cost and
    accuracy on training and evaluation data, per epoch) and two comparisons of every run (evaluation
    accuracy; training cost)."""
    from nn.plot import plot_curves, plot_history
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    paths = []
    for i, (label, h) in enumerate(list(histories.items())[:2], start=1):
        path = os.path.join(out, f"monitor_{i}.png")
        plt.close(plot_history(h, path, metrics=("total_cost", "accuracy"), title=label))
        paths.append(path)
    acc_path, cost_path = os.path.join(out, "eval_accuracy.png"), os.path.join(out, "train_cost.png")
    plt.close(plot_curves({label: (h.epoch, h.eval_acc) for label, h in histories.items()}, acc_path,
                          xlabel="epoch", ylabel="accuracy on the evaluation data",
                          title="Document 002: cross-entropy vs quadratic cost, L2 vs L1"))
    plt.close(plot_curves({label: (h.epoch, h.extra["train_total_cost"]) for label, h in histories.items()},
                          cost_path, xlabel="epoch", ylabel="total cost on the training data", logy=True,
                          title="network2's total_cost (each run with its own cost function)"))
    return paths + [acc_path, cost_path]


if __name__ == "__main__":
    main()
