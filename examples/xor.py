"""Document 004 (a Q&A: "my NumPy network cannot learn XOR"; see docs/documents.md), with nn.

    python examples/xor.py             # about 8 s (10 seeds in the reliability check)
    python examples/xor.py --full      # 100 seeds
    python examples/xor.py --quick     # a smoke run (~3 s: no seed sweep, a shorter run of part 1)

The question trains a 2-2-1 network (sigmoid hidden layer, sigmoid output, binary cross-entropy) on
the four XOR points, one sample at a time in the order (0,0), (0,1), (1,0), (1,1), from weights drawn
uniformly in [−0.12, 0.12) after np.random.seed(565113221), with learning rate α = 0.01 for 50 epochs,
and finds every prediction stuck near the same value. The answers name two bugs: W2 is updated before
W1's gradient (which uses W2) is computed, and pred() reads an undefined x.

Here the network is nn.Sequential(Linear(2, 2), Sigmoid(), Linear(2, 1)) with nn.BCEWithLogits
(sigmoid and binary cross-entropy fused, the same function and the question's gradient ŷ − y), the
update nn.SGD, and the loop nn.fit(batch_size=1, shuffle=False): one update per sample, in the
question's order. The question's weights are copied in (its W of shape (out, in) is our W.T).

What it shows:

1. The question's settings do not learn XOR even with correct gradients: after 50 epochs at
   α = 0.01 (200 small steps) every prediction is still 0.51-0.52. The step is simply too small.
   The two symptoms the question describes, reproduced: run longer with its own loops (W2 updated
   first), the epoch cost falls until epoch 298 (2.780238) and then rises again ("after a few epochs
   it bounces back"), while with every gradient first it keeps falling; and with three positive
   labels and one negative (targets [0, 1, 1, 1]) every prediction after 300 epochs is about 0.75
   (0.747-0.759), the fraction of positive labels: with tiny weights both hidden units see nearly the
   same thing for every input, the output bias learns first, and the best constant is the base rate.
2. Settings that do learn it: weights uniform in [−0.5, 0.5) (so the two hidden units start clearly
   different), α = 2, 1,000 epochs of the same per-sample updates. From the question's seed all four
   points come out right (predictions 0.001, 0.999, 0.999, 0.002).
3. How reliable that is: over seeds 0..9 (0..99 with --full) the same settings learn XOR from 8 of
   10 (73 of 100) initialisations. The 2-2-1 network is the smallest that can represent XOR, and
   gradient descent from some starts gets stuck: most failures recognise (0, 0) and give the three
   other corners the same ≈ 0.47 (epoch cost ≈ 2.80, two points wrong); a few give two corners the
   same 0.34 (cost ≈ 2.16, one point wrong) or are still crawling after 1,000 epochs. More hidden
   units or a few restarts fix that; the question's seed is one of the good starts.
4. The update-order bug, with nn.reference.xor_step_buggy (the question's loops) against
   nn.reference.xor_step (every gradient first) and against nn's own step: for one update, nn and the
   correct rule agree to the last bit; the buggy rule gives the same W2 and b2 but different W1
   and b1, because their gradients used the already-updated W2 (the difference grows with α²). At
   α = 0.01 that is invisible, but with the settings of point 2 it is fatal: trained with the buggy
   order, the network learns XOR from none of the seeds (its predictions collapse to ≈ 0.065 for all
   four points from the question's seed). How fatal depends on α: from the same start, each rate run
   for 2000/α epochs, the buggy order still learns XOR at α = 0.5 but collapses to one constant output
   at α = 1 (≈ 0.307) and α = 2; the correct order learns at all three. Backprop's gradients all
   belong to the same weights: compute every gradient first, then update - which nn does by
   construction (loss.backward() computes them all, then optimizer.step() applies them).
5. The pred() bug: the question's pred() evaluates the leftover global x, the last training sample
   (1, 1), four times, so it prints one value four times whatever the weights.

6. The answer's own solution: an evolution strategy (no gradients at all). From zero weights, every
   turn tries the best weights so far plus uniform noise in [−0.12, 0.12) and keeps them if the epoch
   cost drops. From the question's seed, 2,000 turns reach a cost of 4.8e-5 and predictions
   [0.0000, 1.0000, 1.0000, 0.0000] (evolution_strategy here with nn, nn.reference.xor_evolution_strategy
   in plain NumPy; they agree). It proved the forward pass right and left the gradients as the suspect.

Figures: the epoch cost of the runs (question's settings, fixed settings, fixed settings with the
buggy order), the decision regions of the trained network, and the question's settings run for
2,000 epochs with both update orders (the cost that bottoms out).
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
import nn.reference as reference  # noqa: E402  (the hand-written update rules, for the bug)
from nn.data import make_xor  # noqa: E402
from tinygrad_edu import Tensor, no_grad  # noqa: E402

QUESTION_SEED = 565113221
QUESTION = {"init": 0.12, "lr": 0.01, "epochs": 50}     # the question's settings
FIXED = {"init": 0.5, "lr": 2.0, "epochs": 1000}         # settings that learn XOR
ORDER_STEP_LENGTH = 2000                                 # α · epochs of each run of the α sweep
ES = {"turns": 2000, "epsilon": 0.12}                    # the answer's evolution strategy


def question_weights(seed=QUESTION_SEED, init=0.12):
    """The question's initialisation, in its shapes: np.random.seed(seed), then W1 (2, 2), b1 (2, 1),
    W2 (1, 2), b2 (1, 1) drawn in that order as random(shape)·2ε − ε (uniform in [−ε, ε))."""
    rs = np.random.RandomState(seed)
    return {k: rs.random_sample(shape) * init * 2 - init
            for k, shape in (("W1", (2, 2)), ("b1", (2, 1)), ("W2", (1, 2)), ("b2", (1, 1)))}


def xor_net(weights):
    """The 2-2-1 network with the given question-shaped weights. The question computes W1·x on a
    column x; nn computes x·W on a row, so its W is the question's W transposed, its biases 1-D.
    The output is a logit: the sigmoid lives in the loss (BCEWithLogits) and in predictions."""
    model = nn.Sequential(nn.Linear(2, 2, init="zeros"), nn.Sigmoid(), nn.Linear(2, 1, init="zeros"))
    with no_grad():
        model[0].weight.copy_(weights["W1"].T)          # (in 2, hidden 2)
        model[0].bias.copy_(weights["b1"].ravel())      # (2,)
        model[2].weight.copy_(weights["W2"].T)          # (hidden 2, out 1)
        model[2].bias.copy_(weights["b2"].ravel())      # (1,)
    return model


def question_shaped(model):
    """The model's weights in the question's shapes and names (for comparing with nn.reference)."""
    return {"W1": model[0].weight.data.T.copy(), "b1": model[0].bias.data.reshape(2, 1).copy(),
            "W2": model[2].weight.data.T.copy(), "b2": model[2].bias.data.reshape(1, 1).copy()}


def train(model, X, Y, lr, epochs):
    """The question's loop with nn: per-sample updates in order, summed BCE of each sample. Returns the
    cost of every epoch: the sum of the four samples' costs, each taken before its update (as the
    question's epoch_cost)."""
    history = nn.fit(model, nn.BCEWithLogits(reduction="sum"), nn.SGD(model.parameters(), lr=lr), (X, Y),
                     epochs=epochs, batch_size=1, shuffle=False, metrics=(), progress=False)
    return np.asarray(history.step_loss).reshape(epochs, len(X)).sum(axis=1)


