"""Drawings of the recorded graph that teach backprop: Graphviz pictures, a text tree, and a
step-by-step account of the backward pass.

    with record_scopes():                         # nn then labels each module: one cluster per module
        loss = model(x).softmax_cross_entropy(y)
    expl = explain_backward(loss)                 # runs a traced backward; no .grad changes
    print(expl)                                   # each op: upstream gradient, rule, contributions
    draw_graph(loss, steps=expl, params=model)    # a graphviz.Digraph: shows inline in Jupyter
    print(to_dot(loss, steps=expl))               # the same drawing as DOT text, no Graphviz needed
    print_graph(loss, steps=expl)                 # an indented tree for terminals

The drawing functions only read the graph (`t.grad_fn`, `fn.inputs`, `fn.name`, `fn.rule`,
`fn.scope`) and, after a backward, the BackwardStep records of `backward(trace=True)`: drawing is a
pure function (to_dot returns text). Only draw_graph imports the graphviz package, and only
rendering needs the Graphviz `dot` program. explain_backward runs the backward itself (or reads the
steps of one that already ran).

Every traversal is iterative and linear in the size of the graph, so a chain of 10^5 ops draws (cut
to `max_nodes` tensors, with a note saying so) and prints without recursion and without hanging.

Names: parameters by their module path (`0.weight`, from params=) or their .name; an unnamed tensor
made inside a module's scope after the module (`0.out` is what leaves module 0, as `0.weight` is its
weight); a loss's labels `labels`. Any other tensor is numbered in breadth-first order from the root
(`t0` is the root, then its inputs, ...). The DOT node ids use that numbering too, and every drawing
uses the same names, so `1.out` or `t7` means the same tensor in the picture, in print_graph and in
explain_backward.
"""
import os
import re
import shutil
import sys
from dataclasses import dataclass, field

import numpy as np

from .autograd import BackwardStep, backward as _run_backward, toposort
from .errors import ArgumentError, TinygradError
from .files import atomic_write
from .function import nonfinite as _nonfinite
from .tensor import Tensor

__all__ = ["to_dot", "draw_graph", "format_graph", "print_graph", "explain_backward",
           "BackwardExplanation", "StepRecord", "ContributionRecord", "GraphvizNotFound"]

DEFAULT_MAX_NODES = 300

_INSTALL_HINT = ("Install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
                 "conda: conda install graphviz; Windows: https://graphviz.org/download/). Without it, "
                 "to_dot(...) still gives the DOT text and print_graph(...) a text drawing.")


class GraphvizNotFound(TinygradError, RuntimeError):
    """Rendering a drawing needs the Graphviz `dot` program (and the `graphviz` Python package),
    and one of them is missing. The message says how to install it."""


# ---------------------------------------------------------------------------------------------------
# Small formatting helpers

def _num(x):
    """A number in 4 significant digits (the precision a reader can compare by eye)."""
    return f"{float(x):.4g}"


def _values(a, max_values):
    """The values of a small array on one line, or None when it has more than max_values elements."""
    a = np.asarray(a)
    if a.size > max_values:
        return None
    if a.ndim == 0:
        return _num(a) if a.dtype.kind == "f" else str(a.item())
    text = np.array2string(a, separator=", ", max_line_width=10**9, threshold=max_values + 1,
                           formatter={"float_kind": _num})
    return " ".join(text.split())           # nested rows on one line


def _value_lines(a, max_values):
    """Like _values, but a matrix gets one line per row (a drawing's node stays narrow), or None."""
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[0] < 2 or a.size > max_values:
        return _values(a, max_values)
    return "\n".join(_values(row, max_values) for row in a)


def _norm(a):
    """Euclidean (Frobenius) norm of a gradient array, in float64."""
    return float(np.sqrt(np.sum(np.square(np.asarray(a, dtype=np.float64)))))


def _shape(shape):
    return str(tuple(shape))


def _grad_summary(g):
    """'(2, 3) ‖g‖=1.414' - the shape and size of a gradient at a glance."""
    return f"{_shape(g.shape)} ‖g‖={_num(_norm(g))}"


def _op_options(fn):
    """The options that change what an op computes, as 'key=value' strings (p of pow, axis, ...)."""
    opts = []
    for attr in ("p", "axis", "axes", "lo", "hi", "reduction"):
        v = getattr(fn, attr, None)
        if v is not None:
            opts.append(f"{attr}={v!r}" if isinstance(v, str) else f"{attr}={v}")
    return opts


def _op_label(fn):
    """The op's name plus its options, e.g. 'tanh', 'pow(p=2)', 'max(axis=1)'."""
    opts = _op_options(fn)
    return f"{fn.name}({', '.join(opts)})" if opts else fn.name


def _constant_text(c, max_values, role=None):
    """How a non-Tensor operand (a Python scalar, an array of labels, ...) is shown; `role` ('labels',
    'targets') says what it is when the op tells (a loss's second argument)."""
    if isinstance(c, np.ndarray) and c.ndim > 0:
        vals = _values(c, max_values)
        text = vals if vals is not None else f"array {_shape(c.shape)} {c.dtype}"
    else:
        text = _num(c) if isinstance(c, (float, np.floating)) else str(np.asarray(c).item())
    return f"{role} {text}" if role else text


# What the second argument of a loss op is: drawings label that operand, so the array of class labels
# does not look like just another input.
_TARGET_OPS = ("softmax_cross_entropy", "binary_cross_entropy_with_logits", "mse")


def _role(fn, position, operand):
    """'labels' (integer class labels), 'targets' (rows or values to match) or None."""
    if position != 1 or fn.name not in _TARGET_OPS:
        return None
    dtype = operand.dtype if isinstance(operand, Tensor) else np.asarray(operand).dtype
    return "labels" if fn.name == "softmax_cross_entropy" and dtype.kind in "iub" else "targets"


