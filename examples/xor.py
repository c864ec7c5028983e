"""Document 004 (004_4294ce1bbe7cb7a4.txt, a Q&A: "my NumPy network cannot learn XOR"), with nn.

    python examples/xor.py             # about 8 s (10 seeds in the reliability check)
    python examples/xor.py --full      # 100 seeds
    python examples/xor.py --quick     # a smoke run (~2 s, no seed sweep)

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
   four points from the question's seed). Backprop's gradients all belong to the same weights:
   compute every gradient first, then update - which nn does by construction (loss.backward()
   computes them all, then optimizer.step() applies them).
5. The pred() bug: the question's pred() evaluates the leftover global x, the last training sample
   (1, 1), four times, so it prints one value four times whatever the weights.

Figures: the epoch cost of the runs (question's settings, fixed settings, fixed settings with the
buggy order) and the decision regions of the trained network.
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


def parse_args(argv):
    parser = example_parser(__doc__, "xor", "100 seeds in the reliability check")
    parser.add_argument("--seeds", type=int, default=None,
                        help="initialisations tried in the reliability check (default 10; --full 100; --quick 0)")
    return parse(parser, argv, {"seeds": (100, 0, 10)}, minimum={"seeds": 0})


def fmt(p):
    return "[" + ", ".join(f"{v:.4f}" for v in p) + "]"


def main(argv=None):
    """Run the five parts; print them; write the figures.

    Returns a dict: question_predictions / question_costs (the question's settings), predictions /
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

    # 5. The question's pred(): the leftover global x is the last training sample, fed four times.
    results["pred_bug"] = probabilities(model, np.repeat(X[3:4], 4, axis=0))
    print(f"\n5. The question's pred() feeds the leftover x = (1, 1) four times: {fmt(results['pred_bug'])} "
          f"instead of {fmt(p)}")

    results["figures"] = write_figures(args.out, model, X, y, results)
    results["seconds"] = time.perf_counter() - start
    print(f"\nfigures: {', '.join(results['figures'])}  ({results['seconds']:.1f} s)")
    return results


def write_figures(out, model, X, y, results):
    from nn.plot import plot_curves, plot_decision_boundary
    import matplotlib.pyplot as plt
    os.makedirs(out, exist_ok=True)
    cost_path, boundary_path = os.path.join(out, "costs.png"), os.path.join(out, "boundary.png")
    figures = [
        plot_curves({f"question: ±{QUESTION['init']}, α = {QUESTION['lr']}": results["question_costs"],
                     f"±{FIXED['init']}, α = {FIXED['lr']}": results["costs"],
                     f"±{FIXED['init']}, α = {FIXED['lr']}, buggy update order": results["buggy_costs"]},
                    path=cost_path, xlabel="epoch", ylabel="epoch cost (Σ BCE of the 4 samples)", logy=True,
                    title="Document 004: XOR"),
        plot_decision_boundary(model, X, y, path=boundary_path, h=0.01, padding=0.5,
                               title="2-2-1 network after training: predicted class"),
    ]
    for fig in figures:
        plt.close(fig)
    return [cost_path, boundary_path]


if __name__ == "__main__":
    main()