def probabilities(model, X):
    """ŷ = σ(output) for each row of X, shape (N,)."""
    with no_grad():
        return model(Tensor(X)).sigmoid().data[:, 0]


def all_right(p, y):
    return bool(np.all((p > 0.5) == (y == 1)))


def order_sweep(w, X, Y, alphas):
    """The update-order bug at several learning rates, from the question-shaped weights w: for each α,
    ORDER_STEP_LENGTH / α epochs (the same total step length) with nn (every gradient first) and with
    the question's loops (nn.reference.xor_step_buggy). Returns rows (α, epochs, nn all right, nn final
    cost, buggy all right, buggy final cost, buggy predictions)."""
    rows = []
    for alpha in alphas:
        epochs = int(round(ORDER_STEP_LENGTH / alpha))
        model = xor_net(w)
        costs = train(model, X, Y, alpha, epochs)
        buggy, buggy_costs = reference.xor_train(X, Y, w, alpha=alpha, epochs=epochs, step=reference.xor_step_buggy)
        p_bug = reference.xor_pred(X, buggy)[:, 0]
        rows.append((alpha, epochs, all_right(probabilities(model, X), Y[:, 0]), float(costs[-1]),
                     all_right(p_bug, Y[:, 0]), float(buggy_costs[-1]), p_bug))
    return rows


