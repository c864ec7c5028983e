"""Graph drawings (to_dot / draw_graph), the text tree (print_graph) and explain_backward.

Expected values are worked out by hand (node and edge counts, backward order, names) or with plain
NumPy (gradients and their norms). The DOT text is also fed to the real Graphviz `dot` program, an
independent parser, whenever it is installed (CI installs Debian's graphviz, so those tests run there).
"""
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import (ArgumentError, GraphError, GraphvizNotFound, Tensor, draw_graph, explain_backward,
                          format_graph, name_scope, print_graph, record_scopes, to_dot)
from tinygrad_edu import viz

# Tests that render with Graphviz's dot use the graphviz_dot fixture (tests/conftest.py): skipped with the
# reason when dot is missing, a failure under CI.
needs_dot = pytest.mark.usefixtures("graphviz_dot")

# ---------------------------------------------------------------------------------------------------
# A tiny reader for the DOT we write: node ids with their labels, edges, cluster membership.

NODE = re.compile(r'^\s*(t\d+|f\d+|c\d+_\d+|more) \[(.*)\]$')
EDGE = re.compile(r'^\s*(\S+) -> (\S+)(?: \[(.*)\])?$')
LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"')


def parse(dot):
    """{node id: (label, attrs, [enclosing cluster labels])}, [(tail, head, attrs)]."""
    nodes, edges, stack = {}, [], []
    pending_cluster = False
    for line in dot.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster_"):
            stack.append(None)
            pending_cluster = True
        elif s == "}" and stack:
            stack.pop()
        elif pending_cluster and s.startswith("label="):
            stack[-1] = LABEL.search(s).group(1)
            pending_cluster = False
        elif (m := EDGE.match(line)):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
        elif (m := NODE.match(line)):
            label = LABEL.search(m.group(2)).group(1)
            if "shape=record" in m.group(2):          # '{field | field}': keep the fields
                assert label[0] == "{" and label[-1] == "}" and label[-2] != "\\"
                label = label[1:-1]
            nodes[m.group(1)] = (label, m.group(2), list(stack))
    return nodes, edges


def node_with(nodes, text):
    """The one node id whose label contains text."""
    hits = [k for k, (label, _, _) in nodes.items() if text in label]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def numbers_after(label, key):
    """The number following `key` in a label, e.g. the norm after '‖g‖='."""
    return float(re.search(re.escape(key) + r"([-+0-9.e]+|nan|inf)", label).group(1))


def dot_json(dot):
    """Graphviz's own reading of the DOT text (objects = clusters then nodes, and edges)."""
    out = subprocess.run(["dot", "-Tjson"], input=dot.encode(), capture_output=True, check=True)
    return json.loads(out.stdout)


