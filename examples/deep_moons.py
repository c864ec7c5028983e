"""Document 003 (003_e7f486d18d6db934.txt, "Build a fully connected network yourself"), with nn.

    python examples/deep_moons.py             # the first 16 epochs (~9 s): still on the plateau
    python examples/deep_moons.py --full      # up to the document's 500 epochs, stopping at 97% (~3 min)
    python examples/deep_moons.py --full --no-early-stop     # all 500 epochs (~4 min)
    python examples/deep_moons.py --quick     # a smoke run of 3 epochs (~2 s)

The document stacks four fully connected sigmoid layers, 2-25-50-25-2, and trains them on 3,000
make_moons points (noise 0.2) split 80/20, one sample at a time in the order of the training set,
with learning rate 0.01, the per-sample loss ½‖a − y‖² on one-hot targets, for 500 epochs, plotting
the training MSE, mean((y − ŷ)²), before every epoch. Its layers start from W = randn(in, out)·√(1/out)
and b = 0.1·randn(1, out). It reports a test accuracy "above 97%".

Here the network is nn.Sequential(Linear(2, 25), Sigmoid(), ..., Linear(25, 2), Sigmoid()) with the
document's initial weights copied in (drawn from np.random.RandomState(seed) in the document's
order), the loss nn.QuadraticCost(reduction="sum") on batches of one (= ½‖a − y‖²), nn.SGD(lr=0.01),
and nn.fit(batch_size=1, shuffle=False) for each epoch. The data are nn.data.make_moons(3000,
noise=0.2, seed) and nn.data.train_test_split(test_size=0.2, seed). The document draws its data
without a seed; here one seed fixes data, split and weights.

What it takes to reach 97% (measured with a fixed seed, per-sample updates at lr 0.01). Training
sits on a plateau first: the MSE falls from 0.41 to 0.09 within ~20 epochs and then barely moves,
with the test accuracy at 85-88% (a nearly straight boundary), until epoch ~150; then the deep sigmoid
stack finds the curve and the MSE drops to ~0.03 by epoch 200 (see mse.png).
  * seed 1 (the default): 97.0% first after epoch 375, 97.2% after 500;
  * seed 3: 97.2% first after epoch 206, 96.7% after 500;
  * seeds 0 and 2: the best is 96.8% within 500 epochs. That is about as good as this data allows:
    with noise 0.2 the two moons overlap, and an RBF support-vector machine gets 97.0% (seed 0) and
    97.3% (seed 2) on the same splits.
So the document's "above 97%" holds for some draws of the data and not for others; it needs hundreds
of epochs either way, which is why the default run stops after 16 epochs (and says so) and --full
runs up to 500, stopping as soon as the test accuracy reaches 97% (--no-early-stop: all 500).
With a larger rate the plateau is shorter (--lr 0.5 reaches 97% after ~32 epochs with seed 1), but
that is no longer the document's setting.

The document's own activation code has two bugs that nn's layers do not share: relu written as
np.max(0, x) (a reduction, which raises for any array) and the tanh derivative 1 − x² applied to the
pre-activation; see nn.reference.KNOWN_BUGS. This network only uses sigmoids.

Figures: the training-MSE curve (the document's plot), the test accuracy per epoch, and the decision
regions of the final network over the test points.
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
from nn.data import make_moons, one_hot, train_test_split  # noqa: E402
from tinygrad_edu import Tensor, no_grad  # noqa: E402

SIZES = (2, 25, 50, 25, 2)
TARGET = 0.97            # the document's "above 97%"
MEASURED = {(1, 0.01): 375, (3, 0.01): 206, (1, 0.5): 32}     # (seed, lr) -> first epoch reaching 97%


def document_data(seed):
    """3,000 moons points with noise 0.2, split 80/20: X_train (2400, 2), X_test (600, 2), y_train,
    y_test (integer labels)."""
    X, y = make_moons(3000, noise=0.2, seed=seed)
    return train_test_split(X, y, test_size=0.2, seed=seed)


def document_net(seed):
    """2-25-50-25-2 with a sigmoid after every layer, initialised as the document's Layer.__init__:
    W = randn(in, out)·√(1/out) (scaled by the fan-out), then b = randn(1, out)·0.1, layer by layer,
    from np.random.RandomState(seed) (the stream np.random.seed(seed) would give)."""
    rs = np.random.RandomState(seed)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        linear = nn.Linear(n_in, n_out, init="zeros")
        with no_grad():
            linear.weight.copy_(rs.randn(n_in, n_out) * np.sqrt(1 / n_out))    # (in, out)
            linear.bias.copy_(rs.randn(1, n_out)[0] * 0.1)                      # (out,), drawn as (1, out)
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


def mse(output, target):
    """The document's curve: mean((y_one_hot − ŷ)²) over every output of the training set."""
    return float(np.mean(np.square(target - output)))