def _rule(fn):
    """The op's local-derivative label, with the 1/N of a mean reduction written out: a loss averaged
    over N examples passes (ŷ − y)/N, not ŷ − y, back to each logit."""
    rule = fn.rule
    if not rule or getattr(fn, "reduction", None) != "mean" or ": " not in rule:
        return rule
    first = next((p for p in (fn.inputs or ()) if isinstance(p, Tensor)), None)
    if first is None:
        return rule
    # softmax cross-entropy averages over rows (one per example); BCE and MSE over every element
    n = first.size // max(first.shape[-1], 1) if fn.name == "softmax_cross_entropy" and first.ndim else first.size
    head, expr = rule.split(": ", 1)
    if not re.fullmatch(r"\w*\([^()]*\)", expr):
        expr = f"({expr})"                  # ŷ − y -> (ŷ − y); 2(x − y) is one factor already
    return f"{head}: {expr}/N, N = {n:,}"


def _check_positive(what, value):
    """A limit such as max_nodes: a positive integer, or None for no limit."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{what} must be a positive integer or None, got {value!r}")


def _check_nonneg(what, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ArgumentError(f"{what} must be a non-negative integer, got {value!r}")


# ---------------------------------------------------------------------------------------------------
# One pass over the graph, shared by all drawings: numbering, names, kinds, gradients, order.

def _param_names(params, caller):
    """{id(tensor): name} from a module (anything with named_parameters()), a dict name -> Tensor,
    or (name, Tensor) pairs."""
    if params is None:
        return {}
    if callable(getattr(params, "named_parameters", None)):
        pairs = params.named_parameters()
    elif hasattr(params, "items"):
        pairs = params.items()
    else:
        pairs = params
    names = {}
    try:
        for name, t in pairs:
            if not isinstance(t, Tensor):
                raise ArgumentError(f"{caller}: params entry {name!r} is a {type(t).__name__}, not a Tensor")
            names.setdefault(id(t), str(name))
    except (TypeError, ValueError) as e:
        if isinstance(e, TinygradError):
            raise
        raise ArgumentError(f"{caller}: params must be a module with named_parameters(), a dict "
                            f"name -> Tensor or (name, Tensor) pairs ({e})") from None
    return names


def _check_steps(steps, caller):
    """Accept a list of BackwardStep (from backward(trace=True)) or a BackwardExplanation."""
    if steps is None:
        return None
    if isinstance(steps, BackwardExplanation):
        return steps.steps
    if not isinstance(steps, (list, tuple)) or not all(isinstance(s, BackwardStep) for s in steps):
        raise ArgumentError(f"{caller}: steps must be the list returned by backward(trace=True) "
                            f"(BackwardStep records), got {type(steps).__name__}")
    return list(steps)


class _Graph:
    """Everything the drawings need to know about the graph under `root`, computed once.

    tensors: every reachable tensor in breadth-first order from the root (root first), so the first
        max_nodes of them are the ones nearest the output, and each is reachable from an earlier one.
    """

    def __init__(self, root, params, steps, caller):
        if hasattr(root, "graph") and callable(root.graph):     # a te.compile step: its captured graph
            root, steps = root.graph(steps)
        if not isinstance(root, Tensor):
            raise ArgumentError(f"{caller}: root must be a Tensor, got {type(root).__name__}")
        self.root = root
        self.param_names = _param_names(params, caller)
        self.steps = steps
        tensors, index = [root], {id(root): 0}
        i = 0
        while i < len(tensors):             # breadth-first, with an explicit queue (no recursion)
            fn = tensors[i].grad_fn
            i += 1
            if fn is None:
                continue
            for p in fn.inputs:
                if isinstance(p, Tensor) and id(p) not in index:
                    index[id(p)] = len(tensors)
                    tensors.append(p)
        self.tensors, self.index = tensors, index
        self.auto_names = _module_names(tensors, root)
        self._order = None
        # Gradients: from the trace when there is one (it has the gradient of every node, not only
        # of leaves), else whatever .grad holds (leaves and retain_grad() tensors).
        self.grads, self.paths, self.summed, self.visit = {}, {}, {}, {}
        if steps is not None:
            for s in steps:
                self.grads[id(s.output)] = s.grad_output
                self.visit[id(s.output)] = s.index
                for pos, c in _positions(s):
                    key = id(c.tensor)
                    self.paths[key] = self.paths.get(key, 0) + 1
                    if c.tensor.grad_fn is None:            # leaves: sum what each path passed on
                        prev = self.grads.get(key)
                        self.grads[key] = c.grad if prev is None else prev + c.grad
                    if c.summed_from is not None:
                        self.summed[(id(s.op), pos)] = c.summed_from

    def name(self, t):
        """Module path (params=), else t.name, else the name of the module that made it ('0.out') or
        of its role ('labels'), else 't<k>' with k the breadth-first number."""
        return (self.param_names.get(id(t)) or t.name or self.auto_names.get(id(t))
                or f"t{self.index[id(t)]}")

    def kind(self, t):
        if t is self.root:
            return "output"
        if t.grad_fn is not None:
            return "intermediate"
        return "parameter" if t.requires_grad else "input"

    def grad(self, t):
        if self.steps is not None:
            return self.grads.get(id(t))
        return None if t.grad is None else t.grad.data

    def order(self, t):
        """The number of the backward step that processes t's op (None if it has no op)."""
        if self.steps is not None:
            return self.visit.get(id(t))
        if self._order is None:             # not traced: the order backward will visit them in
            self._order = {id(u): k + 1 for k, u in enumerate(toposort([self.root]))}
        return self._order.get(id(t))