def evolution_strategy(X, Y, turns=ES["turns"], epsilon=ES["epsilon"], seed=QUESTION_SEED):
    """The answer's solution with nn: no gradients. Start from zero weights; each turn compute the
    epoch cost (Σ BCE of the four samples, the weights fixed during the epoch), keep the weights if the
    cost is the lowest so far, then try best + uniform[−ε, ε) noise, drawn in the question's shapes and
    order (W1, b1, W2, b2) from np.random.seed(seed)'s stream. Returns (best question-shaped weights,
    best cost after every turn)."""
    rs = np.random.RandomState(seed)
    shapes = {"W1": (2, 2), "b1": (2, 1), "W2": (1, 2), "b2": (1, 1)}
    weights = {k: np.zeros(shape) for k, shape in shapes.items()}
    model = xor_net(weights)
    loss_fn = nn.BCEWithLogits(reduction="sum")
    best, best_cost, best_costs = None, None, []
    for turn in range(turns):
        with no_grad():
            cost = loss_fn(model(Tensor(X)), Y).item()
        if turn == 0 or cost < best_cost:
            best, best_cost = weights, cost
        best_costs.append(best_cost)
        weights = {k: best[k] + rs.random_sample(shape) * epsilon * 2 - epsilon for k, shape in shapes.items()}
        with no_grad():                                      # the question's W (out, in) is our W.T
            model[0].weight.copy_(weights["W1"].T)
            model[0].bias.copy_(weights["b1"].ravel())
            model[2].weight.copy_(weights["W2"].T)
            model[2].bias.copy_(weights["b2"].ravel())
    return best, best_costs


def parse_args(argv):
    parser = example_parser(__doc__, "xor", "100 seeds in the reliability check")
    parser.add_argument("--seeds", type=int, default=None,
                        help="initialisations tried in the reliability check (default 10; --full 100; --quick 0)")
    # long_epochs: the question's settings run longer (the cost bottoms out near epoch 300);
    # base_rate_epochs: the three-positive run; alphas: the rates of the update-order sweep
    # (quick: α = 2 is part 2's and part 4's runs already)
    return parse(parser, argv, {"seeds": (100, 0, 10), "long_epochs": (2000, 350, 2000),
                                "base_rate_epochs": (300, 300, 300),
                                "alphas": ((0.5, 1.0, 2.0), (0.5,), (0.5, 1.0, 2.0))},
                 minimum={"seeds": 0})


def fmt(p):
    return "[" + ", ".join(f"{v:.4f}" for v in p) + "]"


