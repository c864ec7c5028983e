"""Document 003 ("Build a fully connected network yourself"; see docs/documents.md), with nn.

    python examples/deep_moons.py             # seeds 1 and 0, the first 10 epochs each (~8 s)
    python examples/deep_moons.py --full      # the document's 500 epochs, for both seeds (~9 min)
    python examples/deep_moons.py --quick     # a smoke run: seed 1, 3 epochs (~2 s)

The document stacks four fully connected sigmoid layers, 2-25-50-25-2, and trains them on 3,000
make_moons points (noise 0.2) split 80/20, one sample at a time in the order of the training set,
with learning rate 0.01, the per-sample loss ½‖a − y‖² on one-hot targets, for 500 epochs, plotting
the training MSE, mean((y − ŷ)²), before every epoch. Its layers start from W = randn(in, out)·√(1/out)
and b = 0.1·randn(1, out). It draws the data first ("moon plot") and reports a test accuracy "above
97%".

Here the network is nn.Sequential(Linear(2, 25), Sigmoid(), ..., Linear(25, 2), Sigmoid()) with the
document's initial weights copied in, the loss nn.QuadraticCost(reduction="sum") on batches of one
(= ½‖a − y‖²), nn.SGD(lr=0.01), and nn.fit(batch_size=1, shuffle=False) for each epoch. The document
draws everything from NumPy's global random state without seeding it; document_draw(seed) draws what
its code draws after np.random.seed(seed), in the same order from one stream: make_moons(3000,
noise=0.2) (nn.data.make_moons is scikit-learn's, bit for bit), train_test_split(test_size=0.2)
(scikit-learn's split is one permutation, the first 600 indices for the test set), then each layer's
W and b.

Whether the document's 97% comes out depends on that draw. Training sits on a plateau first: the MSE
falls from ~0.25 to ~0.09 within a few dozen epochs and then barely moves, with the test accuracy at 87-88%
(a nearly straight boundary). Measured with the document's 500 epochs (and unchanged when a starting
weight moves by one ulp, so not a matter of rounding):
  * seed 1: the deep sigmoid stack finds the curve near epoch 250-300 (the MSE drops from 0.088 to
    0.039); the test accuracy first reaches 97% after epoch 300 and is 97.0% after epoch 500 - the
    document's number;
  * seed 0: still on the plateau after 500 epochs, 87.7% (the best, 88.2%, came at epoch 17).
The default run shows the first epochs of both; --full runs all 500 epochs of both (a few minutes).
A larger rate shortens the plateau (--lr 0.5), but that is no longer the document's setting.

The document's own activation code has two bugs that nn's layers do not share: relu written as
np.max(0, x) (a reduction, which raises for any array) and the tanh derivative 1 − x² applied to the
pre-activation; see nn.reference.KNOWN_BUGS. This network only uses sigmoids.

Figures: the moon plot (the training points of the first seed), the training-MSE curves (the
document's plot), the test accuracy per epoch, and the decision regions of each final network over
its test points.
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
from nn.data import make_moons, one_hot  # noqa: E402
from tinygrad_edu import Tensor, no_grad  # noqa: E402

SIZES = (2, 25, 50, 25, 2)
TARGET = 0.97            # the document's "above 97%"
DOCUMENT_EPOCHS = 500
# Measured with the document's settings (lr 0.01, 500 epochs), the same from starts one ulp apart:
# seed -> (first epoch with test accuracy >= 97% or None, test accuracy after epoch 500)
MEASURED = {1: (300, 0.970), 0: (None, 0.877)}


def document_draw(seed):
    """What the document's code draws after np.random.seed(seed), in its order, from one stream:
    make_moons(3000, noise=0.2); train_test_split(test_size=0.2), which takes one permutation and
    puts its first 600 indices in the test set; then, layer by layer, W = randn(in, out)·√(1/out) and
    b = randn(1, out)·0.1. Returns X_train (2400, 2), X_test (600, 2), y_train, y_test (integer
    labels) and the 2-25-50-25-2 sigmoid network holding those weights."""
    rs = np.random.RandomState(seed)                  # the stream np.random.seed(seed) starts
    X, y = make_moons(3000, noise=0.2, seed=rs)
    order = rs.permutation(len(X))
    test, train = order[:600], order[600:]
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        linear = nn.Linear(n_in, n_out, init="zeros")
        with no_grad():
            linear.weight.copy_(rs.randn(n_in, n_out) * np.sqrt(1 / n_out))    # (in, out)
            linear.bias.copy_(rs.randn(1, n_out)[0] * 0.1)                      # (out,), drawn as (1, out)
        layers += [linear, nn.Sigmoid()]
    return X[train], X[test], y[train], y[test], nn.Sequential(*layers)


def mse(output, target):
    """The document's curve: mean((y_one_hot − ŷ)²) over every output of the training set."""
    return float(np.mean(np.square(target - output)))


def parse_args(argv):
    parser = example_parser(__doc__, "deep_moons", "the document's 500 epochs, for both seeds")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per seed (default 10; --full 500; --quick 3)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seeds of the draw (default: 1 0; --quick: 1)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (document: 0.01)")
    return parse(parser, argv, {"epochs": (DOCUMENT_EPOCHS, 3, 10), "seeds": ([1, 0], [1], [1, 0])},
                 minimum={"epochs": 1})


