"""The `tinygrad-edu` command: train the documents' networks, draw their graphs, check every gradient.

    tinygrad-edu demo                                    document 000's moons network, end to end
    tinygrad-edu train --spec model.json --data moons    train a declared network, save everything
    tinygrad-edu graph --spec model.json                 draw its forward and backward graph
    tinygrad-edu check                                   gradcheck every op and the documents' formulas
    tinygrad-edu check my_backprop.py                    check YOUR hand-written backprop (runs the file)

A thin layer over the public APIs of tinygrad_edu (Tensor, draw_graph, to_dot, record_scopes, ...) and
nn (from_spec, build_training, fit, History, save, load, nn.data, nn.plot): everything it does can be
done in a few lines of Python, and its source shows how. `python -m nn.cli` runs it too.

Exit codes: 0 success; 1 `check` found a mismatch; 2 bad arguments, missing or invalid files, bad
specs or a missing optional dependency - reported as one line `tinygrad-edu: error: <message>` on
stderr (control characters escaped, cut to a sane length), never a traceback; 130 interrupted (the
installed command enters through tinygrad_edu_launcher, so even a Ctrl-C during the first imports
is one line).
"""
import argparse
import contextlib
import copy
import math
import os
import shutil
import sys
import time
import warnings

import numpy as np

import nn
import tinygrad_edu as te
from tinygrad_edu import selfcheck

from . import checks
from .errors import printable
from .io import atomic_write
from .plot import plot_curves, plot_decision_boundary, plot_history, save_figure
from .spec import DEFAULT_LOSS, build_loss

PROG = "tinygrad-edu"
GRAPHVIZ_HINT = ("install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
                 "conda: conda install graphviz; Windows: https://graphviz.org/download/)")
DATA_SETS = ("moons", "xor", "spiral", "digits", "mnist:DIR")


class CommandError(Exception):
    """A problem the user can fix (a missing file, data that does not fit the network, ...): printed
    as one line and exit code 2."""


# ---------------------------------------------------------------------------------------------------
# Small helpers: output, progress bar, files

def progress_bar(total, label, stream=None):
    """A tqdm progress bar on stderr (or `stream`), drawn only when that stream is a terminal (tqdm's
    disable=None), so logs and pipes stay clean; it disappears when closed (leave=False)."""
    from tqdm import tqdm
    return tqdm(total=total, desc=label, file=sys.stderr if stream is None else stream, disable=None,
                leave=False, dynamic_ncols=True)


def _say(*parts, bar=None):
    """print() to stdout without tearing the progress bar: tqdm lifts the bar, prints, redraws it."""
    if bar is None or bar.disable:
        print(*parts, flush=True)
        return
    bar.write(" ".join(str(p) for p in parts), file=sys.stdout)
    sys.stdout.flush()


def _output_folder(path):
    """Create the output folder (and its parents) if needed; return its absolute path."""
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise CommandError(f"the output folder {path!r} is a file")
    os.makedirs(path, exist_ok=True)
    return path


def _write_text(path, text):
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _close(fig):
    import matplotlib.pyplot as plt        # already imported by nn.plot, with the right backend
    plt.close(fig)


def _have_dot():
    return shutil.which("dot") is not None


def _is_model_file(path):
    """A saved model (.npz, a zip archive) rather than a JSON spec."""
    if path.lower().endswith(".npz"):
        return True
    with te.open_regular(path) as f:            # never blocks on a FIFO, never reads a device
        return f.read(4) == b"PK\x03\x04"


