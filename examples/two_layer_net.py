"""Document 001 (mini-batch SGD with a TwoLayerNet; see docs/documents.md), with nn.

    python examples/two_layer_net.py                    # 8×8 digits, 64-50-10, 5,000 iterations (~8 s)
    python examples/two_layer_net.py --full             # the document's 10,000 iterations
    python examples/two_layer_net.py --mnist DIR        # 784-50-10 on the MNIST IDX files in DIR
    python examples/two_layer_net.py --quick            # a smoke run (~2 s)

The document builds a 784-50-10 network (sigmoid hidden layer, softmax output, cross-entropy loss,
weights 0.01·randn, zero biases) and trains it on MNIST with mini-batches of 100 drawn by
np.random.choice (with replacement), learning rate 0.1, 10,000 iterations. Its gradients come from
*numerical* differentiation, (f(x + h) − f(x − h)) / 2h for every weight, and it notes that training
is very slow - backpropagation is the cure.

Here the network is nn.MLP([n_in, 50, 10], activation="sigmoid", init="normal") (normal means
N(0, 0.01²), the document's weight_init_std), the loss nn.SoftmaxCrossEntropy() (mean over the batch;
the book adds 1e-7 inside the log, which we do not need: the fused op is stable), the optimizer
nn.SGD(lr=0.1), and the loop is the document's: draw a batch with replacement, compute the gradient,
update, record the batch loss. Without MNIST files the 1,797 8×8 digits bundled with scikit-learn stand
in (64-50-10, 80/20 split); nothing is downloaded.

Then it answers the document's closing question with numbers:
  * the numerical gradient (tinygrad_edu.numerical_gradient, h = 1e-4, every parameter) and the
    autodiff gradient of the same batch agree: the maximum absolute difference is about 1e-11 on the
    digits (well under 1e-6; relative to the largest gradient entry, about 1e-9);
  * autodiff is thousands of times faster: the numerical gradient needs two forward passes per
    parameter, 7,520 of them, where backprop needs one forward and one backward pass. The script
    times both on the same batch of 100 several times and prints the ratio of the medians and the
    ratio of the fastest runs; neither is a constant - they move with the machine and its load (for
    64-50-10 on our shared 2-core test machine we saw from about 2,800× to 12,500× between runs).
    It also estimates how long the document's 10,000 iterations would take with numerical gradients
    (one to three hours here). At MNIST's size, 784-50-10, one numerical gradient is 79,520 forward
    passes: about 20 s against half a millisecond, tens of thousands of times slower, and the
    document's run would spend about two days in them.

Figures: the batch loss per iteration, and train/test accuracy per epoch.
main(argv) returns a dict of the numbers it printed (see main's docstring).
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))       # for _cli

import numpy as np  # noqa: E402
from _cli import example_parser, parse  # noqa: E402

import nn  # noqa: E402
from nn.data import DatasetNotFoundError, IDXError, MissingDependencyError, load_digits, load_mnist  # noqa: E402
from tinygrad_edu import Tensor, no_grad, numerical_gradient  # noqa: E402

HIDDEN = 50
BATCH_SIZE = 100
LEARNING_RATE = 0.1


def load_data(mnist_dir, seed=0):
    """(x_train, t_train, x_test, t_test, name): MNIST from IDX files in mnist_dir, or the 8×8 digits.
    Exits with a one-line message when the files or scikit-learn are missing."""
    try:
        if mnist_dir:
            x_train, t_train = load_mnist(mnist_dir, "train")     # (60000, 784) in [0, 1], (60000,)
            x_test, t_test = load_mnist(mnist_dir, "test")        # (10000, 784), (10000,)
            return x_train, t_train, x_test, t_test, "MNIST"
        x_train, x_test, t_train, t_test = load_digits(return_split=True, test_size=0.2, seed=seed)
        return x_train, t_train, x_test, t_test, "8x8 digits (scikit-learn)"
    except (MissingDependencyError, DatasetNotFoundError, IDXError) as e:
        raise SystemExit(f"two_layer_net.py: {e}") from None


def two_layer_net(n_in, seed=0):
    """TwoLayerNet as nn layers: Linear(n_in, 50), Sigmoid, Linear(50, 10); weights 0.01·N(0, 1),
    biases 0. The softmax is inside the loss."""
    return nn.MLP([n_in, HIDDEN, 10], activation="sigmoid", init="normal", rng=seed)


def batch_loss(model, loss_fn, x, t):
    """The mean cross-entropy of one batch as a float, without recording a graph."""
    with no_grad():
        return loss_fn(model(Tensor(x)), t).item()


def autodiff_gradient(model, loss_fn, x, t):
    """Every parameter's gradient by one forward and one backward pass: {name: ndarray}."""
    model.zero_grad()
    loss_fn(model(Tensor(x)), t).backward()
    return {name: p.grad.data.copy() for name, p in model.named_parameters()}