def _module_path(scope):
    """The dotted module path of a name_scope label: 'Sequential/0: Linear(2→3)' -> '0' (nn labels
    each child 'attribute: description'; the outermost module's label is just its description),
    'Sequential/1: Sequential/0: Tanh' -> '1.0'. A scope without such labels is its innermost label."""
    parts = scope.split("/")
    keyed = [part.split(": ", 1)[0] for part in parts if ": " in part]
    return ".".join(keyed) if keyed else parts[-1]


def _module_names(tensors, root):
    """{id(tensor): name} for unnamed tensors that a name scope or a loss can name. The tensor that
    leaves a module (used outside its scope, or the root) is '<path>.out' - '0.out', '1.out', as a
    parameter is '0.weight' - and others made inside it '<path>.<op>' ('0.matmul'); a second tensor
    with the same name gets '_2', in the order they were made. A loss's labels are 'labels'."""
    consumers, roles = {}, {}                # id -> scopes of the ops that use it; id -> role name
    for t in tensors:
        fn = t.grad_fn
        if fn is None:
            continue
        for i, p in enumerate(fn.inputs):
            if isinstance(p, Tensor):
                consumers.setdefault(id(p), []).append(fn.scope or "")
                role = _role(fn, i, p)
                if role and p.grad_fn is None:
                    roles.setdefault(id(p), role)
    names, used = {}, {}

    def unique(base, key):
        k = used[base] = used.get(base, 0) + 1
        names[key] = base if k == 1 else f"{base}_{k}"

    made = sorted((t for t in tensors if t.grad_fn is not None and t.grad_fn.scope),
                  key=lambda t: t.grad_fn.seq)           # forward order: a module's first call is _1
    for t in made:
        scope = t.grad_fn.scope
        inside = (scope, scope + "/")
        leaves = t is root or any(not (c == scope or c.startswith(inside[1])) for c in consumers.get(id(t), ()))
        path = _module_path(scope)
        unique(f"{path}.out" if leaves else f"{path}.{t.grad_fn.name}", id(t))
    for t in tensors:
        if id(t) in roles:
            unique(roles[id(t)], id(t))
    return names


def _positions(step):
    """Pair each Contribution of a step with the position of the op argument it went to.
    Contributions come in argument order, one per argument that needed a gradient, so matching by
    identity in order also handles x * x (the same tensor in two positions)."""
    contribs, j, out = step.contributions, 0, []
    for i, p in enumerate(step.op.inputs):
        if j < len(contribs) and contribs[j].tensor is p:
            out.append((i, contribs[j]))
            j += 1
    return out


# ---------------------------------------------------------------------------------------------------
# DOT text

_STYLE = {   # fill colours; the kind is also written in the label, so colour is not the only cue
    "input": 'fillcolor="#e5e7eb"',
    "parameter": 'fillcolor="#fde68a"',
    "intermediate": 'fillcolor="#ffffff"',
    "output": 'fillcolor="#bfdbfe" penwidth=2',
}
_BAD = 'color="#dc2626" fillcolor="#fecaca" penwidth=2.5'
_SUMMED = 'color="#b45309" fontcolor="#b45309" penwidth=2'
_RANKDIRS = ("LR", "TB", "RL", "BT")


def _q(text):
    """A DOT double-quoted string for a plain label: escape backslashes and quotes, keep newlines."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _rec(text):
    """One field of a record label: also escape the characters records give a meaning to."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"')
    for ch in "{}|<>":
        s = s.replace(ch, "\\" + ch)
    return s.replace("\n", "\\n")


_SEP = {False: " ", True: "\n"}      # "data 2" on one line; a matrix's rows below "data"


def _tensor_fields(g, t, show_data, show_grad, max_values):
    """The fields of a tensor's record label (micrograd's `data | grad`), and whether to flag it."""
    kind = g.kind(t)
    title = g.name(t) if kind == "intermediate" else f"{g.name(t)} · {kind}"
    fields = [f"{title}\n{_shape(t.shape)} {t.dtype}"]
    bad = []
    if show_data:
        vals = _value_lines(t.data, max_values)
        if vals is not None:
            fields.append(f"data{_SEP[chr(10) in vals]}{vals}")
    value_bad = _nonfinite(t.data)
    if value_bad:
        bad.append(f"⚠ {value_bad} in value")
    gr = g.grad(t) if t.requires_grad else None
    if gr is not None:
        if show_grad:
            # small: the signed values (micrograd's "grad -3"); big: shape and norm
            vals = _value_lines(gr, max_values) if show_data else None
            text = f"grad{_SEP[chr(10) in vals]}{vals}" if vals is not None else f"grad {_grad_summary(gr)}"
            if g.paths.get(id(t), 0) > 1:
                text += f"\nΣ of {g.paths[id(t)]} paths"
            fields.append(text)
        grad_bad = _nonfinite(gr)
        if grad_bad:
            bad.append(f"⚠ {grad_bad} in grad")
    if bad:
        fields.append("\n".join(bad))
    return fields, bool(bad)