@contextmanager
def low_recursion_limit(extra=100):
    """Only `extra` frames above the current depth: any recursion over a long graph would fail."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + extra)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def test_the_lowered_recursion_limit_really_stops_recursion():
    with low_recursion_limit():
        with pytest.raises(RecursionError):
            depth(300)
        assert depth(50) == 50


def small_net():
    """loss = sum(tanh(x @ W)) with x (1, 2) named 'x' and W (2, 3) named 'W'."""
    x = Tensor([[1.0, 2.0]], name="x")
    W = Tensor(np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]), requires_grad=True, name="W")
    loss = (x @ W).tanh().sum()
    return x, W, loss


# ---------------------------------------------------------------------------------------------------
# DOT content

def test_known_graph_nodes_edges_kinds_and_rules():
    x, W, loss = small_net()
    dot = to_dot(loss, show_data=False)
    nodes, edges = parse(dot)
    tensors = [k for k in nodes if k.startswith("t")]
    ops = [k for k in nodes if k.startswith("f")]
    # 5 tensors (loss, tanh out, matmul out, x, W), 3 ops, 3 op->output + 1 + 1 + 2 input edges
    assert len(tensors) == 5 and len(ops) == 3 and len(edges) == 7
    assert set(nodes) == {"t0", "t1", "t2", "t3", "t4", "f0", "f1", "f2"}
    assert "output" in nodes["t0"][0] and "() float64" in nodes["t0"][0]
    assert nodes[node_with(nodes, "x · input")][0].endswith("(1, 2) float64")
    assert nodes[node_with(nodes, "W · parameter")][0].endswith("(2, 3) float64")
    # kinds are styled differently: four fill colours for output, intermediate, input, parameter
    fills = {k: re.search(r'fillcolor="([^"]+)"', nodes[k][1]).group(1) for k in tensors}
    assert len({fills["t0"], fills["t1"], fills[node_with(nodes, "x ·")], fills[node_with(nodes, "W ·")]}) == 4
    # backward visits sum, then tanh, then matmul; each op shows its local-derivative rule
    assert nodes["f0"][0] == "#1 sum\\nsum: 1"
    assert nodes["f1"][0] == "#2 tanh\\ntanh: 1 − y²"
    assert nodes["f2"][0].startswith("#3 matmul")
    assert set(edges) == {("f0", "t0", ""), ("t1", "f0", ""), ("f1", "t1", ""), ("t2", "f1", ""),
                          ("f2", "t2", ""), (node_with(nodes, "x ·"), "f2", ""), (node_with(nodes, "W ·"), "f2", "")}
    plain = to_dot(loss, show_order=False, show_rules=False)
    assert parse(plain)[0]["f1"][0] == "tanh"


@needs_dot
def test_graphviz_reads_the_same_nodes_and_edges():
    x, W, loss = small_net()
    graph = dot_json(to_dot(loss))
    assert len(graph["objects"]) == 8 and len(graph["edges"]) == 7
    labels = {o["name"]: o["label"] for o in graph["objects"]}
    assert labels["f1"] == "#2 tanh\\ntanh: 1 − y²"


def test_output_is_deterministic_and_ids_follow_breadth_first_order():
    dots = [to_dot(small_net()[2]) for _ in range(2)]
    assert dots[0] == dots[1]
    assert dots[0].startswith("digraph G {\n") and dots[0].endswith("}\n")
    assert "0x" not in dots[0]                      # no memory addresses


def test_constants_are_small_dashed_nodes():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * 2.5).sum()
    nodes, edges = parse(to_dot(y))
    const = [k for k in nodes if k.startswith("c")]
    assert len(const) == 1 and nodes[const[0]][0] == "2.5"
    assert [(t, h) for t, h, a in edges if "dashed" in a] == [(const[0], "f1")]


def test_order_numbers_match_the_trace_on_a_diamond():
    x = Tensor([1.0, -2.0], requires_grad=True, name="x")
    a = x * 2
    b = x * 3
    y = (a * b).sum()
    steps = y.backward(trace=True)
    nodes, edges = parse(to_dot(y, steps=steps, show_data=False))    # gradients as shape and norm
    # by hand: sum first, then the product, then the two branches
    assert nodes["f0"][0].startswith("#1 sum") and nodes["f1"][0].startswith("#2 mul")
    assert sorted(nodes[k][0].split()[0] for k in ("f2", "f3")) == ["#3", "#4"]
    # ids are breadth-first: t0 y, t1 a*b, t2 a, t3 b, t4 x. Which branch backward takes first is
    # the engine's choice: the numbers must be the trace's.
    bfs = {id(y): 0, id(y.grad_fn.inputs[0]): 1, id(a): 2, id(b): 3}
    for s in steps:
        assert nodes[f"f{bfs[id(s.output)]}"][0].startswith(f"#{s.index} mul" if s.index > 1 else "#1 sum")
    # x is reused: its node says two paths met there, and its gradient is 12x
    label = nodes[node_with(nodes, "x · parameter")][0]
    assert "Σ of 2 paths" in label
    assert numbers_after(label, "‖g‖=") == pytest.approx(np.linalg.norm(12 * np.array([1.0, -2.0])), rel=1e-3)
    # x feeds two ops: two edges out of its node
    assert sum(1 for t, _, _ in edges if t == node_with(nodes, "x ·")) == 2


def test_gradients_on_every_node_from_the_trace():
    x, W, loss = small_net()
    steps = loss.backward(trace=True)
    nodes, _ = parse(to_dot(loss, steps=steps, show_data=False))
    z = np.array([[1.0, 2.0]]) @ W.data
    g_z = 1 - np.tanh(z) ** 2                       # dL/dz, by hand
    expected = {"t0": 1.0, "t1": np.sqrt(3.0), "t2": np.linalg.norm(g_z),
                node_with(nodes, "W ·"): np.linalg.norm(np.array([[1.0], [2.0]]) @ g_z)}
    for k, norm in expected.items():
        assert numbers_after(nodes[k][0], "‖g‖=") == pytest.approx(norm, rel=1e-3), k
    assert "grad" not in nodes[node_with(nodes, "x ·")][0]       # inputs have no gradient
    # without a trace only leaves (which keep .grad) show one
    nodes, _ = parse(to_dot(loss, show_data=False))
    assert "grad (2, 3)" in nodes[node_with(nodes, "W ·")][0] and "grad" not in nodes["t1"][0]


def test_broadcast_gradient_summed_back_is_marked_on_the_edge():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, name="x")
    b = Tensor([0.5, -0.5], requires_grad=True, name="b")
    loss = (x + b).sum()
    steps = loss.backward(trace=True)
    nodes, edges = parse(to_dot(loss, steps=steps, show_data=False))
    tb, tx = node_with(nodes, "b ·"), node_with(nodes, "x ·")
    (attrs_b,) = [a for t, h, a in edges if t == tb]
    (attrs_x,) = [a for t, h, a in edges if t == tx]
    assert 'label="grad Σ back from (3, 2)"' in attrs_b
    assert attrs_x == ""
    # b's gradient: the column sums of a (3, 2) block of ones, [3, 3] (norm 3√2)
    assert numbers_after(nodes[tb][0], "‖g‖=") == pytest.approx(3 * np.sqrt(2), rel=1e-3)
    # data first, parameter second: the mark still goes on the parameter's edge (argument 1)
    data = Tensor(np.ones((3, 2)), name="data")
    loss = (data + b).sum()
    nodes, edges = parse(to_dot(loss, steps=loss.backward(trace=True)))
    marked = [t for t, h, a in edges if "Σ back" in a]
    assert marked == [node_with(nodes, "b ·")]


def test_nan_and_inf_are_highlighted():
    x = Tensor([-1.0, 4.0], requires_grad=True, name="x")
    with np.errstate(invalid="ignore", divide="ignore"):
        r = x.sqrt()                                # sqrt(-1) = NaN
        loss = r.sum()
        steps = loss.backward(trace=True)
    nodes, _ = parse(to_dot(loss, steps=steps))
    tr = "t1"                                      # breadth-first: t0 loss, t1 sqrt(x), t2 x
    assert "⚠ NaN in value" in nodes[tr][0] and '#dc2626' in nodes[tr][1]
    assert "⚠ NaN in grad" in nodes[node_with(nodes, "x ·")][0]  # 1 / (2 sqrt(-1))
    assert "⚠ NaN in value" in nodes["t0"][0]                     # the sum of a NaN is NaN
    assert "in grad" not in nodes["t0"][0] + nodes["t1"][0]         # but d sum / d r = 1 is finite
    with np.errstate(divide="ignore"):
        y = Tensor([0.0, 1.0], requires_grad=True).log().sum()   # log 0 = -inf
    nodes, _ = parse(to_dot(y))
    assert "⚠ inf in value" in nodes["t0"][0] and "⚠ inf in value" in nodes["t1"][0]
    assert "⚠" not in to_dot(small_net()[2])


def test_show_data_micrograd_style():
    a = Tensor(2.0, requires_grad=True, name="a")
    b = Tensor(-3.0, requires_grad=True, name="b")
    c = a * b
    L = c + 10.0
    steps = L.backward(trace=True)
    nodes, _ = parse(to_dot(L, steps=steps))                  # the default: small tensors show values
    fields = {k: nodes[k][0].split(" | ") for k in nodes if k.startswith("t")}
    # dL/da = b = -3 (signed, not a norm of 3), dL/db = a = 2, dL/dc = 1; data 2, -3, -6, 4
    assert fields[node_with(nodes, "a ·")][1:] == ["data 2", "grad -3"]
    assert fields[node_with(nodes, "b ·")][1:] == ["data -3", "grad 2"]
    assert fields["t1"][1:] == ["data -6", "grad 1"]
    assert fields["t0"][1:] == ["data 4", "grad 1"]
    assert "‖g‖" not in to_dot(L, steps=steps)
    # the same without a trace, from .grad (micrograd's draw_dot after backward)
    a, b = Tensor(2.0, requires_grad=True, name="a"), Tensor(-3.0, requires_grad=True, name="b")
    (a * b).backward()
    nodes, _ = parse(to_dot(a * b))
    assert nodes[node_with(nodes, "a ·")][0].endswith("| data 2 | grad -3")
    # show_data=False: shape and norm only
    nodes, _ = parse(to_dot(L, steps=steps, show_data=False))
    assert nodes[node_with(nodes, "a ·")][0].split(" | ")[1:] == ["grad () ‖g‖=3"]
    # large tensors keep shape and norm; a small matrix shows one row per line
    big = Tensor(np.ones((4, 5)), requires_grad=True, name="big")
    nodes, _ = parse(to_dot(big.sum(), steps=big.sum().backward(trace=True), max_values=8))
    assert "data" not in nodes[node_with(nodes, "big ·")][0]
    assert "grad (4, 5) ‖g‖=4.472" in nodes[node_with(nodes, "big ·")][0]
    W = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]), requires_grad=True, name="W")
    loss = (W * W).sum()
    nodes, _ = parse(to_dot(loss, steps=loss.backward(trace=True)))
    assert nodes[node_with(nodes, "W ·")][0].split(" | ")[1:] == ["data\\n[1, -2]\\n[3, 0.5]",
                                                                 "grad\\n[2, -4]\\n[6, 1]\\nΣ of 2 paths"]


def nn_graph(reduction="mean"):
    """A 2-3-2 tanh net and its softmax cross-entropy on 4 rows, recorded with scopes, traced."""
    import nn
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 2, rng=1))
    X = np.array([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [0.0, 1.0]])
    with record_scopes():
        loss = nn.SoftmaxCrossEntropy(reduction)(model(X), np.array([0, 1, 1, 0]))
    if reduction == "none":
        loss = loss.sum()                           # one loss per row: their sum is the root
    return model, loss, loss.backward(trace=True)


def test_intermediates_of_nn_graphs_are_named_after_their_module():
    model, loss, steps = nn_graph()
    nodes, edges = parse(to_dot(loss, steps=steps, params=model))
    titles = {k: v[0].split("\\n")[0] for k, v in nodes.items() if k.startswith("t")}
    # the output of module 0 is 0.out, of module 1 (Tanh) 1.out, ...: no t5, t2, t1
    assert {"0.out", "1.out", "2.out", "SoftmaxCrossEntropy.out · output"} <= set(titles.values())
    assert not [t for t in titles.values() if re.fullmatch(r"t\d+", t) or "intermediate" in t]
    by_title = {v: k for k, v in titles.items()}
    assert nodes[by_title["1.out"]][2] == ["Sequential", "1: Tanh"]       # in its module's cluster
    assert ("f" + by_title["1.out"][1:], by_title["1.out"], "") in edges  # made by the tanh op
    assert nodes["f" + by_title["1.out"][1:]][0].startswith("#3 tanh")
    # the same names in the text tree and in explain_backward
    text = format_graph(loss, steps=steps, params=model)
    assert "└─ 2.out  (4, 2) float64  = linear(1.out, 2.weight, 2.bias)" in text
    assert "= tanh(0.out)" in text
    expl = explain_backward(steps=steps, params=model)
    assert [r.output_name for r in expl][1:] == ["2.out", "1.out", "0.out"]


def test_tensors_inside_a_module_and_repeated_calls_get_distinct_names():
    W = Tensor(np.eye(2), requires_grad=True, name="W")
    outs = []
    with record_scopes():
        for x in (np.ones((2, 2)), np.full((2, 2), 2.0)):    # one module called twice (shared weights)
            with name_scope("Net"), name_scope("block: Block"):
                outs.append((Tensor(x) @ W).tanh())          # matmul stays inside, tanh leaves it
    loss = (outs[0] + outs[1]).sum()
    text = format_graph(loss)
    # forward order: the first call's tensors have no suffix, the second call's get _2
    assert "= add(block.out, block.out_2)" in text
    assert "block.out  (2, 2) float64  = tanh(block.matmul)" in text
    assert "block.out_2  (2, 2) float64  = tanh(block.matmul_2)" in text
    assert "t0 · output" in text                                        # made outside any scope
    assert "block" not in format_graph((Tensor(np.ones((2, 2))) @ W).sum())   # unscoped: t<k>


def test_the_labels_node_says_it_holds_the_labels():
    model, loss, steps = nn_graph()
    nodes, _ = parse(to_dot(loss, steps=steps, params=model))
    (const,) = [k for k in nodes if k.startswith("c")]
    assert nodes[const][0] == "labels [0, 1, 1, 0]"
    assert "labels [0, 1, 1, 0]" in format_graph(loss)
    many = Tensor(np.zeros((50, 3)), requires_grad=True).softmax_cross_entropy(np.arange(50) % 3)
    nodes, _ = parse(to_dot(many))
    assert [v[0] for k, v in nodes.items() if k.startswith("c")] == ["labels array (50,) int64"]
    # probability rows, and the targets of BCE and MSE; labels given as a Tensor are named too
    z = Tensor(np.zeros((2, 2)), requires_grad=True, name="z")
    for loss in (z.softmax_cross_entropy(np.full((2, 2), 0.5)), z.mse(np.ones((2, 2))),
                 z.binary_cross_entropy_with_logits(np.ones((2, 2)))):
        nodes, _ = parse(to_dot(loss))
        assert [v[0] for k, v in nodes.items() if k.startswith("c")][0].startswith("targets ")
    loss = z.softmax_cross_entropy(Tensor(np.array([1, 0])))
    assert "labels · input  (2,) int64" in format_graph(loss)


@pytest.mark.parametrize("reduction, rule", [("mean", "softmax-CE: (ŷ − y)/N, N = 4"),
                                             ("sum", "softmax-CE: ŷ − y"), ("none", "softmax-CE: ŷ − y")])
def test_the_loss_rule_follows_the_reduction(reduction, rule):
    model, loss, steps = nn_graph(reduction)
    nodes, _ = parse(to_dot(loss, steps=steps))
    assert rule in [v[0].split("\\n")[-1] for k, v in nodes.items() if k.startswith("f")]
    sce = [r for r in explain_backward(steps=steps) if r.op.startswith("softmax_cross_entropy")][0]
    assert sce.rule == rule
    # and the gradient the rule describes: (softmax(z) − onehot)/4 for the mean
    z = sce.fn.inputs[0].data
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    expected = (p - np.eye(2)[[0, 1, 1, 0]]) / (4 if reduction == "mean" else 1)
    np.testing.assert_allclose(sce.contributions[0].grad, expected, rtol=1e-12)


def test_bce_and_mse_rules_divide_by_the_number_of_elements():
    z = Tensor(np.zeros((3, 2)), requires_grad=True)
    for loss, rule in ((z.binary_cross_entropy_with_logits(np.ones((3, 2))), "BCE: (σ(z) − y)/N, N = 6"),
                       (z.mse(np.ones((3, 2))), "MSE: 2(x − y)/N, N = 6"),
                       (z.mse(np.ones((3, 2)), reduction="sum"), "MSE: 2(x − y)")):
        nodes, _ = parse(to_dot(loss))
        assert nodes["f0"][0].split("\\n")[1] == rule


def test_parameters_named_by_module_path():
    W = Tensor(np.ones((2, 2)), requires_grad=True, name="ignored")
    bias = Tensor(np.zeros(2), requires_grad=True)
    loss = (Tensor([[1.0, 1.0]]) @ W + bias).sum()

    class FakeModule:
        def named_parameters(self):
            return iter([("0.weight", W), ("0.bias", bias)])

    for params in ({"0.weight": W, "0.bias": bias}, [("0.weight", W), ("0.bias", bias)], FakeModule()):
        nodes, _ = parse(to_dot(loss, params=params))
        assert node_with(nodes, "0.weight · parameter") and node_with(nodes, "0.bias · parameter")
        assert "ignored" not in to_dot(loss, params=params)
    with pytest.raises(ArgumentError, match="params entry '0.weight'"):
        to_dot(loss, params={"0.weight": np.ones(2)})
    with pytest.raises(ArgumentError, match="params"):
        to_dot(loss, params=42)


def scoped_net_dot():
    """DOT text of a 2-3-1 net recorded with nested name scopes, and the tensors x and W1."""
    x = Tensor(np.ones((4, 2)), name="x")
    W1 = Tensor(np.full((2, 3), 0.1), requires_grad=True, name="W1")
    W2 = Tensor(np.full((3, 1), 0.2), requires_grad=True, name="W2")
    with record_scopes():
        with name_scope("Sequential"):
            with name_scope("0: Linear(2→3)"):
                h = x @ W1
            with name_scope("1: Tanh"):
                h = h.tanh()
            with name_scope("2: Linear(3→1)"):
                out = h @ W2
    return to_dot(out.mean()), x, W1


def test_scopes_become_nested_labelled_clusters():
    dot, x, W1 = scoped_net_dot()
    nodes, _ = parse(dot)
    assert dot.count("subgraph cluster_") == 4
    seq = ["Sequential"]
    assert nodes[node_with(nodes, "#2 matmul")][2] == seq + ["2: Linear(3→1)"]
    assert nodes[node_with(nodes, "tanh\\n")][2] == seq + ["1: Tanh"]
    assert nodes[node_with(nodes, "#4 matmul")][2] == seq + ["0: Linear(2→3)"]
    assert nodes[node_with(nodes, "W1 ·")][2] == seq + ["0: Linear(2→3)"]   # parameters join their module
    assert nodes[node_with(nodes, "W2 ·")][2] == seq + ["2: Linear(3→1)"]
    assert nodes[node_with(nodes, "x ·")][2] == []                          # data stays outside
    assert nodes["f0"][2] == [] and nodes["t0"][2] == []                    # mean is outside any scope
    # without record_scopes / name_scope: no clusters
    assert "subgraph" not in to_dot((x @ W1).sum())


@needs_dot
def test_graphviz_reads_the_nested_clusters():
    graph = dot_json(scoped_net_dot()[0])
    assert graph["_subgraph_cnt"] == 4
    assert {o.get("label") for o in graph["objects"][:4]} == {"Sequential", "0: Linear(2→3)", "1: Tanh",
                                                              "2: Linear(3→1)"}


def escaped_dot():
    weird = 'we"ird \\ {name} | <x>\nline2'
    t = Tensor([1.0], requires_grad=True, name=weird)
    with record_scopes(), name_scope('sc"ope\\'):
        y = t * 2
    return to_dot(y.sum(), title='a "title"')


def test_labels_are_escaped():
    dot = escaped_dot()
    assert '{we\\"ird \\\\ \\{name\\} \\| \\<x\\>\\nline2 · parameter' in dot
    assert 'label="sc\\"ope\\\\"' in dot and 'label="a \\"title\\""' in dot


def test_graphviz_reads_back_exactly_the_escaped_text(graphviz_dot):
    svg = html.unescape(subprocess.run([graphviz_dot, "-Tsvg"], input=escaped_dot().encode(),
                                       capture_output=True, check=True).stdout.decode())
    assert 'we"ird \\ {name} | <x>' in svg and "line2 · parameter" in svg
    assert 'sc"ope\\' in svg and 'a "title"' in svg


def test_bad_arguments_raise_clear_errors():
    loss = small_net()[2]
    with pytest.raises(ArgumentError, match="to_dot: root must be a Tensor, got list"):
        to_dot([1.0])
    with pytest.raises(ArgumentError, match="backward\\(trace=True\\)"):
        to_dot(loss, steps=[1, 2])
    with pytest.raises(ArgumentError, match="max_nodes"):
        to_dot(loss, max_nodes=0)
    with pytest.raises(ArgumentError, match="rankdir"):
        to_dot(loss, rankdir="sideways")
    with pytest.raises(ArgumentError, match="max_nodes"):
        format_graph(loss, max_nodes=-3)


def test_a_leaf_or_untracked_root_is_a_single_node():
    nodes, edges = parse(to_dot(Tensor([1.0, 2.0])))
    assert list(nodes) == ["t0"] and edges == []


# ---------------------------------------------------------------------------------------------------
# Big graphs: cut with a note, linear time, no recursion

@pytest.fixture(scope="module")
def chain_1e5():
    x = Tensor(np.array([0.5]), requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    return x, y.sum()


def test_chain_of_1e5_ops_is_cut_with_a_note(chain_1e5):
    """Never a hang: the traversal stops at the node limit (speed is the benchmark's business, not a
    unit test's; structure is checked here)."""
    x, loss = chain_1e5
    with low_recursion_limit():
        dot = to_dot(loss)
    nodes, edges = parse(dot)
    # 100,002 tensors in all (x, 100,000 products, the sum); 300 drawn
    assert sum(k.startswith("t") for k in nodes) == 300
    assert "… 99,702 more tensor nodes not drawn" in nodes["more"][0]
    assert "pass max_nodes=100002" in nodes["more"][0]
    assert ("more", "f299", "style=dotted") in edges          # the cut is attached where it happens


def test_chain_of_1e5_ops_prints_with_a_limit(chain_1e5):
    x, loss = chain_1e5
    with low_recursion_limit():
        text = format_graph(loss)
    lines = text.splitlines()
    assert len(lines) == 301
    assert lines[-1].startswith("… 99,702 more tensors not printed")
    assert all(len(line) < 200 for line in lines)             # deep indentation is elided


def test_chain_of_1e4_ops_draw_print_explain_everything():
    n = 10_000
    x = Tensor(np.array([0.5]), requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = y * 1.0
    loss = y.sum()
    with low_recursion_limit():
        nodes, edges = parse(to_dot(loss, max_nodes=None))
        text = format_graph(loss, max_nodes=None)
        expl = explain_backward(loss, accumulate=True)
    assert sum(k.startswith("t") for k in nodes) == n + 2 and "more" not in nodes
    assert len(edges) == 3 * n + 1 + 1                         # each mul: in, out, constant; sum: in, out
    assert len(text.splitlines()) == n + 2
    assert len(expl) == n + 1 and np.asarray(x.grad).tolist() == [1.0]
    assert "more steps not shown" in str(expl)


# ---------------------------------------------------------------------------------------------------
# Graphviz objects, real files, missing `dot`

def test_draw_graph_returns_a_digraph_holding_the_dot_text():
    graphviz = pytest.importorskip("graphviz")
    loss = small_net()[2]
    g = draw_graph(loss, title="net")
    assert isinstance(g, graphviz.Digraph)
    assert g.source == to_dot(loss, title="net")
    with pytest.raises(ArgumentError, match="format"):
        draw_graph(loss, format="bmpx")


@needs_dot
def test_svg_png_and_pdf_are_really_rendered(tmp_path):
    pytest.importorskip("graphviz")
    x = Tensor(np.ones((3, 2)), requires_grad=True, name="x")
    with record_scopes(), name_scope("0: Linear(2→3)"):
        y = (x * 2.0).sum()
    steps = y.backward(trace=True)
    g = draw_graph(y, steps=steps)
    svg_path = g.render(str(tmp_path / "graph"), format="svg")
    svg = open(svg_path, encoding="utf-8").read()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<svg" in svg
    assert "0: Linear(2→3)" in html.unescape(svg)              # UTF-8 survives
    png_path = g.render(str(tmp_path / "graph2"), format="png")
    assert open(png_path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(g.write(tmp_path / "one.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert open(g.write(tmp_path / "one.pdf"), "rb").read(5) == b"%PDF-"
    assert open(g.write(tmp_path / "one.svg"), "rb").read().lstrip().startswith((b"<?xml", b"<svg"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]   # temporaries cleaned up
    assert "image/svg+xml" in g._repr_mimebundle_()


def test_missing_dot_raises_one_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    g = draw_graph(small_net()[2])
    (tmp_path / "source.dot").write_text("")
    assert open(g.write(tmp_path / "g.dot"), encoding="utf-8").read() == g.source   # DOT needs no dot
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    for attempt in (lambda: g.render(str(tmp_path / "g"), format="svg"),
                    lambda: g.pipe(format="png"),
                    lambda: g.write(tmp_path / "g.png")):
        with pytest.raises(GraphvizNotFound, match="apt-get install graphviz") as info:
            attempt()
        assert "brew install graphviz" in str(info.value) and isinstance(info.value, RuntimeError)
    assert not (tmp_path / "g.png").exists()
    bundle = g._repr_mimebundle_()                 # notebooks show the text instead of a traceback
    assert list(bundle) == ["text/plain"] and "apt-get install graphviz" in bundle["text/plain"]


def test_dot_vanishing_from_path_is_reported_the_same_way(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    g = draw_graph(small_net()[2])
    # shutil.which is fooled, so graphviz itself fails to start `dot`: that error is translated too
    monkeypatch.setattr(viz.shutil, "which", lambda name: "/nonexistent/dot")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        g.pipe(format="svg")


def test_missing_graphviz_package(monkeypatch):
    monkeypatch.setattr(viz, "_drawing_class", None)
    monkeypatch.setitem(sys.modules, "graphviz", None)        # makes `import graphviz` fail
    with pytest.raises(GraphvizNotFound, match="pip install graphviz"):
        draw_graph(small_net()[2])
    assert to_dot(small_net()[2]).startswith("digraph")      # DOT text needs nothing


def test_importing_the_engine_does_not_import_graphviz():
    code = "import sys, tinygrad_edu; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------------
# Text tree

def test_print_graph_of_a_small_graph():
    x, W, loss = small_net()
    buf = io.StringIO()
    text = print_graph(loss, file=buf)
    assert buf.getvalue() == text
    assert text == (
        "t0 · output  () float64  = sum(t1)  #1  data 0.664\n"
        "└─ t1  (1, 3) float64  = tanh(t2)  #2  data [[0.7163, 0.664, -0.7163]]\n"
        "   └─ t2  (1, 3) float64  = matmul(x, W)  #3  data [[0.9, 0.8, -0.9]]\n"
        "      ├─ x · input  (1, 2) float64  data [[1, 2]]\n"
        "      └─ W · parameter  (2, 3) float64\n")
    assert format_graph(loss, show_data=False).splitlines()[0] == "t0 · output  () float64  = sum(t1)  #1"
    loss.backward()
    g_W = np.array([[1.0], [2.0]]) @ (1 - np.tanh(np.array([[1.0, 2.0]]) @ W.data) ** 2)
    last = format_graph(loss).splitlines()[-1]
    assert last.startswith("      └─ W · parameter  (2, 3) float64  grad (2, 3) ‖g‖=")
    assert numbers_after(last, "‖g‖=") == pytest.approx(np.linalg.norm(g_W), rel=1e-3)


def test_print_graph_prints_shared_subgraphs_once():
    x = Tensor([1.0, -2.0], requires_grad=True, name="x")
    a = x * 2
    b = x * 3
    y = (a * b).sum()
    step = {id(t): k + 1 for k, t in enumerate(tinygrad_edu.toposort([y]))}   # backward's visit order
    assert format_graph(y, show_data=False) == (
        "t0 · output  () float64  = sum(t1)  #1\n"
        "└─ t1  (2,) float64  = mul(t2, t3)  #2\n"
        f"   ├─ t2  (2,) float64  = mul(x, 2)  #{step[id(a)]}\n"
        "   │  └─ x · parameter  (2,) float64\n"
        f"   └─ t3  (2,) float64  = mul(x, 3)  #{step[id(b)]}\n"
        "      └─ x (see above)\n")
    assert {step[id(a)], step[id(b)]} == {3, 4}
    # 40 stacked diamonds: 2^40 paths, but a linear number of lines
    h = x
    for _ in range(40):
        h = h.tanh() + h.sigmoid()
    lines = format_graph(h, max_nodes=None).splitlines()
    assert len(lines) == 40 * 4 + 1
    assert sum("(see above)" in line for line in lines) == 40


def test_print_graph_shows_the_trace_and_scopes():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, name="x")
    b = Tensor([0.5, -0.5], requires_grad=True, name="b")
    with record_scopes(), name_scope("layer"):
        s = x + b
    loss = s.sum()
    steps = loss.backward(trace=True)
    text = format_graph(loss, steps=steps, show_rules=True)
    assert "layer.out  (3, 2) float64  = add(x, b)  #2  [+: 1, 1]  in layer  grad (3, 2) ‖g‖=2.449" in text
    assert "b · parameter  (2,) float64  data [0.5, -0.5]  grad [3, 3]" in text   # small: signed values


# ---------------------------------------------------------------------------------------------------
# explain_backward

def diamond():
    x = Tensor([1.0, -2.0], requires_grad=True, name="x")
    a = x * 2
    a.name = "a"
    b = x * 3
    b.name = "b"
    y = (a * b).sum()
    y.name = "y"
    return x, a, b, y


def test_explain_backward_on_a_diamond_adds_up_to_the_gradient():
    x, a, b, y = diamond()
    xv = np.array([1.0, -2.0])
    expl = explain_backward(y, accumulate=True)
    assert [r.op for r in expl] == ["sum", "mul", "mul", "mul"]
    names = [r.output_name for r in expl]
    assert names[:2] == ["y", "t1"] and sorted(names[2:]) == ["a", "b"]
    assert all(r.output is t for r, t in zip(expl, tinygrad_edu.toposort([y])))     # backward's order
    assert expl[1].rule == "×: y, x"
    np.testing.assert_array_equal(expl[1].grad_output, np.ones(2))
    # step 2 (a * b) passes b = 3x to a and a = 2x to b
    (ca, cb) = expl[1].contributions
    assert (ca.tensor, ca.position, cb.tensor, cb.position) == (a, 0, b, 1)
    np.testing.assert_allclose(ca.grad, 3 * xv)
    np.testing.assert_allclose(cb.grad, 2 * xv)
    # x receives 2·(3x) from a's branch and 3·(2x) from b's branch; together d(6x²)/dx = 12x
    into_x = expl.contributions_to(x)
    assert len(into_x) == 2 and [c.position for c in into_x] == [0, 0]
    np.testing.assert_allclose(into_x[0].grad, 6 * xv)
    np.testing.assert_allclose(into_x[1].grad, 6 * xv)
    assert [c.accumulated for c in into_x] == [False, True]
    np.testing.assert_allclose(into_x[1].total, 12 * xv)
    np.testing.assert_allclose(np.asarray(x.grad), 12 * xv)         # accumulate=True: like backward()
    text = str(expl)
    assert text == expl.text and text.startswith("Backward pass from y () float64: 4 steps")
    assert f"Step {names.index('a') + 1}: mul → a" in text and "local derivative   ×: y, x" in text
    assert "→ to x (argument 0): (2,) [6, -12]" in text
    assert "+= accumulated with an earlier path; x has now received (2,) [12, -24]" in text
    assert text.rstrip().endswith("x: (2,) [12, -24]")
    assert "4 steps" in repr(expl)


def test_explaining_then_backward_gives_the_gradient_once():
    """The footgun: explain_backward(loss) and then loss.backward() must not double .grad."""
    x, a, b, y = diamond()
    expl = explain_backward(y)                                  # default: no .grad changes
    assert x.grad is None and a.grad is None
    y.backward()                                                # the graph was retained
    np.testing.assert_allclose(np.asarray(x.grad), [12.0, -24.0])     # d(6x²)/dx = 12x, once
    assert "every .grad is unchanged" in str(expl)
    # a model's parameters too: explain, then the training step's backward
    W = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True, name="W")
    loss = (Tensor(np.array([[1.0, 2.0]])) @ W).tanh().sum()
    explain_backward(loss)
    loss.backward()
    reference = Tensor(W.data.copy(), requires_grad=True)
    (Tensor(np.array([[1.0, 2.0]])) @ reference).tanh().sum().backward()
    np.testing.assert_array_equal(np.asarray(W.grad), np.asarray(reference.grad))


def test_explain_backward_returns_an_explanation_and_prints_nothing(capsys):
    x, a, b, y = diamond()
    expl = explain_backward(y)
    assert capsys.readouterr() == ("", "")
    assert isinstance(expl, tinygrad_edu.BackwardExplanation) and len(expl) == 4
    print(expl)
    assert capsys.readouterr().out == expl.text + "\n"


def test_explain_backward_can_leave_grads_alone_and_read_existing_steps():
    x, a, b, y = diamond()
    expl = explain_backward(y, accumulate=False)
    assert x.grad is None and a.grad is None
    np.testing.assert_allclose(sum(c.grad for c in expl.contributions_to(x)), [12.0, -24.0])
    assert "not stored: every .grad is unchanged" in str(expl)
    # the graph was retained: a real backward still works, and its trace can be explained as is
    steps = y.backward(trace=True)
    again = explain_backward(steps=steps)
    assert len(again) == 4 and again.root is y
    np.testing.assert_allclose(np.asarray(x.grad), [12.0, -24.0])       # one backward, not two
    assert [c.accumulated for c in again.contributions_to(x)] == [False, True]
    # the explanation doubles as the trace for a drawing
    nodes, _ = parse(to_dot(y, steps=again))
    assert "Σ of 2 paths" in nodes[node_with(nodes, "x ·")][0]


def test_explain_backward_notes_summed_back_broadcasts_and_reuse_in_one_op():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, name="x")
    b = Tensor([0.5, -0.5], requires_grad=True, name="b")
    expl = explain_backward((x + b).sum())
    (cx, cb) = expl[1].contributions
    assert cx.summed_from is None and cb.summed_from == (3, 2)
    np.testing.assert_allclose(cb.grad, [3.0, 3.0])
    assert "summed back from (3, 2) to (2,)" in str(expl)
    # x * x: the same tensor in both positions, 2x in total
    z = Tensor([1.5, -1.0], requires_grad=True, name="z")
    e = explain_backward((z * z).sum())
    (c0, c1) = e[1].contributions
    assert (c0.position, c1.position, c0.accumulated, c1.accumulated) == (0, 1, False, True)
    np.testing.assert_allclose(c1.total, 2 * np.array([1.5, -1.0]))
    # a constant first operand: z is argument 1 of the product
    e = explain_backward((Tensor([2.0, 2.0]) * z).sum(), accumulate=False)
    (c,) = e[1].contributions
    assert c.tensor is z and c.position == 1 and "→ to z (argument 1): (2,) [2, 2]" in str(e)


def test_explain_backward_reports_earlier_grads_and_big_arrays_briefly():
    W = Tensor(np.ones((4, 5)), requires_grad=True, name="W")
    loss = (W * 2.0).sum()
    loss.backward(retain_graph=True)                            # W.grad already holds 2s
    expl = explain_backward(loss, max_values=8, accumulate=True)
    assert "+= added to the .grad W already held from an earlier backward" in str(expl)
    assert f"(4, 5) ‖g‖={np.sqrt(20) * 2:.4g}" in str(expl)      # 20 elements: shape and norm only
    np.testing.assert_allclose(np.asarray(W.grad), np.full((4, 5), 4.0))


def test_explain_backward_errors():
    x, a, b, y = diamond()
    y.backward()                                                # frees the graph
    with pytest.raises(GraphError, match="freed"):
        explain_backward(y)
    with pytest.raises(ArgumentError, match="root must be a Tensor"):
        explain_backward(3.0)
    with pytest.raises(ArgumentError, match="max_steps"):
        explain_backward(y, max_steps=0)
    with pytest.raises(ArgumentError, match="steps"):
        explain_backward(steps="not steps")
    fresh = diamond()
    with pytest.raises(ArgumentError, match="params"):
        explain_backward(fresh[3], params={"x": "not a tensor"})
    assert fresh[0].grad is None                                # refused before backward ran
    with pytest.raises(ArgumentError, match="grad="):
        explain_backward(fresh[3], grad=np.ones(()), steps=fresh[3].backward(trace=True))


def test_public_names_are_exported():
    for name in ("to_dot", "draw_graph", "format_graph", "print_graph", "explain_backward",
                 "GraphvizNotFound", "BackwardExplanation", "StepRecord", "ContributionRecord"):
        assert name in tinygrad_edu.__all__ and getattr(tinygrad_edu, name) is getattr(viz, name)


def test_written_drawings_get_normal_file_permissions(tmp_path):
    """Pinned: the atomic write goes through a 0600 temporary file; the result must get the umask's
    default permissions like any new file (it was left 0600)."""
    import os
    x = Tensor([1.0], requires_grad=True)
    old = os.umask(0o022)
    try:
        path = tinygrad_edu.draw_graph((x * 2).sum()).write(tmp_path / "g.dot")
    finally:
        os.umask(old)
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
    assert open(path, encoding="utf-8").read().startswith("digraph")


# ---------------------------------------------------------------------------------------------------
# The graphviz_dot fixture of tests/conftest.py: skip without dot, fail under CI

@pytest.mark.parametrize("ci, outcome", [(None, "skipped"), ("1", "error")])
def test_rendering_tests_skip_without_dot_but_fail_under_ci(tmp_path, ci, outcome):
    """A rendering test on a machine without Graphviz: skipped with the reason, or an error (a failed run) under CI."""
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_render.py").write_text("def test_render(graphviz_dot):\n    assert graphviz_dot\n")
    (tmp_path / "no-dot").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(tmp_path / "no-dot")                      # no Graphviz on this PATH
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider",
                             "test_render.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    report = result.stdout + result.stderr
    assert f"1 {outcome}" in report, report
    assert "Graphviz's 'dot' program is not installed" in report and "apt-get install graphviz" in report
    assert (result.returncode == 0) == (outcome == "skipped")


# ---------------------------------------------------------------------------------------------------
# Notebook displays: Tensor, Module and the backward explanation have _repr_html_

def html_text(markup):
    """(the text a browser shows, with cells separated by '|') after checking the tags are balanced."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.open, self.text = [], []

        def handle_starttag(self, tag, attrs):
            if tag not in ("br",):
                self.open.append(tag)
            if tag in ("td", "th"):
                self.text.append("|")

        def handle_endtag(self, tag):
            assert self.open and self.open.pop() == tag, f"unbalanced </{tag}> in {markup}"

        def handle_data(self, data):
            self.text.append(data)

    reader = Reader()
    reader.feed(markup)
    reader.close()
    assert reader.open == [], f"unclosed tags {reader.open}"
    return "".join(reader.text)


def test_tensor_html_shows_values_and_signed_grad_escaped():
    W = Tensor(np.array([[1.0, -2.0], [3.0, 4.0]]), requires_grad=True, name="<W & b>")
    (W * W).sum().backward()
    text = html_text(W._repr_html_())
    assert text.startswith("<W & b> (2, 2) float64, requires grad")           # escaped, then shown as is
    assert "data|1|-2|3|4" in text and "grad|2|-4|6|8" in text                # dL/dW = 2W, signed
    made = html_text((W * 2.0)._repr_html_())
    assert made.startswith("Tensor (2, 2) float64, made by mul") and "grad" not in made
    big = html_text(Tensor(np.arange(100).reshape(10, 10))._repr_html_())
    assert "|0|1|2|3|4|5|6|7|…|10|" in big and "|99" not in big              # cut at 8 × 8
    assert "0. 0." in html_text(Tensor(np.zeros((2, 2, 2)))._repr_html_())    # 3-D: as NumPy prints it
    assert html_text(Tensor(3.5)._repr_html_()).endswith("data|3.5")


def test_module_html_lists_every_parameter_and_the_total():
    import nn
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 2, rng=0))
    text = html_text(model._repr_html_())
    assert "Sequential(  # 17 parameters" in text and "(1): Tanh()" in text
    for row in ("|0.weight|(2, 3)|float64|6", "|0.bias|(3,)|float64|3", "|2.weight|(3, 2)|float64|6",
                "|2.bias|(2,)|float64|2", "|total|17"):
        assert row in text, row


def test_explanation_html_has_one_row_per_step_with_the_texts_values():
    x, a, b, y = diamond()
    expl = explain_backward(y)
    text = html_text(expl._repr_html_())
    assert text.startswith("Backward pass from y () float64: 4 steps")
    assert text.count("|") == 5 * (1 + 4)                                     # header + 4 steps, 5 columns
    assert "|1|sum → y|sum: 1|1|" in text
    assert "x: (2,) [6, -12] (+= accumulated)" in text                      # the second path into x
    assert "x: (2,) [12, -24]" in text and "not stored: every .grad is unchanged" in text
    short = html_text(expl._repr_html_(max_steps=2))
    assert "|… 2 more steps not shown" in short and short.count("|") == 5 * 3 + 1
    assert x.grad is None                                                   # displaying changes nothing