def _memory():
    """Bytes of physical memory of this machine, or None when the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(n_bytes, what):
    """Refuse, before allocating anything, a size whose arrays cannot fit in half the memory."""
    total = _memory()
    if total is not None and n_bytes > total // 2:
        raise CommandError(f"{what} needs about {n_bytes / 2**30:,.1f} GiB of memory for its arrays; this "
                           f"machine has {total / 2**30:,.1f} GiB")


def _read_spec(path):
    """(validated spec, model or None) from a JSON spec file or a model file written by nn.save
    (then the model comes with its trained weights)."""
    if not os.path.exists(path):
        raise CommandError(f"spec file {path!r} not found")
    if os.path.isdir(path):
        raise CommandError(f"{path!r} is a folder; --spec takes a JSON spec file or a saved model (.npz)")
    if not os.path.isfile(path):
        raise CommandError(f"{path!r} is not a regular file (a device or a FIFO?); --spec takes a JSON spec "
                           "file or a saved model (.npz)")
    if _is_model_file(path):
        spec = nn.read_spec(path)
        if spec is None:
            raise CommandError(f"{path}: this model file holds weights only (written by save_weights), no "
                               "spec to build the network from")
        return spec, nn.load(path)
    return nn.load_spec(path), None


def _spec_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _percent(x):
    return f"{100 * x:.1f}%"


# ---------------------------------------------------------------------------------------------------
# demo: document 000 end to end

def _doc_loss(model, X, y, lam):
    """Document 000's calculate_loss, (Σ −log ŷ + λ/2 (‖W1‖² + ‖W2‖²)) / N, computed by the engine
    without recording a graph."""
    with te.no_grad():
        total = model(te.Tensor(X)).softmax_cross_entropy(y, reduction="sum") + nn.l2_penalty(model, lam)
    return total.item() / len(X)


def cmd_demo(args):
    """Train document 000's 2-H-2 tanh network on the moons and write its pictures."""
    _check_memory(8 * args.hidden * (5 + 200 * 8), f"--hidden {args.hidden}")   # 5H weights, ~8 (200, H) arrays
    out = _output_folder(args.out)
    H, iterations, eps, lam = args.hidden, args.iterations, 0.01, 0.01
    X, y = nn.data.make_moons(200, noise=0.2, seed=0)        # the document's 200 points, bit for bit
    # build_model's initialisation after np.random.seed(0): W1 then W2, biases zero
    rng = np.random.RandomState(0)
    W1 = rng.randn(2, H) / np.sqrt(2)
    W2 = rng.randn(H, 2) / np.sqrt(H)
    model = nn.Sequential(nn.Linear(2, H, init="zeros"), nn.Tanh(), nn.Linear(H, 2, init="zeros"))
    model.load_state_dict({"0.weight": W1, "0.bias": np.zeros(H), "2.weight": W2, "2.bias": np.zeros(2)})
    # The document descends the *summed* cross-entropy and adds λW to dW: SGD's weight_decay=λ.
    loss_fn = nn.SoftmaxCrossEntropy(reduction="sum")
    opt = nn.SGD(model.parameters(), lr=eps, weight_decay=lam)
    print(f"Document 000: a 2-{H}-2 tanh network on {len(X)} moons points (noise 0.2), softmax "
          f"cross-entropy, full-batch gradient descent ε = {eps}, L2 λ = {lam}, {iterations:,} passes.",
          flush=True)

    bar = progress_bar(iterations, "training")
    printed = []                                            # (iteration, the document's loss)

    def after_pass(epoch, history):
        i = epoch - 1                                       # the document counts passes from 0
        if i % 1000 == 0:
            printed.append((i, _doc_loss(model, X, y, lam)))
            _say(f"Loss after iteration {i}: {printed[-1][1]:f}", bar=bar)
        bar.set_postfix_str(f"loss {history.step_loss[-1] / len(X):.6f}", refresh=False)
        bar.update(1)

    start = time.monotonic()
    with bar:                                               # closes (erases) the bar even on errors
        history = nn.fit(model, loss_fn, opt, (X, y), epochs=iterations, batch_size=None, metrics=(),
                         progress=False, callback=after_pass)
    acc = float(np.mean(model.predict(X) == y))
    print(f"Trained in {time.monotonic() - start:.1f} s; training accuracy {_percent(acc)}.", flush=True)
    if iterations > 2000 and H == 3:
        print("(From iteration 2000 on the document prints slightly different numbers: at this step size the "
              "descent is unstable - see the spikes in loss.png - and rounding differences of 1e-16 between "
              "two correct implementations grow.)", flush=True)

    written = []
    curves = {"mean cross-entropy, each pass": np.asarray(history.step_loss) / len(X)}
    if printed:
        curves["the document's printed loss (with L2)"] = tuple(np.array(printed, dtype=float).T)
    fig = plot_curves(curves, xlabel="iteration", ylabel="loss", logy=True,
                      title=f"Document 000, 2-{H}-2 tanh network: training loss")
    if printed:                                             # samples every 1000 passes: points, no line
        fig.axes[0].lines[-1].set(linestyle="none", marker="o", markersize=4)
        fig.axes[0].legend()
    save_figure(fig, os.path.join(out, "loss.png"))
    _close(fig)
    written.append(("loss.png", "the loss curve"))
    fig = plot_decision_boundary(model, X, y, os.path.join(out, "decision_boundary.png"),
                                 title=f"Hidden layer size {H} (training accuracy {_percent(acc)})")
    _close(fig)
    written.append(("decision_boundary.png", "the decision boundary with the data"))

    if not args.no_graph:
        opt.zero_grad()
        with te.record_scopes():                            # one cluster per module in the drawing
            data_loss = loss_fn(model(te.Tensor(X, name="X")), y)
            # SGD's weight_decay=λ adds λW to each weight's gradient: the gradient of this L2 term,
            # drawn so the picture shows the whole loss the training descended.
            with te.name_scope(f"L2: ½λ (‖W1‖² + ‖W2‖²), λ = {lam}"):   # no "/": it nests scopes
                penalty = nn.l2_penalty(model, lam)
        loss = data_loss + penalty
        loss.name = "loss"
        steps = loss.backward(trace=True)
        title = (f"One training step of the 2-{H}-2 network: loss = summed cross-entropy + L2 term; #k = the "
                 "order backward visits the ops, grad = dL/d(node)")
        written.append(_write_graph(loss, steps, model, title, out))
    print("Wrote:")
    for name, what in written:
        print(f"  {name:<22} {what}")
    print(f"Output folder: {out}")
    return 0