def _dot_lines(root, steps, params, show_data, show_grad, show_order, show_rules, max_nodes,
               max_values, rankdir, title, caller):
    """The body lines of the DOT graph (each starting with a tab and ending with a newline)."""
    steps = _check_steps(steps, caller)
    _check_positive(f"{caller}: max_nodes", max_nodes)
    _check_nonneg(f"{caller}: max_values", max_values)
    if rankdir not in _RANKDIRS:
        raise ArgumentError(f"{caller}: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    g = _Graph(root, params, steps, caller)
    drawn = g.tensors if max_nodes is None else g.tensors[:max_nodes]
    n_drawn = len(drawn)

    caption = f" label={_q(title)} labelloc=t" if title else ""
    head = [f'graph [rankdir={rankdir} fontname="Helvetica" fontsize=11 nodesep=0.3 ranksep=0.35{caption}]',
            'node [fontname="Helvetica" fontsize=10 style=filled]',
            'edge [fontname="Helvetica" fontsize=9 color="#4b5563"]']
    top, edges = [], []                     # node lines outside any cluster, and all edge lines
    clusters = {}                           # scope path (tuple) -> {"id", "label", "lines", "children"}
    top_clusters = []

    def place(path):
        """The line list of the cluster for scope path `path` (created with its parents), or top."""
        if not path:
            return top
        for depth in range(1, len(path) + 1):
            p = path[:depth]
            if p not in clusters:
                clusters[p] = {"id": len(clusters), "label": p[-1], "lines": [], "children": []}
                (clusters[p[:-1]]["children"] if depth > 1 else top_clusters).append(p)
        return clusters[path]["lines"]

    def scope_path(fn):
        return tuple(fn.scope.split("/")) if fn.scope else ()

    # A parameter is drawn inside a module's cluster when every drawn op that uses it lies in it.
    # Data inputs stay outside: they are not part of any module.
    consumer_scope = {}
    for t in drawn:
        fn = t.grad_fn
        if fn is None:
            continue
        sp = scope_path(fn)
        for p in fn.inputs:
            if isinstance(p, Tensor) and p.grad_fn is None and p.requires_grad:
                prev = consumer_scope.get(id(p))
                if prev is None:
                    consumer_scope[id(p)] = sp
                else:                                   # longest common prefix of the scopes
                    k = 0
                    while k < min(len(prev), len(sp)) and prev[k] == sp[k]:
                        k += 1
                    consumer_scope[id(p)] = prev[:k]

    cut_edges = []
    for k, t in enumerate(drawn):
        fn = t.grad_fn
        fields, bad = _tensor_fields(g, t, show_data, show_grad, max_values)
        label = "{" + " | ".join(_rec(f) for f in fields) + "}"
        style = _BAD if bad else _STYLE[g.kind(t)]
        if g.kind(t) == "intermediate" and not bad:
            style += ' style="rounded,filled"'
        line = f"t{k} [shape=record label=\"{label}\" {style}]"
        if fn is not None:
            lines = place(scope_path(fn))
        elif id(t) in consumer_scope:
            lines = place(consumer_scope[id(t)])
        else:
            lines = top
        lines.append(line)
        if fn is None:
            continue
        # The op node that produced t: its name, its backward step number, its local derivative.
        op = _op_label(fn)
        n = g.order(t) if show_order else None
        text = f"#{n} {op}" if n is not None else op
        if show_rules and fn.rule and fn.rule != fn.name:
            text += f"\n{_rule(fn)}"
        lines.append(f'f{k} [shape=ellipse label={_q(text)} fillcolor="#dbeafe"]')
        edges.append(f"f{k} -> t{k}")
        cut = False
        for i, p in enumerate(fn.inputs):
            if isinstance(p, Tensor):
                j = g.index[id(p)]
                if j >= n_drawn:
                    cut = True
                    continue
                summed = g.summed.get((id(fn), i))
                if summed is not None:
                    edges.append(f"t{j} -> f{k} [label={_q(f'grad Σ back from {_shape(summed)}')} {_SUMMED}]")
                else:
                    edges.append(f"t{j} -> f{k}")
            else:
                lines.append(f"c{k}_{i} [shape=plaintext style=\"\" fontsize=9 "
                             f"label={_q(_constant_text(p, max_values, _role(fn, i, p)))}]")
                edges.append(f"c{k}_{i} -> f{k} [style=dashed arrowsize=0.6]")
        if cut:
            cut_edges.append(f"more -> f{k} [style=dotted]")

    if n_drawn < len(g.tensors):
        more = len(g.tensors) - n_drawn
        note = (f"… {more:,} more tensor nodes not drawn (this drawing shows the {n_drawn:,} nearest "
                f"the output);\npass max_nodes={len(g.tensors)} to draw all of them")
        top.append(f'more [shape=note label={_q(note)} fillcolor="#fef3c7"]')
        edges.extend(cut_edges)

    body = head + top
    # Clusters, nested as the scopes are, written with an explicit stack.
    stack = [("open", p) for p in reversed(top_clusters)]
    while stack:
        action, p = stack.pop()
        pad = "\t" * (len(p) - 1)
        if action == "close":
            body.append(pad + "}")
            continue
        c = clusters[p]
        body.append(pad + f"subgraph cluster_{c['id']} {{")
        body.append(pad + f'\tlabel={_q(c["label"])} style="rounded,dashed" color="#6b7280" fontsize=10')
        body.extend(pad + "\t" + line for line in c["lines"])
        stack.append(("close", p))
        stack.extend(("open", ch) for ch in reversed(c["children"]))
    body.extend(edges)
    return ["\t" + line + "\n" for line in body]


def to_dot(root, *, steps=None, params=None, show_data=True, show_grad=True, show_order=True,
           show_rules=True, max_nodes=DEFAULT_MAX_NODES, max_values=8, rankdir="TB", title=None):
    """The computation graph that produced `root`, as Graphviz DOT text (needs nothing installed).

    Tensor nodes (records) show the name, shape and dtype; inputs (grey), parameters (amber),
    intermediates (white, rounded) and the output (blue) are styled and labelled differently. Op
    nodes (ellipses) show the op name, the number of the backward step that visits it (`#3`) and its
    local derivative (`tanh: 1 − y²`; a loss averaged over N examples says so: `(ŷ − y)/N, N = 4`).
    Non-Tensor operands (the 2 of `x * 2`, a loss's `labels [0, 1, 1, 0]`) are small dashed
    constant nodes.

    root: the Tensor to draw the graph of (usually the loss).
    steps: the list from `root.backward(trace=True)` (or an explain_backward result). With it, every
        node shows its gradient (see show_data), nodes show "Σ of 2 paths"
        where gradients from several uses accumulated, edges where a broadcast gradient was summed back
        to a smaller shape are labelled and coloured, and step numbers are those backward really ran.
        Without it, gradients come from .grad (leaves, retain_grad() tensors) and the numbers are the
        order backward will visit the ops in.
    params: names for parameters: a module (anything with named_parameters(), e.g. nn models give
        '0.weight'), a dict name -> Tensor, or (name, Tensor) pairs. Otherwise a tensor's .name is
        used; an unnamed tensor made inside a module's name scope is named after the module ('0.out'
        leaves module 0, '0.matmul' stays inside it), a loss's labels are 'labels', and any other
        unnamed tensor is t<k> (k: breadth-first number from the root, t0).
    show_data: small tensors (at most max_values elements, default 8) show their values and their
        signed gradient values (micrograd's `data 2 | grad -3`); bigger ones the gradient's shape and
        norm. False: shapes and norms only.
    show_grad, show_order, show_rules: the gradient field, step numbers, local-derivative labels.
    max_nodes: draw at most this many tensor nodes (the ones nearest the output); the rest is
        replaced by one note saying how many were left out. None draws everything.
    rankdir: 'TB' (inputs on top, the loss at the bottom), 'LR', 'BT' or 'RL'. title: a caption.

    Ops recorded inside `name_scope` (nn opens one per module call inside record_scopes()) are grouped
    in one labelled cluster per scope, nested like the scopes; a parameter joins its module's cluster.
    Tensors whose value or gradient holds NaN or inf are drawn in red with a warning.
    The text is deterministic: node ids follow the breadth-first numbering (t<k> tensor, f<k> the op
    that produced it, c<k>_<i> a constant operand, `more` the cut note).
    """
    lines = _dot_lines(root, steps, params, show_data, show_grad, show_order, show_rules, max_nodes,
                       max_values, rankdir, title, "to_dot")
    return "digraph G {\n" + "".join(lines) + "}\n"


# ---------------------------------------------------------------------------------------------------
# Graphviz objects (the graphviz package is imported here, on first use, never at import time)

_drawing_class = None


def _missing_dot(engine):
    return GraphvizNotFound(f"Rendering a graph needs the Graphviz '{engine}' program, which is not on "
                            f"PATH. {_INSTALL_HINT}")


def _graph_drawing_class():
    """Create (once) the graphviz.Digraph subclass that draw_graph returns."""
    global _drawing_class
    if _drawing_class is not None:
        return _drawing_class
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFound("draw_graph needs the graphviz Python package: pip install graphviz "
                               f"(and the Graphviz program). {_INSTALL_HINT}") from None

    class GraphDrawing(graphviz.Digraph):
        """A graphviz.Digraph (so it shows inline in Jupyter and has .render, .pipe, .source) whose
        rendering methods raise GraphvizNotFound, with install instructions, when `dot` is missing,
        and which adds write(path): render to one file, written atomically."""

        def _need_dot(self):
            if shutil.which(self.engine) is None:
                raise _missing_dot(self.engine)

        def pipe(self, *args, **kwargs):
            """Rendered output as bytes (or str with encoding=), see graphviz.Digraph.pipe."""
            self._need_dot()
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound:
                raise _missing_dot(self.engine) from None

        def render(self, *args, **kwargs):
            """Save the DOT source and render it, as graphviz.Digraph.render does:
            `render("graph", format="svg")` writes `graph` (DOT) and `graph.svg`; returns the path."""
            self._need_dot()
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound:
                raise _missing_dot(self.engine) from None

        def write(self, path, format=None):
            """Render to exactly one file, atomically (a temporary file, then renamed). The format
            defaults to the path's suffix: .svg, .png, .pdf, or .dot/.gv for the DOT text itself
            (which needs no Graphviz). Returns the path."""
            path = os.fspath(path)
            fmt = format or os.path.splitext(path)[1].lstrip(".").lower()
            if not fmt:
                raise ArgumentError(f"write: cannot tell the format of {path!r}; add a suffix "
                                    "(.svg, .png, .pdf, .dot) or pass format=")
            if fmt in ("dot", "gv"):
                data = self.source.encode("utf-8")
            else:
                if fmt not in graphviz.FORMATS:
                    raise ArgumentError(f"write: unknown format {fmt!r}; use svg, png, pdf or dot")
                data = self.pipe(format=fmt)
            return atomic_write(path, lambda f: f.write(data))

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            # In a notebook without Graphviz, show the DOT text and how to install instead of a traceback.
            if shutil.which(self.engine) is None:
                return {"text/plain": f"{_missing_dot(self.engine)}\n\n{self.source}"}
            return super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)

    GraphDrawing.__module__ = __name__
    _drawing_class = GraphDrawing
    return GraphDrawing