def train_seed(seed, epochs, lr, start, report_every):
    """The document's run for one draw. Returns a dict: model, data (X_train, X_test, y_train, y_test),
    mses (training MSE before the first epoch and after each one), train_acc and test_acc (after
    each epoch), reached (the first epoch with test accuracy >= 97%, or None)."""
    X_train, X_test, y_train, y_test, model = document_draw(seed)
    Y_train, Y_test = one_hot(y_train, 2), one_hot(y_test, 2)          # (2400, 2), (600, 2)
    loss_fn = nn.QuadraticCost(reduction="sum")                          # ½‖a − y‖² of the one sample
    opt = nn.SGD(model.parameters(), lr=lr)
    with no_grad():
        mses = [mse(model(Tensor(X_train)).data, Y_train)]    # the document's mse before epoch 0
    train_acc, test_acc, reached = [], [], None
    for epoch in range(1, epochs + 1):
        # One epoch per fit() call: every training sample once, in order, one update each; then the
        # monitor on both sets.
        h = nn.fit(model, loss_fn, opt, (X_train, Y_train), epochs=1, batch_size=1, shuffle=False,
                   eval_data=(X_test, Y_test), metrics=("accuracy", mse), progress=False)
        mses.append(h.extra["train_mse"][0])
        train_acc.append(h.train_acc[0])
        test_acc.append(h.eval_acc[0])
        first_time = reached is None and test_acc[-1] >= TARGET
        if first_time:
            reached = epoch
        if epoch % report_every == 0 or epoch == 1 or first_time:
            print(f"  seed {seed}, epoch {epoch:3d}: mse {mses[-1]:.5f}, train accuracy {train_acc[-1]:.4f}, "
                  f"test accuracy {test_acc[-1]:.4f}" + ("  <- 97% reached" if first_time else "")
                  + f"  ({time.perf_counter() - start:.0f} s)")
    return {"model": model, "data": (X_train, X_test, y_train, y_test), "mses": mses, "train_acc": train_acc,
            "test_acc": test_acc, "reached": reached}


def main(argv=None):
    """Train each seed's draw for --epochs epochs; print the progress and a summary; write the figures.

    Returns a dict: runs (seed -> the dict of train_seed, plus test_accuracy after the last epoch),
    epochs_run, figures, seconds.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    print(f"Document 003: 2-25-50-25-2 sigmoid network, 2400 training and 600 test points, per-sample updates, "
          f"lr {args.lr}, {args.epochs} epochs, seeds {' and '.join(map(str, args.seeds))}")
    report_every = 50 if args.epochs > 100 else 5
    runs = {}
    for seed in args.seeds:
        runs[seed] = run = train_seed(seed, args.epochs, args.lr, start, report_every)
        run["test_accuracy"] = run["test_acc"][-1]

    print(f"\nAfter {args.epochs} epochs:")
    for seed, run in runs.items():
        best = int(np.argmax(run["test_acc"])) + 1
        reached = (f"97% first after epoch {run['reached']}" if run["reached"] else "97% not reached")
        print(f"  seed {seed}: test accuracy {run['test_accuracy']:.4f} (best {max(run['test_acc']):.4f} after "
              f"epoch {best}), training mse {run['mses'][-1]:.5f}; {reached}")
    if args.epochs < DOCUMENT_EPOCHS and args.lr == 0.01:
        print(f"  With the document's {DOCUMENT_EPOCHS} epochs (--full; measured, and the same from starts one "
              "ulp apart):")
        for seed, (first, final) in MEASURED.items():
            print(f"    seed {seed}: " + (f"97% first after epoch {first}, " if first else "stays on the plateau, ")
                  + f"{final:.1%} after epoch {DOCUMENT_EPOCHS}")
        print("  So the document's 97% depends on the draw: seed 1 escapes the plateau, seed 0 does not.")

    figures = write_figures(args.out, runs)
    seconds = time.perf_counter() - start
    print(f"figures: {', '.join(figures)}  ({seconds:.1f} s)")
    return {"runs": runs, "epochs_run": args.epochs, "figures": figures, "seconds": seconds}


def write_figures(out, runs):
    """The moon plot, the MSE and test-accuracy curves of every seed, and one decision-boundary panel
    per seed over that seed's test points. Returns the four paths."""
    from nn.plot import plot_curves, plot_decision_boundary, plot_points, save_figure
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, name) for name in ("moon_plot.png", "mse.png", "test_accuracy.png", "boundary.png")]
    first_seed = next(iter(runs))
    X_train, _, y_train, _ = runs[first_seed]["data"]
    figures = [
        plot_points(X_train, y_train, paths[0],
                    title=f"moon plot: the {len(X_train)} training points (seed {first_seed})"),
        plot_curves({f"seed {s}": r["mses"] for s, r in runs.items()}, paths[1], xlabel="epoch",
                    ylabel="mean((y − ŷ)²)", title="Document 003: training MSE before each epoch"),
        plot_curves({f"seed {s}": (np.arange(1, len(r["test_acc"]) + 1), r["test_acc"]) for s, r in runs.items()},
                    paths[2], xlabel="epoch", ylabel="accuracy", title="Document 003: test accuracy after each epoch"),
    ]
    fig, axes = plt.subplots(1, len(runs), figsize=(5.2 * len(runs), 4.2), layout="constrained", squeeze=False)
    for ax, (seed, run) in zip(axes[0], runs.items()):
        _, X_test, _, y_test = run["data"]
        plot_decision_boundary(run["model"], X_test, y_test, ax=ax, h=0.02,
                               title=f"seed {seed} after {len(run['test_acc'])} epochs: "
                                     f"test accuracy {run['test_accuracy']:.3f}")
    save_figure(fig, paths[3])
    figures.append(fig)
    for f in figures:
        plt.close(f)
    return paths


if __name__ == "__main__":
    main()