def _render(drawing, path, fmt):
    """Render a draw_graph drawing with Graphviz and write the file atomically."""
    data = drawing.pipe(format=fmt)
    atomic_write(path, lambda f: f.write(data))


def _write_graph(loss, steps, model, title, out):
    """graph.svg when Graphviz can render it, else graph.dot and a one-line hint."""
    missing, fix = "Graphviz's 'dot' program was not found", GRAPHVIZ_HINT
    if _have_dot():
        try:
            _render(te.draw_graph(loss, steps=steps, params=model, title=title), os.path.join(out, "graph.svg"),
                    "svg")
            return "graph.svg", "the computation graph of one step, with gradients"
        except te.GraphvizNotFound:
            missing, fix = "the graphviz Python package is missing", "pip install graphviz"
    _write_text(os.path.join(out, "graph.dot"), te.to_dot(loss, steps=steps, params=model, title=title))
    print(f"note: {missing}, so the graph was saved as DOT text (graph.dot); to get graph.svg, {fix}, "
          "then run: dot -Tsvg graph.dot -o graph.svg", flush=True)
    return "graph.dot", "the computation graph of one step, as DOT text"


# ---------------------------------------------------------------------------------------------------
# train

def _load_data(source, seed):
    """(X, y, description) of a --data choice; y holds integer class labels."""
    kind, directory = source
    if kind == "moons":
        X, y = nn.data.make_moons(200, noise=0.2, seed=seed)
        what = "moons: 200 points, noise 0.2"
    elif kind == "xor":
        X, y = nn.data.make_xor(n_per_corner=50, noise=0.1, seed=seed)
        what = "xor: the four corners, 50 noisy copies each (noise 0.1)"
    elif kind == "spiral":
        X, y = nn.data.make_spiral(100, 3, noise=0.2, seed=seed)
        what = "spiral: 3 arms of 100 points"
    elif kind == "digits":
        X, y = nn.data.load_digits()
        what = "digits: the 8×8 handwritten digits shipped with tinygrad-edu (1,797 images)"
    else:
        X, y = nn.data.load_mnist(directory, "train")
        what = f"mnist: the training images in {directory}"
    return X, y, what


def _targets(loss, n_out, labels, n_classes, data_name):
    """The targets the loss expects for integer labels: the labels themselves (softmax cross-entropy),
    a 0/1 column (one output, two classes) or one-hot rows (one output per class)."""
    if n_out is None:
        raise CommandError("the network has no Linear layer, so its output size is unknown")
    if isinstance(loss, nn.SoftmaxCrossEntropy):
        if n_out < n_classes:
            raise CommandError(f"the network has {n_out} output(s) but the {data_name} data has {n_classes} "
                               f"classes; the last Linear layer needs \"out\": {n_classes}")
        return labels
    if n_out == 1 and n_classes == 2:
        return labels[:, None].astype(np.float64)
    if n_out == n_classes:
        return nn.data.one_hot(labels, n_classes)
    raise CommandError(f"the network has {n_out} output(s) but the {data_name} data has {n_classes} classes; "
                       f"{type(loss).__name__} needs one output per class (or one output for two classes)")