def draw_graph(root, *, steps=None, params=None, show_data=True, show_grad=True, show_order=True,
               show_rules=True, max_nodes=DEFAULT_MAX_NODES, max_values=8, rankdir="TB", title=None,
               format="svg"):
    """The computation graph of `root` as a graphviz.Digraph (it displays inline in Jupyter).

    Takes the same options as to_dot, whose text it holds: `draw_graph(...).source == to_dot(...)`.
    `.render("graph", format="svg"|"png"|"pdf")` writes the file as graphviz does,
    `.write("graph.png")` writes just that one file, atomically. Both need the Graphviz `dot`
    program and raise GraphvizNotFound, saying how to install it, when it is missing; building the
    drawing itself needs only the graphviz Python package.

        steps = loss.backward(trace=True)
        draw_graph(loss, steps=steps, params=model).write("loss.svg")
    """
    cls = _graph_drawing_class()
    import graphviz                                     # already imported by the line above
    if format not in graphviz.FORMATS:
        raise ArgumentError(f"draw_graph: unknown format {format!r}; use 'svg', 'png' or 'pdf'")
    lines = _dot_lines(root, steps, params, show_data, show_grad, show_order, show_rules, max_nodes,
                       max_values, rankdir, title, "draw_graph")
    # The body is our DOT text line by line, so graphviz's own .source reproduces to_dot exactly.
    return cls(name="G", body=lines, format=format, encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# Text tree for terminals

def _tree_line(g, t, show_rules, show_data, max_values):
    """One line of the tree: name, kind, shape, dtype, the op that made it, its step, its value and
    gradient (signed values when small, else shape and norm)."""
    kind = g.kind(t)
    parts = [g.name(t) if kind == "intermediate" else f"{g.name(t)} · {kind}", f"{_shape(t.shape)} {t.dtype}"]
    fn = t.grad_fn
    if fn is not None:
        args = [g.name(p) if isinstance(p, Tensor) else _constant_text(p, 4, _role(fn, i, p))
                for i, p in enumerate(fn.inputs)]
        call = f"= {fn.name}({', '.join(args + _op_options(fn))})"
        parts.append(call)
        n = g.order(t)
        if n is not None:
            parts.append(f"#{n}")
        if show_rules and fn.rule and fn.rule != fn.name:
            parts.append(f"[{_rule(fn)}]")
        if fn.scope:
            parts.append(f"in {fn.scope}")
    vals = _values(t.data, max_values) if show_data else None
    if vals is not None:
        parts.append(f"data {vals}")
    gr = g.grad(t) if t.requires_grad else None
    if gr is not None:
        vals = _values(gr, max_values) if show_data else None
        summary = f"grad {vals}" if vals is not None else f"grad {_grad_summary(gr)}"
        if g.paths.get(id(t), 0) > 1:
            summary += f" (Σ of {g.paths[id(t)]} paths)"
        parts.append(summary)
    for what, a in (("value", t.data), ("grad", gr)):
        bad = _nonfinite(a)
        if bad:
            parts.append(f"⚠ {bad} in {what}")
    return "  ".join(parts)


_MAX_INDENT = 60        # characters of tree prefix shown; deeper levels are elided with '…'


def format_graph(root, *, steps=None, params=None, show_rules=False, show_data=True, max_values=4,
                 max_nodes=DEFAULT_MAX_NODES):
    """The graph of `root` as an indented text tree (a string), root first, each tensor's inputs
    below it:

        loss · output  () float64  = sum(t1)  #1  data 0.9  grad 1
        └─ t1  (1, 3) float64  = tanh(t2)  #2  data [[0.4, 0.1, 0.2]]  grad [[1, 1, 1]]
           └─ t2  (1, 3) float64  = matmul(x, W)  #3  data [[0.4, 0.1, 0.2]]  grad [[0.8, 0.9, 0.9]]
              ├─ x · input  (1, 2) float64  data [[1, 2]]
              └─ W · parameter  (2, 3) float64  grad (2, 3) ‖g‖=2.28

    A tensor used several times is printed once; later uses say "(see above)", so shared
    sub-graphs do not repeat (a chain of diamonds stays linear). Tensors of at most max_values
    elements (default 4) show their values and signed gradients (show_data=False: never); bigger
    ones their gradient's shape and norm. Other options as in to_dot; max_nodes limits the number
    of lines (None: no limit). Numbers `#k` are backward's step numbers.
    """
    steps = _check_steps(steps, "format_graph")
    _check_positive("format_graph: max_nodes", max_nodes)
    _check_nonneg("format_graph: max_values", max_values)
    g = _Graph(root, params, steps, "format_graph")
    lines, printed = [], set()
    stack = [(root, "", "")]            # (tensor, prefix of its own line, prefix of its children)
    while stack:
        if max_nodes is not None and len(lines) >= max_nodes:
            left = len(g.tensors) - len(printed)
            lines.append(f"… {left:,} more tensors not printed; pass max_nodes=None to print all"
                         if left else "… further references to tensors printed above are omitted")
            break
        t, head, tail = stack.pop()
        if len(head) > _MAX_INDENT:
            head = "…" + head[-(_MAX_INDENT - 1):]
        if id(t) in printed:
            lines.append(f"{head}{g.name(t)} (see above)")
            continue
        printed.add(id(t))
        lines.append(head + _tree_line(g, t, show_rules, show_data, max_values))
        fn = t.grad_fn
        if fn is None:
            continue
        children = [p for p in fn.inputs if isinstance(p, Tensor)]
        for i in range(len(children) - 1, -1, -1):     # pushed in reverse: printed in argument order
            last = i == len(children) - 1
            stack.append((children[i], tail + ("└─ " if last else "├─ "), tail + ("   " if last else "│  ")))
    return "\n".join(lines) + "\n"


def print_graph(root, *, steps=None, params=None, show_rules=False, show_data=True, max_values=4,
                max_nodes=DEFAULT_MAX_NODES, file=None):
    """Print format_graph(root, ...) to `file` (default: standard output) and return the text.
    Needs nothing but NumPy."""
    text = format_graph(root, steps=steps, params=params, show_rules=show_rules, show_data=show_data,
                        max_values=max_values, max_nodes=max_nodes)
    (sys.stdout if file is None else file).write(text)
    return text


# ---------------------------------------------------------------------------------------------------
# explain_backward: the backward pass, told step by step

@dataclass
class ContributionRecord:
    """What one backward step passed to one input of its op."""
    tensor: Tensor                  # the input that received it
    name: str                       # its name in the drawings (params name, .name or t<k>)
    position: int                   # which argument of the op it is (0 for x in x * 2)
    grad: np.ndarray                # the gradient passed on, in the input's shape
    summed_from: tuple = None       # the broadcast shape it was summed back from, or None
    accumulated: bool = False       # an earlier step of this backward already sent gradient there
    total: np.ndarray = None        # everything this backward has sent to the tensor so far
    into_existing_grad: bool = False  # a leaf whose .grad already held a gradient from before


@dataclass
class StepRecord:
    """One op visited by backward, in order: dL/d(output) in, one contribution per input out."""
    index: int                      # 1 for the first op backward ran (the one that made the root)
    op: str                         # op name with its options, e.g. 'mul', 'pow(p=2)'
    rule: str                       # its local derivative, e.g. 'tanh: 1 − y²'
    scope: str                      # name_scope label (module) it was recorded in, or None
    output: Tensor                  # the tensor this op produced
    output_name: str
    grad_output: np.ndarray         # upstream gradient dL/d(output), summed over every path
    contributions: list = field(default_factory=list)   # ContributionRecord, in argument order
    fn: object = None               # the graph node itself (tensor.grad_fn)


_DEFAULT = object()     # "not given" marker for BackwardExplanation.format


class BackwardExplanation:
    """The records of explain_backward (a sequence of StepRecord, in the order backward ran) and
    their printable text: `print(expl)`, `expl.text`, `expl.format(max_steps=None)`."""

    def __init__(self, records, steps, root, names, leaf_totals, stored, max_values, max_steps):
        self.records = records
        self.steps = steps              # the raw BackwardStep list (draw_graph(..., steps=expl) works)
        self.root = root
        self._names = names             # id(tensor) -> name, for the text
        self._leaf_totals = leaf_totals  # [(tensor, total gradient of this backward)]
        self._stored = stored
        self._max_values = max_values
        self._max_steps = max_steps

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        return self.records[i]

    def __iter__(self):
        return iter(self.records)

    def contributions_to(self, tensor):
        """Every ContributionRecord that went to `tensor`, in order."""
        return [c for r in self.records for c in r.contributions if c.tensor is tensor]

    @property
    def text(self):
        """The printable explanation (same as str())."""
        return self.format()

    def __str__(self):
        return self.format()

    def __repr__(self):
        return f"<BackwardExplanation of {len(self.records)} steps; print() it to read them>"

    def _repr_pretty_(self, p, cycle):          # IPython's terminal shows the text
        p.text(self.format())

    def _repr_html_(self, max_steps=_DEFAULT):
        """Jupyter's display: one table row per step - op, rule, upstream gradient, what each input
        received - then the gradients that reached the leaves (the same content as the text)."""
        import html
        if max_steps is _DEFAULT:
            max_steps = self._max_steps
        esc = html.escape
        rows = []
        for r in self.records if max_steps is None else self.records[:max_steps]:
            sent = []
            for c in r.contributions:
                notes = " (summed back from a broadcast)" if c.summed_from is not None else ""
                notes += " (+= accumulated)" if c.accumulated or c.into_existing_grad else ""
                sent.append(f"<code>{esc(c.name)}</code>: {esc(self._arr(c.grad))}{notes}")
            rows.append(f"<tr><td>{r.index}</td><td><code>{esc(r.op)}</code> → <code>{esc(r.output_name)}"
                        f"</code>{'<br><small>' + esc(r.scope) + '</small>' if r.scope else ''}</td>"
                        f"<td>{esc(r.rule or '')}</td><td>{esc(self._arr(r.grad_output))}</td>"
                        f"<td>{'<br>'.join(sent)}</td></tr>")
        shown = len(rows)
        if shown < len(self.records):
            rows.append(f"<tr><td colspan='5'>… {len(self.records) - shown:,} more steps not shown</td></tr>")
        name = self._names.get(id(self.root), "root")
        head = (f"<p>Backward pass from <code>{esc(name)}</code> {self.root.shape} {self.root.dtype}: "
                f"{len(self.records)} steps, in the order backward ran them.</p>")
        table = ("<table><tr><th>step</th><th>op → output</th><th>local derivative</th>"
                 "<th>upstream gradient</th><th>passed to each input</th></tr>" + "".join(rows) + "</table>")
        leaves = "".join(f"<li><code>{esc(self._names[id(t)])}</code>: {esc(self._arr(total))}</li>"
                         for t, total in self._leaf_totals)
        stored = "added to their .grad" if self._stored else "not stored: every .grad is unchanged"
        tail = f"<p>Gradients reaching the leaves ({stored}):</p><ul>{leaves}</ul>" if leaves else ""
        return f"<div>{head}{table}{tail}</div>"

    def _arr(self, a):
        """Small arrays with their values, big ones as shape and norm; scalars as a number."""
        vals = _values(a, self._max_values)
        if vals is None:
            return _grad_summary(a)
        return vals if np.ndim(a) == 0 else f"{_shape(np.shape(a))} {vals}"

    def format(self, max_steps=_DEFAULT):
        """The explanation as text. max_steps: the number of steps written (default: the one given
        to explain_backward; None: all)."""
        if max_steps is _DEFAULT:
            max_steps = self._max_steps
        _check_positive("BackwardExplanation.format: max_steps", max_steps)
        root = self.root
        name = self._names.get(id(root), "root")
        out = [f"Backward pass from {name} {_shape(root.shape)} {root.dtype}: {len(self.records)} "
               "steps, in the order backward ran them."]
        if self.records:
            out.append(f"It starts with ∂L/∂{name} = {self._arr(self.records[0].grad_output)}.")
        for r in self.records if max_steps is None else self.records[:max_steps]:
            where = f"   (in {r.scope})" if r.scope else ""
            out.append("")
            out.append(f"Step {r.index}: {r.op} → {r.output_name}{where}")
            if r.rule and r.rule != r.op:
                out.append(f"  local derivative   {r.rule}")
            out.append(f"  upstream gradient  ∂L/∂{r.output_name} = {self._arr(r.grad_output)}")
            for c in r.contributions:
                line = f"  → to {c.name} (argument {c.position}): {self._arr(c.grad)}"
                notes = []
                if c.summed_from is not None:
                    notes.append(f"summed back from {_shape(c.summed_from)} to {_shape(c.grad.shape)}, "
                                 "undoing the broadcast of the forward pass")
                if c.accumulated:
                    notes.append(f"+= accumulated with an earlier path; {c.name} has now received "
                                 f"{self._arr(c.total)}")
                elif c.into_existing_grad:
                    notes.append(f"+= added to the .grad {c.name} already held from an earlier backward")
                out.append(line)
                out.extend(f"      {n}" for n in notes)
        if max_steps is not None and len(self.records) > max_steps:
            out.append("")
            out.append(f"… {len(self.records) - max_steps:,} more steps not shown; "
                       "use format(max_steps=None) or read the records")
        if self._leaf_totals:
            out.append("")
            out.append("Gradients reaching the leaves in this backward"
                       + (" (added to their .grad):" if self._stored
                          else " (not stored: every .grad is unchanged; accumulate=True stores them):"))
            for t, total in self._leaf_totals:
                out.append(f"  {self._names[id(t)]}: {self._arr(total)}")
        return "\n".join(out) + "\n"


def explain_backward(root=None, grad=None, *, steps=None, params=None, retain_graph=True,
                     accumulate=False, max_values=8, max_steps=200):
    """Run (or read) a traced backward pass and explain it step by step. Prints nothing and, unless
    asked (accumulate=True), changes no .grad: explaining and then calling root.backward() gives the
    same .grad as backward() alone.

    For each op, in the order backward ran: its upstream gradient dL/d(output), its local-derivative
    rule, and the contribution it passed to each input, noting where a broadcast gradient was summed
    back to a smaller shape and where contributions accumulate for a tensor used more than once.
    Returns a BackwardExplanation: a sequence of StepRecord (for tests and notebooks) whose str() is
    the printable text - `print(explain_backward(loss))` prints it; a notebook displays it as a table.

    root: the tensor to backpropagate from (its graph must not have been freed by an earlier
        backward). grad: its upstream gradient, needed unless it has one element.
    steps: the list from `root.backward(trace=True)` to explain instead of running backward again
        (root may then be omitted; that backward has already stored its gradients).
    accumulate: False (default) leaves every .grad untouched: the explanation is a pure function of
        the graph. True behaves like root.backward(): leaves' .grad accumulate the result.
    retain_graph: keep the graph after the backward (default True, so it can still be drawn or
        backpropagated for real).
    max_values: show gradient values for arrays of at most this many elements (else shape and norm).
    max_steps: the number of steps written in the text (None: all); records always hold every step.
    """
    _check_nonneg("explain_backward: max_values", max_values)
    _check_positive("explain_backward: max_steps", max_steps)
    _param_names(params, "explain_backward")     # bad params must fail before backward changes .grad
    if steps is not None:
        if grad is not None:
            raise ArgumentError("explain_backward: grad= is for running a backward; with steps= the "
                                "backward has already run")
        steps = _check_steps(steps, "explain_backward")
        if root is None:
            if not steps:
                raise ArgumentError("explain_backward: pass root= as well when steps is empty")
            root = steps[0].output
        stored = True
    else:
        if not isinstance(root, Tensor):
            raise ArgumentError(f"explain_backward: root must be a Tensor, got {type(root).__name__}")
        steps = []
        # accumulate=False: backward's `capture` mode with nothing to capture touches no .grad at all.
        _run_backward([root], [grad], retain_graph=retain_graph, capture=None if accumulate else {},
                      trace=steps)
        stored = accumulate
    g = _Graph(root, params, None, "explain_backward")

    def name(t):
        return g.name(t) if id(t) in g.index else (t.name or "tensor outside the graph")

    records, received, leaves = [], {}, {}       # received: id(tensor) -> running total this pass
    for s in steps:
        rec = StepRecord(s.index, _op_label(s.op), _rule(s.op), s.op.scope, s.output, name(s.output),
                         s.grad_output, fn=s.op)
        for pos, c in _positions(s):
            key = id(c.tensor)
            prev = received.get(key)
            total = c.grad if prev is None else prev + c.grad
            received[key] = total
            leaf = c.tensor.grad_fn is None
            rec.contributions.append(ContributionRecord(
                c.tensor, name(c.tensor), pos, c.grad, c.summed_from, prev is not None, total,
                into_existing_grad=bool(stored and leaf and c.accumulated and prev is None)))
            if leaf:
                leaves[key] = c.tensor
        records.append(rec)
    leaf_totals = [(t, received[k]) for k, t in leaves.items()]
    names = {id(t): name(t) for t in [root] + [t for t, _ in leaf_totals]}
    names.update({id(r.output): r.output_name for r in records})
    return BackwardExplanation(records, steps, root, names, leaf_totals, stored, max_values, max_steps)