def parse_args(argv):
    parser = example_parser(__doc__, "deep_moons", "up to the document's 500 epochs")
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum number of epochs (default 16; --full 500; --quick 3)")
    parser.add_argument("--no-early-stop", dest="early_stop", action="store_false",
                        help="keep training after the test accuracy reaches 97%%")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (document: 0.01)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data, the split and the weights")
    return parse(parser, argv, {"epochs": (500, 3, 16)}, minimum={"epochs": 1})


def main(argv=None):
    """Train epoch by epoch until the test accuracy reaches 97% (or the epochs run out).

    Returns a dict: mses (training MSE before the first epoch and after each one), train_acc and
    test_acc (after each epoch), epochs_run, reached (the first epoch with test accuracy >= 97%, or
    None), test_accuracy (after the last epoch), figures, seconds.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    X_train, X_test, y_train, y_test = document_data(args.seed)
    Y_train, Y_test = one_hot(y_train, 2), one_hot(y_test, 2)          # (2400, 2), (600, 2)
    model = document_net(args.seed)
    loss_fn = nn.QuadraticCost(reduction="sum")                          # ½‖a − y‖² of the one sample
    opt = nn.SGD(model.parameters(), lr=args.lr)
    print(f"Document 003: 2-25-50-25-2 sigmoid network, {len(X_train)} training and {len(X_test)} test "
          f"points (seed {args.seed}), per-sample updates, lr {args.lr}, up to {args.epochs} epochs")

    with no_grad():
        mses = [mse(model(Tensor(X_train)).data, Y_train)]    # the document's mse before epoch 0
    train_acc, test_acc, reached = [], [], None
    for epoch in range(1, args.epochs + 1):
        # One epoch per fit() call, so the loop can stop as soon as the target is reached: every
        # training sample once, in order, one update each; then the monitor on both sets.
        h = nn.fit(model, loss_fn, opt, (X_train, Y_train), epochs=1, batch_size=1, shuffle=False,
                   eval_data=(X_test, Y_test), metrics=("accuracy", mse), progress=False)
        mses.append(h.extra["train_mse"][0])
        train_acc.append(h.train_acc[0])
        test_acc.append(h.eval_acc[0])
        first_time = reached is None and test_acc[-1] >= TARGET
        if epoch % 10 == 0 or epoch == 1 or first_time:
            print(f"  epoch {epoch:3d}: mse {mses[-1]:.5f}, train accuracy {train_acc[-1]:.4f}, "
                  f"test accuracy {test_acc[-1]:.4f}  ({time.perf_counter() - start:.0f} s)")
        if first_time:
            reached = epoch
            print(f"  -> {TARGET:.0%} test accuracy reached after epoch {epoch}")
            if args.early_stop:
                break
    best = int(np.argmax(test_acc)) + 1
    print(f"after {len(test_acc)} epochs: test accuracy {test_acc[-1]:.4f} (best {max(test_acc):.4f} after "
          f"epoch {best}), training mse {mses[-1]:.5f}")
    if reached is None:
        known = MEASURED.get((args.seed, args.lr))
        print(f"  {TARGET:.0%} not reached yet" + (f": with seed {args.seed} and lr {args.lr} it takes {known} "
                                                  "epochs (run with --full)" if known else ""))

    figures = write_figures(args.out, model, X_test, y_test, mses, test_acc)
    seconds = time.perf_counter() - start
    print(f"figures: {', '.join(figures)}  ({seconds:.1f} s)")
    return {"mses": mses, "train_acc": train_acc, "test_acc": test_acc, "epochs_run": len(test_acc),
            "reached": reached, "test_accuracy": test_acc[-1], "figures": figures, "seconds": seconds}


def write_figures(out, model, X_test, y_test, mses, test_acc):
    from nn.plot import plot_curves, plot_decision_boundary
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, name) for name in ("mse.png", "test_accuracy.png", "boundary.png")]
    epochs = np.arange(1, len(test_acc) + 1)
    figures = [
        plot_curves({"training MSE": mses}, paths[0], xlabel="epoch", ylabel="mean((y − ŷ)²)",
                    title="Document 003: MSE before each epoch"),
        plot_curves({"test": (epochs, test_acc)}, paths[1], xlabel="epoch", ylabel="accuracy",
                    title="Document 003: test accuracy after each epoch"),
        plot_decision_boundary(model, X_test, y_test, paths[2], h=0.02,
                               title=f"2-25-50-25-2 after {len(test_acc)} epochs (test points)"),
    ]
    for fig in figures:
        plt.close(fig)
    return paths


if __name__ == "__main__":
    main()