def _with_overrides(spec, args, seed):
    """A copy of the spec with the command line's settings written into its sections."""
    spec = copy.deepcopy(spec)
    spec["seed"] = seed
    optimizer = dict(spec.get("optimizer", {"type": "SGD", "lr": 0.01}))
    if args.optimizer is not None:
        kind = {"sgd": "SGD", "adam": "Adam"}[args.optimizer]
        if kind != optimizer["type"]:
            # Another optimizer: keep the regularisation, drop settings only the old one has; its
            # learning rate means something else (Adam's are ~10x smaller), so it is not carried over.
            shared = ("weight_decay", "l1", "regularize_bias", "schedule")
            optimizer = {"type": kind, **{k: optimizer[k] for k in shared if k in optimizer}}
            if kind == "SGD":
                optimizer["lr"] = 0.01
    if args.lr is not None:
        optimizer["lr"] = args.lr
    spec["optimizer"] = optimizer
    training = dict(spec.get("training", {}))
    if args.epochs is not None:
        training["epochs"] = args.epochs
    if args.batch_size is not None:
        training["batch_size"] = None if args.batch_size == "full" else args.batch_size
    if training.get("seed") is None:
        training["seed"] = seed                             # reproducible shuffling by default
    spec["training"] = training
    return spec


def cmd_train(args):
    """Build a network from a spec, train it on a data set, save the model, its history and plots."""
    spec, model = _read_spec(args.spec)
    seed = args.seed if args.seed is not None else spec.get("seed", 0)
    spec = _with_overrides(spec, args, seed)
    setup = nn.build_training(spec, model=model, seed=seed)
    X, labels, what = _load_data(args.data, seed)
    data_name = args.data[0]
    n_in = setup.model.in_features
    if n_in is not None and (X.ndim != 2 or X.shape[1] != n_in):
        raise CommandError(f"the network takes {n_in} input(s) (its first Linear layer's \"in\"), but the "
                           f"{data_name} data has {X.shape[1] if X.ndim == 2 else X.shape[1:]} features per sample")
    n_classes = int(labels.max()) + 1
    targets = _targets(setup.loss, setup.model.out_features, labels, n_classes, data_name)
    if setup.epochs < 1:
        raise CommandError("nothing to train: the number of epochs is 0 (set --epochs or the spec's "
                           "training.epochs)")
    order = np.random.default_rng(seed).permutation(len(X))  # the seeded 80/20 split
    n_eval = math.ceil(0.2 * len(X))
    eval_idx, train_idx = order[:n_eval], order[n_eval:]
    out = _output_folder(args.out)

    print(f"Data: {what}; {len(train_idx)} for training, {len(eval_idx)} for evaluation "
          f"({X.shape[1]} features, {n_classes} classes).")
    print(f"Model: {setup.model}")
    print(f"Loss: {setup.loss}; optimizer: {setup.optimizer}")
    batch = "full batch" if setup.batch_size is None else f"mini-batches of {setup.batch_size}"
    print(f"Training for {setup.epochs} epochs ({batch}, seed {seed}).", flush=True)

    bar = progress_bar(setup.epochs, "training")
    every = max(1, setup.epochs // 10)
    width = len(str(setup.epochs))

    def after_epoch(epoch, h):
        summary = (f"loss {h.train_loss[-1]:.4f}  acc {_percent(h.train_acc[-1])}  "
                   f"eval loss {h.eval_loss[-1]:.4f}  eval acc {_percent(h.eval_acc[-1])}")
        if epoch % every == 0 or epoch == 1 or epoch == setup.epochs:
            _say(f"epoch {epoch:>{width}}/{setup.epochs}  {summary}", bar=bar)
        bar.set_postfix_str(summary, refresh=False)
        bar.update(1)

    with bar:
        history = setup.fit((X[train_idx], targets[train_idx]), eval_data=(X[eval_idx], targets[eval_idx]),
                            progress=False, callback=after_epoch)
    print(f"Final accuracy: train {_percent(history.train_acc[-1])}, eval {_percent(history.eval_acc[-1])}")

    written = []
    nn.save(setup.model, os.path.join(out, "model.npz"), spec=spec)
    written.append(("model.npz", "the trained model (nn.load reads it; the spec is inside)"))
    history.save_json(os.path.join(out, "history.json"))
    history.save_csv(os.path.join(out, "history.csv"))
    written.append(("history.json", "loss and accuracy per epoch"))
    written.append(("history.csv", "the same as a table"))
    title = f"{_spec_name(args.spec)} on {data_name}"
    _close(plot_history(history, os.path.join(out, "loss.png"), title=title))
    written.append(("loss.png", "loss and accuracy curves"))
    if X.shape[1] == 2:
        threshold = setup.loss.decision_threshold   # as fit measured accuracy

        def predict(points):
            return setup.model.predict(points, threshold=threshold)
        _close(plot_decision_boundary(predict, X, labels, os.path.join(out, "decision_boundary.png"),
                                      held_out=eval_idx,
                                      title=f"{title}: {_percent(history.train_acc[-1])} train, "
                                            f"{_percent(history.eval_acc[-1])} held out (▲)"))
        written.append(("decision_boundary.png", "the decision boundary; held-out points are triangles"))
    print("Wrote:")
    for name, what_file in written:
        print(f"  {name:<22} {what_file}")
    print(f"Output folder: {out}")
    return 0


# ---------------------------------------------------------------------------------------------------
# graph

def _random_targets(loss, n_out, batch, rng):
    """Targets of the right kind for a random batch: labels for softmax cross-entropy, 0/1 values for
    a single output, one-hot rows otherwise."""
    labels = rng.permutation(np.arange(batch) % max(n_out, 2))     # every class shows up when it can
    if isinstance(loss, nn.SoftmaxCrossEntropy):
        return labels % n_out
    if n_out == 1:
        return labels[:, None].astype(np.float64)
    return nn.data.one_hot(labels, n_out)


def cmd_graph(args):
    """Draw one forward and backward pass of a spec's network on a small random batch."""
    fmt = args.format
    if args.out is not None:
        suffix = os.path.splitext(args.out)[1].lower().lstrip(".")
        if fmt is None:
            fmt = suffix if suffix in ("svg", "png", "pdf", "dot") else "svg"
        elif suffix and suffix != fmt and not (fmt == "dot" and suffix == "gv"):
            raise CommandError(f"--out {args.out} does not end in .{fmt} (the --format)")
    fmt = fmt or "svg"
    path = os.path.abspath(args.out or f"graph.{fmt}")
    if fmt != "dot" and not _have_dot():
        raise CommandError(f"--format {fmt} needs Graphviz's 'dot' program, which was not found; "
                           f"{GRAPHVIZ_HINT}; or use --format dot for the DOT text")
    spec, model = _read_spec(args.spec)
    if model is None:
        model = nn.from_spec(spec, seed=spec.get("seed", 0))
    n_in, n_out = model.in_features, model.out_features
    if n_in is None or n_out is None:
        raise CommandError("the network has no Linear layer, so the size of its input is unknown")
    loss_fn = build_loss(spec.get("loss", DEFAULT_LOSS))
    rng = np.random.default_rng(args.seed)
    dtype = next(model.parameters()).dtype
    widths = sum(p.shape[-1] for p in model.parameters() if p.ndim == 2)
    # the input, and for each layer its output, activation and their gradients: (batch, width) each
    _check_memory(args.batch * (n_in + 4 * widths) * max(dtype.itemsize, 8), f"--batch {args.batch}")
    X = rng.standard_normal((args.batch, n_in)).astype(dtype)
    target = _random_targets(loss_fn, n_out, args.batch, rng)
    if args.compiled:                                       # the training step as generated NumPy
        setup = nn.build_training(spec, model=model)
        step = nn.train.training_step(model, setup.loss, setup.optimizer, compile=True)
        step(X, target)
        print(step.source, end="")
        return 0
    with te.record_scopes():                                # one labelled cluster per module
        loss = loss_fn(model(te.Tensor(X, name="x")), target)
    loss.name = "loss"
    steps = loss.backward(trace=True)
    title = (f"{_spec_name(args.spec)}: forward graph on a random batch of {args.batch}; #k = backward "
             f"order, grad = dL/d(node)")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if fmt == "dot":
        _write_text(path, te.to_dot(loss, steps=steps, params=model, title=title))
    else:
        _render(te.draw_graph(loss, steps=steps, params=model, title=title), path, fmt)
    if args.text:
        te.print_graph(loss, steps=steps, params=model)
    n_params = sum(p.size for p in model.parameters())
    print(f"Wrote {path}: {len(steps)} ops, visited by backward in the order #1 ... "
          f"#{len(steps)}; {n_params:,} parameters.")
    return 0


# ---------------------------------------------------------------------------------------------------
# check

def _table(headers, rows, aligns):
    """Plain-text table: headers, a rule, rows; aligns holds '<' or '>' per column."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(cells, aligns, widths)).rstrip()
    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _error_text(x):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2e}"


def cmd_check(args):
    """gradcheck every op (tinygrad_edu.selfcheck), then the documents' formulas (nn.checks); or, given
    a FILE, the learner's hand-written backprop in it (tinygrad_edu.check_backprop)."""
    if args.file is not None:
        return _check_file(args)
    start = time.monotonic()
    ops = selfcheck.run(quick=args.quick)
    print("Every op: autodiff against central differences in float64 (seed 0). An element passes when "
          "|autodiff − numeric| <= 1e-5 + 1e-3·|numeric|;\nthe 2nd-order rows differentiate the backward "
          "pass itself (gradgradcheck).")
    rows, notes = [], []
    for r in ops:
        rows.append([r.name, r.elements, _error_text(r.max_error), "OK" if r.ok else "FAIL"])
        if not r.ok:
            notes.append(f"  {r.name}: {r.error}")
    for line in _table(["op case", "elements", "max abs error", "result"], rows, "<>><"):
        print("  " + line)
    docs = checks.run()
    print()
    print(f"The documents' formulas (nn/reference.py) against autodiff; a row passes within "
          f"{checks.TOLERANCE:g}")
    rows = []
    for r in docs:
        rows.append([r.name, r.document, _error_text(r.max_abs_diff), "OK" if r.ok else "FAIL"])
        if not r.ok and r.error:
            notes.append(f"  {r.name}: {r.error}")
    for line in _table(["formula", "document", "max abs diff", "result"], rows, "<<><"):
        print("  " + line)
    failed = [r.name for r in ops if not r.ok] + [r.name for r in docs if not r.ok]
    total = len(ops) + len(docs)
    seconds = time.monotonic() - start
    print()
    if failed:
        print("Details:")
        for note in notes:
            print(note)
        print(f"{len(failed)} of {total} checks FAILED ({seconds:.1f} s): {', '.join(failed)}")
        return 1
    print(f"All {total} checks passed ({len(ops)} op cases, {len(docs)} document formulas) in {seconds:.1f} s.")
    return 0


def _load_learner_file(path):
    """Run a learner's Python file as a module and return it (this executes their code: the point)."""
    import importlib.util
    if not os.path.isfile(path):
        raise CommandError(f"{path}: no such file")
    folder = os.path.dirname(os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(f"_tinygrad_edu_check_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise CommandError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)                  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as e:                      # the learner's code
        line = next((f"line {f.lineno}" for f in reversed(__import__("traceback").extract_tb(e.__traceback__))
                     if os.path.abspath(f.filename) == os.path.abspath(path)), "")
        raise CommandError(f"{path} raised {type(e).__name__} while loading{' at ' + line if line else ''}: {e}") from None
    finally:
        sys.path.remove(folder)
    return module


def _learner_value(module, path, name, required):
    """module.name, called if it is a function of no arguments (params() and data() makers)."""
    value = getattr(module, name, None)
    if value is None:
        if required:
            raise CommandError(f"{path} defines no {name!r} ({required})")
        return None
    if callable(value):
        try:
            value = value()
        except Exception as e:                  # the learner's code
            raise CommandError(f"{path}: {name}() raised {type(e).__name__}: {e}") from None
    return value


def _check_file(args):
    """tinygrad-edu check FILE: forward, backward (or step) and params (and data) from the file."""
    path = args.file
    module = _load_learner_file(path)
    forward = getattr(module, "forward", None)
    backward = getattr(module, "backward", None)
    step = getattr(module, "step", None)
    if not callable(forward):
        raise CommandError(f"{path} defines no function forward(params, *data) -> loss")
    if not callable(backward) and not callable(step):
        raise CommandError(f"{path} defines neither backward(params, *data) -> {{name: gradient}} nor "
                           "step(params, *data) -> {name: new value}")
    params = _learner_value(module, path, "params", "a dict name -> array, or a function returning one")
    data = _learner_value(module, path, "data", None)
    if data is None:
        data = ()
    elif not isinstance(data, (tuple, list)):
        data = (data,)
    lr = args.lr if args.lr is not None else getattr(module, "lr", None)
    report = te.check_backprop(forward, backward if callable(backward) else None, params, *data,
                               step=step if callable(step) and not callable(backward) else None,
                               lr=lr, atol=args.atol, rtol=args.rtol)
    print(report, end="")
    if args.explain and report.error is None:
        print()
        print(report.explain(), end="")
    if args.draw and report.error is None:
        fmt = os.path.splitext(args.draw)[1].lstrip(".") or "svg"
        if fmt == "dot":
            _write_text(args.draw, report.to_dot())
        else:
            report.draw(args.draw)
        print(f"\nThe graph (wrong gradients in red): {args.draw}")
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------------------------------
# Argument parsing

class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and exit code 2, as argparse does)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int_at_least(minimum, what):
    """An argparse type: an integer >= minimum."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_seed = _int_at_least(0, "an integer >= 0")


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _batch_size(text):
    return "full" if text.strip().lower() == "full" else _positive_int(text)


def _data_source(text):
    """('moons', None), ..., or ('mnist', DIR)."""
    name, _, directory = text.partition(":")
    if name == "mnist":
        if not directory:
            raise argparse.ArgumentTypeError("mnist needs the folder of its IDX files: --data mnist:DIR")
        return "mnist", directory
    if name in ("moons", "xor", "spiral", "digits") and not directory:
        return name, None
    raise argparse.ArgumentTypeError(f"unknown data set {text!r} (expected one of {', '.join(DATA_SETS)})")


_EPILOG = """\
examples:
  tinygrad-edu demo                                   document 000's network, pictures in ./tinygrad-edu-demo
  tinygrad-edu train --spec model.json --data moons   train a declared network (see nn/spec.py)
  tinygrad-edu graph --spec model.json --format svg   draw its forward and backward graph
  tinygrad-edu check                                  gradcheck every op and the documents' formulas
  tinygrad-edu check my_backprop.py                   check your own backprop (runs the file's code)

A spec is a JSON file. Save this one as model.json: trained on the moons (train --data moons), it fits
the training points at least as well as the demo's network, in about a second:
  {"layers": [{"type": "Linear", "in": 2, "out": 16}, {"type": "Tanh"}, {"type": "Linear", "in": 16, "out": 2}],
   "optimizer": {"type": "SGD", "lr": 0.5, "weight_decay": 0.001}, "training": {"epochs": 1000}}
"""


def build_parser():
    """The argparse parser of the whole command (subcommands demo, train, graph, check)."""
    parser = _Parser(prog=PROG, description="Train small neural networks, draw their computation graphs "
                     "and check every gradient (tinygrad_edu and nn).", epilog=_EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {te.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="train document 000's moons network and draw it",
                       description="Train document 000's network exactly as the document does (2-3-2 tanh, "
                       "200 moons points, full-batch gradient descent ε = 0.01 with L2 λ = 0.01, 20,000 passes), "
                       "print its loss every 1000 iterations, and write the loss curve, the decision boundary "
                       "and the computation graph of one training step into a folder.")
    p.add_argument("--out", default="tinygrad-edu-demo", metavar="DIR",
                   help="output folder (default: ./tinygrad-edu-demo)")
    p.add_argument("--iterations", type=_positive_int, default=20_000, metavar="N",
                   help="passes of gradient descent (default: 20000, the document's)")
    p.add_argument("--hidden", type=_positive_int, default=3, metavar="H", help="hidden layer size (default: 3)")
    p.add_argument("--no-graph", action="store_true", help="do not draw the computation graph")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a network described by a spec file",
                       description="Build a network (and its loss, optimizer and training settings) from a "
                       "spec and train it on a data set. A seeded 20% of the data is held out: it is never "
                       "trained on, and the 'eval' numbers are measured on it (--seed picks the split with the "
                       "weights). Writes model.npz, history.json, history.csv, loss.png and, for 2-D data, "
                       "decision_boundary.png (held-out points as triangles).")
    p.add_argument("--spec", required=True, metavar="FILE",
                   help="a JSON spec (see nn/spec.py), or a model saved by nn.save / this command (.npz), "
                   "to train further")
    p.add_argument("--data", required=True, type=_data_source, metavar="NAME",
                   help="moons (200 points), xor (4 corners × 50 noisy copies), spiral (3 arms), digits "
                   "(the 8×8 handwritten digits, shipped with tinygrad-edu) or mnist:DIR (the MNIST IDX files in DIR)")
    p.add_argument("--epochs", type=_positive_int, metavar="N", help="epochs (default: the spec's, else 100)")
    p.add_argument("--lr", type=_learning_rate, metavar="X", help="learning rate (default: the spec's)")
    p.add_argument("--batch-size", type=_batch_size, metavar="N",
                   help="mini-batch size, or 'full' for full-batch descent (default: the spec's)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), help="optimizer (default: the spec's, else sgd)")
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="seed of the weights, the data, the split and the shuffling (default: the spec's, else 0)")
    p.add_argument("--out", default="tinygrad-edu-train", metavar="DIR",
                   help="output folder (default: ./tinygrad-edu-train)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("graph", help="draw a network's forward and backward graph",
                       description="Build the network of a spec, run one forward and backward pass on a small "
                       "random batch and draw the graph: every op, the order backward visits them (#k), each "
                       "node's gradient, one cluster per layer.")
    p.add_argument("--spec", required=True, metavar="FILE", help="a JSON spec or a saved model (.npz)")
    p.add_argument("--format", choices=("svg", "png", "pdf", "dot"),
                   help="svg (default), png, pdf (these need Graphviz's dot program) or dot (DOT text)")
    p.add_argument("--out", metavar="FILE", help="output file (default: graph.<format>)")
    p.add_argument("--batch", type=_positive_int, default=4, metavar="N", help="rows in the random batch (default: 4)")
    p.add_argument("--seed", type=_seed, default=0, metavar="N", help="seed of the random batch (default: 0)")
    p.add_argument("--text", action="store_true", help="also print the graph as a text tree")
    p.add_argument("--compiled", action="store_true",
                   help="instead of drawing, print the training step (forward, backward, the optimizer's "
                   "update) as the NumPy code te.compile generates for it")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("check", help="gradcheck every op and the documents' formulas, or check YOUR backprop "
                       "(check FILE)",
                       description="Without FILE: check every differentiable op against central differences, "
                       "and the documents' hand-derived backprop against autodiff; print a table. With FILE: "
                       "load your Python file, which defines forward(params, *data) -> loss in plain NumPy, "
                       "backward(params, *data) -> {name: gradient} derived by hand (or step(params, *data) -> "
                       "{name: new value}), params (a dict name -> array, or a function returning one) and "
                       "optionally data (a function returning the data arguments); compare your gradients "
                       "with autodiff and central differences and print what is wrong (tinygrad_edu."
                       "check_backprop). Loading FILE runs its code - that is how its functions are found - "
                       "so check only files you trust. Exit code 1 if anything disagrees.")
    p.add_argument("file", nargs="?", metavar="FILE", help="your Python file with forward, backward and params")
    p.add_argument("--quick", action="store_true", help="skip the second-order (gradgradcheck) op cases")
    p.add_argument("--lr", type=_learning_rate, metavar="X",
                   help="FILE: the learning rate of its step() (default: the file's lr, else inferred)")
    p.add_argument("--atol", type=float, default=1e-7, metavar="X",
                   help="FILE: absolute tolerance per element (default: 1e-7)")
    p.add_argument("--rtol", type=float, default=1e-5, metavar="X",
                   help="FILE: relative tolerance per element (default: 1e-5)")
    p.add_argument("--explain", action="store_true", help="FILE: also print the true backward pass step by step "
                   "next to your arrays")
    p.add_argument("--draw", metavar="OUT", help="FILE: draw the forward graph with the wrong gradients in red "
                   "(OUT.svg/.png/.pdf need Graphviz's dot; OUT.dot is the DOT text)")
    p.set_defaults(func=cmd_check)
    return parser


def _one_line(error):
    """The message of an error on one line (LoadError lists its problems on several)."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.filename}: {error.strerror}"
    else:
        text = str(error) or type(error).__name__
    parts = [line.strip() for line in text.splitlines() if line.strip()]
    text = " ".join(p[2:] if p.startswith("- ") else p for p in parts)       # LoadError's "  - problem" lines
    return printable(text, 1000)              # no terminal escape codes, no 500 KB names


@contextlib.contextmanager
def _warnings_as_lines():
    """Show the library's warnings (a Softmax layer before SoftmaxCrossEntropy, ...) as one line
    `tinygrad-edu: warning: ...` on stderr, each problem once, instead of Python's file:line format."""
    shown = set()

    def show(message, category, filename, lineno, file=None, line=None):
        key = category if issubclass(category, nn.train.DoubleActivationWarning) else str(message)
        if key in shown:
            return                          # the spec and fit() both warn about the same double softmax
        shown.add(key)
        from tqdm import tqdm
        tqdm.write(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)   # lifts a progress bar
        sys.stderr.flush()

    with warnings.catch_warnings():
        warnings.simplefilter("always", nn.train.DoubleActivationWarning)
        warnings.showwarning = show
        yield


def main(argv=None):
    """Run the command line with `argv` (default: sys.argv[1:]); returns the exit code."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:                         # --help, --version and argument errors
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        if args.command is None:
            parser.print_help()
            return 0
        with _warnings_as_lines():
            return args.func(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except (CommandError, te.TinygradError, OSError, ImportError, MemoryError) as e:
        # Expected problems - missing files, bad specs or model files, data that does not fit, missing
        # optional libraries - are one line for the user, not a traceback.
        sys.stdout.flush()
        message = f"out of memory ({_one_line(e)})" if isinstance(e, MemoryError) else _one_line(e)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