def main(argv=None):
    """Run the six parts; print them; write the figures.

    Returns a dict: question_predictions / question_costs (the question's settings), long_buggy_costs /
    long_costs / long_minimum_epoch (the question's settings run longer, its loops and nn),
    base_rate_predictions (targets [0, 1, 1, 1]), order_sweep (rows of order_sweep), es_weights /
    es_costs / es_predictions (the answer's evolution strategy), predictions /
    costs / all_right (the fixed settings from the question's seed), seeds / successes /
    buggy_successes / failure_costs (the reliability check), one_step (parameter -> (|nn − correct|,
    |buggy − correct|), max abs differences of one update), buggy_predictions / buggy_costs /
    buggy_all_right (fixed settings, buggy order), pred_bug (the question's pred() output), figures,
    seconds.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    X, y = make_xor()                                  # (4, 2) corners in the question's order, (4,) labels
    Y = y[:, None].astype(np.float64)                  # (4, 1) targets, the question's column
    results = {}
    print("Document 004: a 2-2-1 sigmoid network, binary cross-entropy, one update per sample")

    # 1. The question's settings, with correct gradients.
    model = xor_net(question_weights(QUESTION_SEED, QUESTION["init"]))
    results["question_costs"] = train(model, X, Y, QUESTION["lr"], QUESTION["epochs"])
    results["question_predictions"] = probabilities(model, X)
    print(f"\n1. The question's settings (uniform ±{QUESTION['init']}, α = {QUESTION['lr']}, "
          f"{QUESTION['epochs']} epochs): predictions {fmt(results['question_predictions'])} for targets {y.tolist()}")
    print(f"   epoch cost {results['question_costs'][0]:.4f} -> {results['question_costs'][-1]:.4f}: "
          "200 steps of size 0.01 barely move the weights")

    # 1b. Longer, with the question's own loops: the cost bottoms out and rises again.
    long_epochs = args.long_epochs
    q = question_weights(QUESTION_SEED, QUESTION["init"])
    _, buggy_long = reference.xor_train(X, Y, q, alpha=QUESTION["lr"], epochs=long_epochs,
                                        step=reference.xor_step_buggy)
    long_model = xor_net(q)
    correct_long = train(long_model, X, Y, QUESTION["lr"], long_epochs)
    results["long_buggy_costs"], results["long_costs"] = np.asarray(buggy_long), correct_long
    low = int(np.argmin(buggy_long))
    results["long_minimum_epoch"] = low + 1
    falls = bool(np.all(np.diff(correct_long) < 0))
    rises = low < long_epochs - 1                     # the minimum is not simply the last epoch
    print(f"   Run for {long_epochs} epochs with the question's loops (W2 updated first), the epoch cost falls to "
          f"{buggy_long[low]:.8f} at epoch {low + 1}")
    print(f"   and then rises again ({buggy_long[-1]:.8f} after epoch {long_epochs}): the 'bounces back' the question "
          "describes." if rises else f"   and is still falling after epoch {long_epochs}.")
    print(f"   With every gradient first (nn) it {'falls at every epoch' if falls else 'does not fall at every epoch'}"
          f" ({correct_long[-1]:.6f} after epoch {long_epochs}).")

    # 1c. Three positive labels and one negative: every prediction ≈ 0.75.
    y_or = np.array([0, 1, 1, 1])
    or_model = xor_net(q)
    train(or_model, X, y_or[:, None].astype(np.float64), QUESTION["lr"], args.base_rate_epochs)
    results["base_rate_predictions"] = probabilities(or_model, X)
    print(f"   With targets {y_or.tolist()} (three positive, one negative) and the same settings, "
          f"{args.base_rate_epochs} epochs give")
    near = bool(np.all(np.abs(results["base_rate_predictions"] - 0.75) < 0.02))
    print(f"   {fmt(results['base_rate_predictions'])}: "
          + ("about 0.75 for all four, the fraction of positive labels, as the question says." if near else
             "not all near 0.75, the fraction of positive labels."))
    print("   With tiny weights both hidden units see nearly the same thing for every input; the output bias")
    print("   learns first, and the best constant output is the base rate (for XOR itself: 0.5, as above).")

    # 2. Settings that learn XOR.
    model = xor_net(question_weights(QUESTION_SEED, FIXED["init"]))
    results["costs"] = train(model, X, Y, FIXED["lr"], FIXED["epochs"])
    results["predictions"] = p = probabilities(model, X)
    results["all_right"] = all_right(p, y)
    print(f"\n2. Uniform ±{FIXED['init']}, α = {FIXED['lr']}, {FIXED['epochs']} epochs, the question's seed: "
          f"predictions {fmt(p)}; all four right: {results['all_right']}; final epoch cost {results['costs'][-1]:.4f}")

    # 3. Reliability over seeds (correct order with nn, buggy order with the hand-written rule).
    successes = buggy_successes = 0
    failure_costs = []
    for seed in range(args.seeds):
        w = question_weights(seed, FIXED["init"])
        m = xor_net(w)
        costs = train(m, X, Y, FIXED["lr"], FIXED["epochs"])
        if all_right(probabilities(m, X), y):
            successes += 1
        else:
            failure_costs.append(round(float(costs[-1]), 3))
        buggy, _ = reference.xor_train(X, Y, w, alpha=FIXED["lr"], epochs=FIXED["epochs"],
                                       step=reference.xor_step_buggy)
        buggy_successes += all_right(reference.xor_pred(X, buggy)[:, 0], y)
    results.update(seeds=args.seeds, successes=successes, buggy_successes=int(buggy_successes),
                   failure_costs=failure_costs)
    if args.seeds:
        print(f"\n3. The same settings from seeds 0..{args.seeds - 1}: all four right from {successes} of "
              f"{args.seeds} initialisations; the others end with epoch cost {failure_costs}")
        print("   (≈ 2.80: (0, 0) right and ≈ 0.47 for the three other corners; ≈ 2.16: one corner wrong)")

    # 4. The update-order bug: one step, then a whole run.
    w = question_weights(QUESTION_SEED, FIXED["init"])
    x3, y3 = X[3:4], Y[3:4]                            # the sample (1, 1) -> 0, as a batch of one
    one = xor_net(w)
    loss = nn.BCEWithLogits(reduction="sum")(one(Tensor(x3)), y3)
    opt = nn.SGD(one.parameters(), lr=FIXED["lr"])
    opt.zero_grad()
    loss.backward()
    opt.step()
    ours = question_shaped(one)
    correct = reference.xor_step(x3.T, y3, w, FIXED["lr"])
    buggy = reference.xor_step_buggy(x3.T, y3, w, FIXED["lr"])
    results["one_step"] = {k: (float(np.abs(ours[k] - correct[k]).max()), float(np.abs(buggy[k] - correct[k]).max()))
                           for k in ("W1", "b1", "W2", "b2")}
    print(f"\n4. One update on the sample (1, 1) from the weights of part 2 (α = {FIXED['lr']}), max |difference| "
          "from the hand-written correct update (nn.reference.xor_step):")
    for k, (d_nn, d_bug) in results["one_step"].items():
        print(f"   {k}: nn (backward, then step) {d_nn:.1e}    the question's order (xor_step_buggy) {d_bug:.1e}")
    bug_params, results["buggy_costs"] = reference.xor_train(X, Y, w, alpha=FIXED["lr"], epochs=FIXED["epochs"],
                                                             step=reference.xor_step_buggy)
    results["buggy_predictions"] = reference.xor_pred(X, bug_params)[:, 0]
    results["buggy_all_right"] = all_right(results["buggy_predictions"], y)
    print(f"   Trained with the buggy order (settings of part 2): predictions {fmt(results['buggy_predictions'])}, "
          f"final epoch cost {results['buggy_costs'][-1]:.4f}")
    if args.seeds:
        print(f"   and from seeds 0..{args.seeds - 1} it learns XOR {results['buggy_successes']} times "
              f"(correct order: {successes}).")
    print("   W1's and b1's gradients contain W2; the question updates W2 first and then uses the new W2.")
    print("   Every gradient must come from the same weights: compute them all (loss.backward()), then update")
    print("   (optimizer.step()).")
    # How much that matters depends on α: the error is of order α², so small steps hide it.
    results["order_sweep"] = rows = order_sweep(w, X, Y, args.alphas)
    print(f"   The same start at several rates, each for {ORDER_STEP_LENGTH}/α epochs:")
    print("       α  epochs   nn (every gradient first)   the question's order")
    for alpha, epochs, ok, cost, bug_ok, bug_cost, p_bug in rows:
        bug_text = (f"learns XOR (cost {bug_cost:.4f})" if bug_ok else
                    f"fails: {fmt(p_bug)}" + (" (one constant output)" if np.ptp(p_bug) < 1e-3 else ""))
        print(f"   {alpha:5.2f}  {epochs:6d}   {'learns XOR' if ok else 'fails':10s} (cost {cost:.4f})   {bug_text}")
    learns_small = [a for a, _, _, _, bug_ok, _, _ in rows if bug_ok]
    if learns_small:
        print(f"   The buggy order still learns at α = {', '.join(f'{a:g}' for a in learns_small)}: "
              "it is fatal only when the steps are large.")

    # 5. The question's pred(): the leftover global x is the last training sample, fed four times.
    results["pred_bug"] = probabilities(model, np.repeat(X[3:4], 4, axis=0))
    print(f"\n5. The question's pred() feeds the leftover x = (1, 1) four times: {fmt(results['pred_bug'])} "
          f"instead of {fmt(p)}")

    # 6. The answer: an evolution strategy instead of gradients.
    best, es_costs = evolution_strategy(X, Y)
    results["es_weights"], results["es_costs"] = best, es_costs
    results["es_predictions"] = probabilities(xor_net(best), X)
    print("\n6. The answer replaces gradient descent by an evolution strategy: from zero weights, try the best")
    print(f"   weights plus uniform noise in [−{ES['epsilon']}, {ES['epsilon']}), keep whatever lowers the epoch cost. "
          f"After {ES['turns']} turns: cost {es_costs[-1]:.2e},")
    print(f"   predictions {fmt(results['es_predictions'])}; all four right: "
          f"{all_right(results['es_predictions'], y)}. No gradient, so no update-order bug: it")
    print("   showed that the forward pass was fine. (Its pred() has the same leftover-x bug; the predictions above")
    print("   feed each row.)")

    results["figures"] = write_figures(args.out, model, X, y, results)
    results["seconds"] = time.perf_counter() - start
    print(f"\nfigures: {', '.join(results['figures'])}  ({results['seconds']:.1f} s)")
    return results


def write_figures(out, model, X, y, results):
    from nn.plot import plot_curves, plot_decision_boundary
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    cost_path, boundary_path = os.path.join(out, "costs.png"), os.path.join(out, "boundary.png")
    long_path = os.path.join(out, "question_cost.png")
    epochs = np.arange(1, len(results["long_costs"]) + 1)
    figures = [
        plot_curves({f"question: ±{QUESTION['init']}, α = {QUESTION['lr']}": results["question_costs"],
                     f"±{FIXED['init']}, α = {FIXED['lr']}": results["costs"],
                     f"±{FIXED['init']}, α = {FIXED['lr']}, buggy update order": results["buggy_costs"]},
                    path=cost_path, xlabel="epoch", ylabel="epoch cost (Σ BCE of the 4 samples)", logy=True,
                    title="Document 004: XOR"),
        plot_decision_boundary(model, X, y, path=boundary_path, h=0.01, padding=0.5,
                               title="2-2-1 network after training: predicted class"),
        # from epoch 100 on: before that both fall steeply and the bottoming out would be invisible
        plot_curves({"the question's loops (W2 updated first)": (epochs[99:], results["long_buggy_costs"][99:]),
                     "every gradient first (nn)": (epochs[99:], results["long_costs"][99:])}, path=long_path,
                    xlabel="epoch", ylabel="epoch cost (Σ BCE of the 4 samples)",
                    title=f"α = {QUESTION['lr']}: the question's loops bottom out at epoch "
                          f"{results['long_minimum_epoch']}"),
    ]
    for fig in figures:
        plt.close(fig)
    return [cost_path, boundary_path, long_path]


if __name__ == "__main__":
    main()