def numeric_gradient(model, loss_fn, x, t):
    """Every parameter's gradient the document's way: central differences, h = 1e-4, two forward
    passes per parameter element (numerical_gradient perturbs the parameter in place and restores it)."""
    loss = lambda _: batch_loss(model, loss_fn, x, t)     # noqa: E731 (the book's idiom: ignores its argument)
    return {name: numerical_gradient(loss, p) for name, p in model.named_parameters()}


def timed(fn, repeats):
    """(the result of the first call, the times of `repeats` calls in seconds)."""
    result, times = None, []
    for i in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
        result = value if i == 0 else result
    return result, times


def train(model, loss_fn, x_train, t_train, x_test, t_test, iters, seed=0):
    """The document's loop: iters mini-batches of BATCH_SIZE drawn with replacement. Returns the batch
    loss after each update and the train/test accuracy at the end of every epoch (train_size /
    batch_size iterations), as lists."""
    opt = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    rng = np.random.RandomState(seed)                  # np.random.choice's generator, seeded
    iter_per_epoch = max(len(x_train) // BATCH_SIZE, 1)
    losses, train_acc, test_acc = [], [], []
    for i in range(iters):
        mask = rng.choice(len(x_train), BATCH_SIZE)    # (100,) indices, with replacement
        x_batch, t_batch = x_train[mask], t_train[mask]
        loss = loss_fn(model(Tensor(x_batch)), t_batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(batch_loss(model, loss_fn, x_batch, t_batch))   # after the update, as the document
        if (i + 1) % iter_per_epoch == 0 or i == iters - 1:
            train_acc.append(float(np.mean(model.predict(x_train) == t_train)))
            test_acc.append(float(np.mean(model.predict(x_test) == t_test)))
    return losses, train_acc, test_acc


def parse_args(argv):
    parser = example_parser(__doc__, "two_layer_net", "the document's 10,000 iterations")
    parser.add_argument("--mnist", metavar="DIR", help="folder with the MNIST IDX files (else: 8x8 digits)")
    parser.add_argument("--iters", type=int, default=None, help="training iterations (default 5000; document 10000)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs of each gradient (default 3 numerical, 21 autodiff; --quick and "
                             "--mnist: 2 numerical)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, the split and the batches")
    return parse(parser, argv, {"iters": (10000, 800, 5000)}, minimum={"iters": 1})


def main(argv=None):
    """Train, compare the two gradients, time them; print everything and write the figures.

    Returns a dict: data (name), sizes ([n_in, 50, 10]), losses (batch loss per iteration), train_acc
    and test_acc (per epoch), max_abs_diff and max_rel_diff (numerical vs autodiff, every parameter),
    numerical_times and autodiff_times (every timed run), numerical_seconds and autodiff_seconds (their
    medians), speedup (the ratio of the medians), speedup_range (the lower and the higher of two
    ratios: of the medians and of the fastest runs), n_params, figures, seconds.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    x_train, t_train, x_test, t_test, name = load_data(args.mnist, args.seed)
    n_in = x_train.shape[1]
    model = two_layer_net(n_in, args.seed)
    loss_fn = nn.SoftmaxCrossEntropy()
    results = {"data": name, "sizes": [n_in, HIDDEN, 10]}
    print(f"Document 001: TwoLayerNet {n_in}-{HIDDEN}-10 on {name}: {len(x_train)} training and "
          f"{len(x_test)} test images; batch {BATCH_SIZE}, lr {LEARNING_RATE}, {args.iters} iterations")

    losses, train_acc, test_acc = train(model, loss_fn, x_train, t_train, x_test, t_test, args.iters, args.seed)
    results.update(losses=losses, train_acc=train_acc, test_acc=test_acc)
    print(f"  batch loss: first {losses[0]:.4f}, last {losses[-1]:.4f}")
    print(f"  after {len(train_acc)} epochs: train accuracy {train_acc[-1]:.4f}, test accuracy {test_acc[-1]:.4f}")

    # The same batch for both gradients: the first BATCH_SIZE training images. Each gradient is timed
    # over a few runs (the first numerical run is also the one compared).
    x, t = x_train[:BATCH_SIZE], t_train[:BATCH_SIZE]
    n_num = args.repeats or (2 if args.quick or args.mnist else 3)      # MNIST: ~20 s per numerical gradient
    n_auto = args.repeats or (5 if args.quick else 21)
    auto, auto_times = timed(lambda: autodiff_gradient(model, loss_fn, x, t), n_auto)
    numeric, numeric_times = timed(lambda: numeric_gradient(model, loss_fn, x, t), n_num)
    numeric_seconds, auto_seconds = statistics.median(numeric_times), statistics.median(auto_times)
    diffs = {k: np.abs(auto[k] - numeric[k]) for k in auto}
    scale = max(max(np.abs(g).max() for g in auto.values()), 1e-300)
    results["max_abs_diff"] = float(max(d.max() for d in diffs.values()))
    results["max_rel_diff"] = results["max_abs_diff"] / scale
    results["n_params"] = int(model.num_parameters())
    print(f"\nGradients of the loss on one batch of {BATCH_SIZE}, all {results['n_params']:,} parameters:")
    for k in auto:
        print(f"  {k:9s} {str(auto[k].shape):10s} max |autodiff − numerical| = {diffs[k].max():.2e}"
              f"   (largest gradient entry {np.abs(auto[k]).max():.2e})")
    print(f"  overall: {results['max_abs_diff']:.2e} (relative to the largest entry: {results['max_rel_diff']:.2e})")

    results["numerical_seconds"], results["autodiff_seconds"] = numeric_seconds, auto_seconds
    results["numerical_times"], results["autodiff_times"] = numeric_times, auto_times
    results["speedup"] = numeric_seconds / auto_seconds
    # Two honest summaries of noisy timings: the ratio of the medians and the ratio of the fastest runs
    # (the least disturbed ones); a single slow autodiff run (a garbage collection, another process)
    # would make "slowest over fastest" meaningless.
    fastest = min(numeric_times) / min(auto_times)
    results["speedup_range"] = (min(results["speedup"], fastest), max(results["speedup"], fastest))
    hours = results["numerical_seconds"] * 10_000 / 3600
    print(f"\nTime for one gradient ({n_num} numerical and {n_auto} autodiff runs; median, fastest - slowest):")
    print(f"  numerical: {numeric_seconds * 1e3:9.1f} ms   ({min(numeric_times) * 1e3:.1f} - "
          f"{max(numeric_times) * 1e3:.1f} ms; {2 * results['n_params']:,} forward passes)")
    print(f"  autodiff:  {auto_seconds * 1e3:9.3f} ms   ({min(auto_times) * 1e3:.3f} - "
          f"{max(auto_times) * 1e3:.3f} ms; one forward, one backward)")
    print(f"  autodiff is {results['speedup']:,.0f}× faster here by the medians, {fastest:,.0f}× by the "
          "fastest runs.")
    thousands = min(results["speedup_range"]) >= 1000
    print("  The ratio changes with the machine and with what else it is running"
          + (": read it as 'thousands of times', not as a constant." if thousands else "; it is not a constant."))
    print(f"  The document's 10,000 iterations would spend about {hours:.1f} h in numerical gradients for this "
          "network.")

    results["figures"] = write_figures(args.out, losses, train_acc, test_acc)
    results["seconds"] = time.perf_counter() - start
    print(f"\nfigures: {', '.join(results['figures'])}  ({results['seconds']:.1f} s)")
    return results


def write_figures(out, losses, train_acc, test_acc):
    from nn.plot import plot_curves
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    loss_path, acc_path = os.path.join(out, "loss.png"), os.path.join(out, "accuracy.png")
    epochs = np.arange(1, len(train_acc) + 1)
    figures = [
        plot_curves({"batch loss": losses}, path=loss_path, xlabel="iteration", ylabel="cross-entropy",
                    title="Document 001: loss of each mini-batch after its update"),
        plot_curves({"train": (epochs, train_acc), "test": (epochs, test_acc)}, path=acc_path,
                    xlabel="epoch", ylabel="accuracy", title="Document 001: accuracy per epoch"),
    ]
    for fig in figures:
        plt.close(fig)
    return [loss_path, acc_path]


if __name__ == "__main__":
    main()
