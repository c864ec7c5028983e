"""Code generation for te.compile: from one captured tape, two programs.

The readable program (`step.source`) is what a learner reads: one NumPy statement per op, named after
the graph (parameters by their names, `z1`/`a1` for a layer's pre-activation and activation, `dW1` for
the gradient of `W1`), single-use temporaries folded into the expression that uses them, and every
backward line commented with the local rule of the op it differentiates (`# tanh: 1 − y²`). It is the
hand-written backprop of the documents, derived by the engine. It runs, and the tests run it.

The fast program (fast.py) is what replays: the same tape lowered to NumPy calls that write into
buffers allocated once, with the cheapest call for each shape (kernel selection).

The functions below are the kernels the readable program calls: each is an op's forward, under the
name a learner knows.
"""
import keyword
import re
import threading

import numpy as np

from . import ops
from .compile import Instr

# ---------------------------------------------------------------------------------------------------
# Kernels the readable program calls


def _forward(op, *args, **options):
    """op's forward on plain arrays (a fresh op object each time, as Function.apply makes)."""
    return op.__new__(op).forward(*args, **options)


sigmoid = ops.sigmoid_np
softmax = ops.softmax_np
log_softmax = ops.log_softmax_np
one_hot = ops.one_hot_np
scatter_add = ops.scatter_add_np


def logsumexp(x, axis=-1, keepdims=False):
    return _forward(ops.LogSumExp, x, axis=axis, keepdims=keepdims)


def softmax_cross_entropy(z, y, reduction="mean"):
    return _forward(ops.SoftmaxCrossEntropy, z, y, reduction=reduction)


def binary_cross_entropy_with_logits(z, y, reduction="mean"):
    return _forward(ops.BCEWithLogits, z, y, reduction=reduction)


def mse(x, y, reduction="mean"):
    return _forward(ops.MSE, x, y, reduction=reduction)


erf = ops.erf_np


def leaky_relu(x, slope=0.01):
    return _forward(ops.LeakyReLU, x, slope=slope)


def elu(x, alpha=1.0):
    return _forward(ops.ELU, x, alpha=alpha)


def softplus(x):
    return _forward(ops.Softplus, x)


KERNELS = {"sigmoid": sigmoid, "softmax": softmax, "log_softmax": log_softmax, "one_hot": one_hot,
           "scatter_add": scatter_add, "logsumexp": logsumexp, "softmax_cross_entropy": softmax_cross_entropy,
           "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits, "mse": mse, "erf": erf,
           "leaky_relu": leaky_relu, "elu": elu, "softplus": softplus}


_generators = threading.local()       # the generators of the program being written: id -> (name, gen)


def generator_name(gen):
    """The name a random generator has in the readable program: rng, rng2, ... in the order the
    program first draws from them (te.randn, dropout)."""
    names = _generators.names
    if id(gen) not in names:
        names[id(gen)] = ("rng" if not names else f"rng{len(names) + 1}", gen)
    return names[id(gen)][0]

# ---------------------------------------------------------------------------------------------------
# Rendering one op as a NumPy expression: (text, precedence). Precedence follows Python's: an operand
# whose precedence is lower than its place needs parentheses.

ATOM, POWER, UNARY, PRODUCT, SUM, AND, OR, COMPARE = 100, 95, 90, 80, 70, 50, 45, 40
_BINARY = {ops.Add: ("+", SUM), ops.Sub: ("-", SUM), ops.Mul: ("*", PRODUCT), ops.Div: ("/", PRODUCT),
           ops.MatMul: ("@", PRODUCT), ops.Power: ("**", POWER)}
_UFUNC = {ops.Exp: "np.exp", ops.Log: "np.log", ops.Sqrt: "np.sqrt", ops.Tanh: "np.tanh", ops.Abs: "np.abs",
          ops.Sign: "np.sign", ops.Sigmoid: "sigmoid", ops.Sin: "np.sin", ops.Cos: "np.cos", ops.Tan: "np.tan",
          ops.Log1p: "np.log1p", ops.Expm1: "np.expm1", ops.Erf: "erf", ops.Softplus: "softplus"}
_COMPARE = {np.greater: ">", np.greater_equal: ">=", np.less: "<", np.less_equal: "<=", np.equal: "==",
            np.not_equal: "!="}
_LOGICAL = {np.logical_and: ("&", AND), np.logical_or: ("|", OR)}


def _literal(x):
    """Python source for a constant: numbers, dtypes, shapes, slices."""
    if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
        return f"np.{np.dtype(x).name}"
    if isinstance(x, slice):
        parts = ["" if p is None else _literal(p) for p in (x.start, x.stop, x.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if x.step is not None else "")
    if x is Ellipsis:
        return "..."
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x)) if type(x) in (float,) else f"np.{np.dtype(type(x)).name}({float(x)!r})"
    return repr(x)


def _options(pairs):
    """', axis=1, keepdims=True' for the options that differ from their defaults."""
    return "".join(f", {k}={_literal(v) if not isinstance(v, str) else repr(v)}" for k, v, default in pairs
                   if not (v is default or (v == default if not isinstance(v, np.ndarray) else False)))


def render(ins, op, opts, arg):
    """The expression for one op instruction. arg(i, level) is operand i's text, parenthesised when
    its precedence is below `level`; opts are the op's options (index arrays as operand names)."""
    if op in _BINARY:
        sym, p = _BINARY[op]
        if op is ops.Power:                              # right-associative
            return f"{arg(0, p + 1)} ** {arg(1, p)}", p
        return f"{arg(0, p)} {sym} {arg(1, p + 1)}", p
    if op is ops.Neg:
        return f"-{arg(0, UNARY)}", UNARY
    if op is ops.Pow:
        return f"{arg(0, POWER + 1)} ** {_literal(opts['p'])}", POWER
    if op in _UFUNC:
        return f"{_UFUNC[op]}({arg(0, 0)})", ATOM
    if op is ops.ReLU:
        return f"np.maximum({arg(0, 0)}, 0)", ATOM
    if op is ops.Clip:
        return f"np.clip({arg(0, 0)}, {opts.get('lo')!r}, {opts.get('hi')!r})", ATOM
    if op is ops.Cast:
        return f"{arg(0, ATOM)}.astype({_literal(np.dtype(opts['dtype']))})", ATOM
    if op is ops.Where:
        return f"np.where({arg(0, 0)}, {arg(1, 0)}, {arg(2, 0)})", ATOM
    if op is ops.NoGrad:
        fn = opts["fn"]
        rest = {k: v for k, v in opts.items() if k != "fn"}
        if fn in _COMPARE:
            return f"{arg(0, COMPARE + 1)} {_COMPARE[fn]} {arg(1, COMPARE + 1)}", COMPARE
        if fn in _LOGICAL:
            sym, p = _LOGICAL[fn]
            return f"{arg(0, p)} {sym} {arg(1, p + 1)}", p
        if fn is np.logical_not:
            return f"~{arg(0, UNARY)}", UNARY
        if fn is ops.one_hot_np:
            return f"one_hot({arg(0, 0)}, {rest['n']}, {_literal(np.dtype(rest['dtype']))})", ATOM
        if fn is np.ndarray.astype:
            return f"{arg(0, ATOM)}.astype({_literal(np.dtype(rest['dtype']))})", ATOM
        if isinstance(getattr(fn, "__self__", None), np.random.Generator):    # te.rand, te.randn, dropout
            return (f"{generator_name(fn.__self__)}.{fn.__name__}(size={_literal(tuple(rest['size']))}, "
                    f"dtype={_literal(np.dtype(rest['dtype']))})"), ATOM
        name = f"np.{fn.__name__}" if getattr(np, getattr(fn, "__name__", ""), None) is fn else fn.__name__
        args = ", ".join(arg(i, 0) for i in range(len(ins)))
        return f"{name}({args}{''.join(f', {k}={_literal(v)}' for k, v in rest.items())})", ATOM
    if op is ops.Linear:
        return f"{arg(0, PRODUCT)} @ {arg(1, PRODUCT + 1)} + {arg(2, SUM + 1)}", SUM
    if op in (ops.Sum, ops.Mean, ops.Max, ops.Prod):
        method = {ops.Sum: "sum", ops.Mean: "mean", ops.Max: "max", ops.Prod: "prod"}[op]
        return f"{arg(0, ATOM)}.{method}({_axis_options(opts)})", ATOM
    if op in (ops.Maximum, ops.Minimum):
        return f"np.{op.__name__.lower()}({arg(0, 0)}, {arg(1, 0)})", ATOM
    if op is ops.LeakyReLU:
        return f"leaky_relu({arg(0, 0)}, {_literal(opts.get('slope', 0.01))})", ATOM
    if op is ops.ELU:
        return f"elu({arg(0, 0)}, {_literal(opts.get('alpha', 1.0))})", ATOM
    if op is ops.Cumsum:
        return f"np.cumsum({arg(0, 0)}, axis={_literal(opts['axis'])})", ATOM
    if op is ops.Concatenate:
        parts = ", ".join(arg(i, 0) for i in range(len(ins)))
        return f"np.concatenate([{parts}], axis={_literal(opts.get('axis', 0))})", ATOM
    if op is ops.Pad:
        return f"np.pad({arg(0, 0)}, {opts['pad_width']!r}, constant_values={_literal(opts.get('value', 0.0))})", ATOM
    if op is ops.Einsum:
        return f"np.einsum({opts['subscripts']!r}, {', '.join(arg(i, 0) for i in range(len(ins)))})", ATOM
    if op is ops.Reshape:
        return f"{arg(0, ATOM)}.reshape{_shape(opts['shape'])}", ATOM
    if op is ops.Transpose:
        axes = opts.get("axes")
        if axes is None or tuple(axes) == tuple(range(len(axes)))[::-1]:
            return f"{arg(0, ATOM)}.T", ATOM
        return f"{arg(0, ATOM)}.transpose{_shape(axes)}", ATOM
    if op is ops.BroadcastTo:
        return f"np.broadcast_to({arg(0, 0)}, {_literal(tuple(opts['shape']))})", ATOM
    if op is ops.GetItem:
        return f"{arg(0, ATOM)}[{_index(opts['index'], arg)}]", ATOM
    if op is ops.ScatterAdd:
        return f"scatter_add({arg(0, 0)}, {_literal(tuple(opts['shape']))}, ({_index(opts['index'], arg)}))", ATOM
    if op in (ops.Softmax, ops.LogSoftmax):
        name = "softmax" if op is ops.Softmax else "log_softmax"
        return f"{name}({arg(0, 0)}, axis={_literal(opts.get('axis', -1))})", ATOM
    if op is ops.LogSumExp:
        return f"logsumexp({arg(0, 0)}{_options([('axis', opts.get('axis', -1), -1), ('keepdims', opts.get('keepdims', False), False)])})", ATOM
    names = {ops.SoftmaxCrossEntropy: "softmax_cross_entropy", ops.BCEWithLogits: "binary_cross_entropy_with_logits",
             ops.MSE: "mse"}
    if op in names:
        return f"{names[op]}({arg(0, 0)}, {arg(1, 0)}{_options([('reduction', opts.get('reduction', 'mean'), 'mean')])})", ATOM
    return _generic(ins, op, opts, arg)


def _generic(ins, op, opts, arg):
    """An op with no template of its own (a user's Function subclass, say): its forward, named."""
    def text(v):
        if isinstance(v, _Ref):
            return v.text
        if isinstance(v, tuple):
            return "(" + ", ".join(text(i) for i in v) + ("," if len(v) == 1 else "") + ")"
        return _literal(v) if not isinstance(v, str) else repr(v)
    parts = [arg(i, 0) for i in range(len(ins))] + [f"{k}={text(v)}" for k, v in opts.items()]
    return f"forward(ops_{op.__name__}, {', '.join(parts)})", ATOM


def _shape(shape):
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    return "(" + ", ".join(_literal(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _axis_options(opts):
    parts = []
    if opts.get("axis") is not None:
        axis = opts["axis"]
        axis = axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis
        parts.append(f"axis={_literal(axis) if not isinstance(axis, tuple) else _shape(axis)}")
    if opts.get("keepdims"):
        parts.append("keepdims=True")
    return ", ".join(parts)


def _index(index, arg_of_value):
    items = index if isinstance(index, tuple) else (index,)
    text = []
    for it in items:
        if isinstance(it, _Ref):
            text.append(it.text)
        elif it is None:
            text.append("None")
        else:
            text.append(_literal(it))
    return ", ".join(text) if text else "()"


class _Ref:
    """An array inside an op's options (an index array), printed as the name of its value."""
    def __init__(self, text):
        self.text = text


# ---------------------------------------------------------------------------------------------------
# Names


_RESERVED = set(KERNELS) | {"np", "step", "grads", "rng", "rng2", "rng3", "forward"} | set(keyword.kwlist) | {"sum", "max", "min", "abs", "len"}


def _identifier(text):
    """A Python name from a graph name: '0.weight' -> 'W0', '2.bias' -> 'b2', 'enc.0.out' -> 'enc_0_out'."""
    text = str(text)
    m = re.fullmatch(r"(.*?)\.?(weight|bias)", text)
    if m and m.group(1):
        text = ("W" if m.group(2) == "weight" else "b") + m.group(1)
    text = re.sub(r"\W+", "_", text).strip("_") or "v"
    return "v" + text if text[0].isdigit() else text


class Names:
    """Unique, meaningful names for the values of a tape (see the module docstring)."""

    def __init__(self, capture):
        self.taken = set(_RESERVED)
        self.of = {}
        self.weak = set()                 # values with only a made-up name (t3): may be folded away
        forward = _forward_names(capture.instrs)
        for v in capture.values:
            base = self._base(v, forward)
            if base is None:
                self.weak.add(v.n)
                base = f"t{v.n}" if not v.scalar else f"s{v.n}"
            self.of[v.n] = self._unique(base)

    def _base(self, v, forward):
        hint = v.hint
        if isinstance(hint, tuple) and hint[0] == "grad":
            return "d" + self.of[hint[1].n] if hint[1].n in self.of else None
        if v.kind == "grad":
            return _identifier(getattr(v.source, "name", None) or "p") + "_grad"
        if hint:
            return _identifier(hint)
        if v.n in forward:
            return forward[v.n]
        if v.kind == "external":
            return "c"
        return None

    def _unique(self, base):
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def __getitem__(self, v):
        return self.of[v.n]


def _forward_names(instrs):
    """The documents' names for a forward pass: z1 = x W1 + b1, a1 = tanh(z1), ..., probs, loss."""
    names, layer, users = {}, 0, {}
    for ins in instrs:
        for x in ins.ins:
            users.setdefault(getattr(x, "n", None), []).append(ins)
    for ins in instrs:
        if ins.phase != "forward" or ins.kind != "op":
            continue
        op, out = ins.op, ins.out
        if op in (ops.MatMul, ops.Linear):
            layer += 1
            after = users.get(out.n, [])
            if op is ops.MatMul and len(after) == 1 and after[0].op is ops.Add and after[0].phase == "forward":
                names[after[0].out.n] = f"z{layer}"
            else:
                names[out.n] = f"z{layer}"
        elif op in (ops.Tanh, ops.Sigmoid, ops.ReLU, ops.LeakyReLU, ops.ELU) and names.get(getattr(ins.ins[0], "n", None), "").startswith("z"):
            names[out.n] = "a" + names[ins.ins[0].n][1:]
        elif op is ops.Softmax:
            names[out.n] = "probs"
        elif op in (ops.SoftmaxCrossEntropy, ops.BCEWithLogits, ops.MSE):
            names[out.n] = "loss"
    return names


# ---------------------------------------------------------------------------------------------------
# The readable program


def simplify(capture, unfolded=frozenset()):
    """The tape both programs are made from, with what changes nothing taken out:
    x · 1 (the implicit dL/dL = 1), a reshape to the shape it already has, numbers computed from
    constants only (dL / N of a mean becomes one number), a traced number computed twice the same way
    (−lr for each parameter), and results nobody uses.
    Returns (instructions, alias: value n -> the Value or number that stands for it).
    unfolded: values not to fold into a number, because a reshape or broadcast reads them (the
    backward of `loss = x.sum() / N` spreads dL / N over x: that needs an array to spread)."""
    alias, out, pairs = {}, [], []
    written = {ins.ins[0].n for ins in capture.instrs if ins.kind == "inplace"}
    kept = {v.n for v in capture.tracer.output_values} | {v.n for _, v in capture.grad_binds if v is not None}

    def real(x):
        return alias.get(x.n, x) if hasattr(x, "n") else x

    def constant(x):
        """The value of an operand known at compile time (a number, or the constant one), else None."""
        if not hasattr(x, "n"):
            return x if isinstance(x, (int, float, np.number)) else None
        return x.source if getattr(x, "one", False) else None

    scalars = {}                                    # (op, operands) -> the traced number made first
    for orig in capture.instrs:
        ins = Instr(orig.kind, orig.op, orig.fn, [real(x) for x in orig.ins],
                    {k: (tuple(real(i) for i in o) if isinstance(o, tuple) else real(o)) for k, o in orig.opts.items()},
                    orig.out, orig.phase, orig.group)
        pairs.append((orig, ins))
        if ins.kind == "scalar" and "call" not in ins.opts:    # -lr for every parameter: computed once
            key = (ins.op, tuple(x.n if hasattr(x, "n") else ("literal", repr(x)) for x in ins.ins))
            if key in scalars:
                alias[ins.out.n] = scalars[key]
                continue
            scalars[key] = ins.out
        if ins.kind == "op" and ins.out.n not in written:
            same = _identity_operand(ins)
            if same is not None and same.n not in written:
                alias[ins.out.n] = same
                if same.hint is None:
                    same.hint = ins.out.hint                 # dz2 = (ŷ − y) · 1 is still dz2
                continue
            values = [constant(x) for x in ins.ins]
            if ins.op in (ops.Mul, ops.Div, ops.Add, ops.Sub) and ins.out.shape == () and ins.out.n not in kept and \
                    ins.out.n not in unfolded and all(v is not None for v in values):
                result = np.asarray(ins.op.__new__(ins.op).forward(*values))   # folded: one number
                alias[ins.out.n] = float(result) if result.dtype == np.float64 else result.dtype.type(result)
                continue
        out.append(ins)
    spread = {orig.ins[0].n for orig, ins in pairs if ins.kind == "op" and ins.op in _SHAPE_OPS
              and not hasattr(ins.ins[0], "n") and hasattr(orig.ins[0], "n")}
    if spread:
        return simplify(capture, unfolded | spread)
    return _live(out, kept, written), alias


_SHAPE_OPS = (ops.Reshape, ops.Transpose, ops.BroadcastTo, ops.GetItem)


def _identity_operand(ins):
    """The operand an op returns unchanged (x · 1, x.reshape(x.shape)), or None."""
    if ins.op is ops.Mul:
        for k, x in enumerate(ins.ins):
            other = ins.ins[1 - k]
            if getattr(x, "one", False) and hasattr(other, "n") and other.shape == ins.out.shape \
                    and other.dtype == ins.out.dtype:
                return other
    if ins.op is ops.Reshape and hasattr(ins.ins[0], "n") and tuple(ins.ins[0].shape) == tuple(ins.out.shape):
        return ins.ins[0]
    return None


def _live(instrs, kept, written):
    """The instructions whose result is used (or that change something: updates, per-step calls, the
    label check of a cross-entropy)."""
    needed, live = set(kept) | set(written), []
    for ins in reversed(instrs):
        effect = ins.kind == "inplace" or (ins.kind == "scalar" and "call" in ins.opts)
        if effect or ins.out.n in needed or (ins.kind == "op" and ins.op is ops.SoftmaxCrossEntropy):
            live.append(ins)
            needed.update(x.n for x in list(ins.ins) + list(_flat_opts(ins)) if hasattr(x, "n"))
    return live[::-1]


def _uses(instrs, kept):
    """How many times each value is read: by instructions, or kept (outputs, gradients: counted 2)."""
    count = {}
    for ins in instrs:
        for x in list(ins.ins) + list(_flat_opts(ins)):
            if hasattr(x, "n"):
                count[x.n] = count.get(x.n, 0) + 1
    for v in kept:
        count[v.n] = count.get(v.n, 0) + 2
    return count


_REDUCING_GROUPS = (ops.Add, ops.Sub, ops.Mul, ops.Div, ops.Power, ops.Where, ops.Linear, ops.MatMul,
                    ops.BCEWithLogits, ops.MSE, ops.SoftmaxCrossEntropy, ops.Maximum, ops.Minimum, ops.Einsum)


def _rule(ins, text=""):
    """The comment of a backward line: the local rule of the op it differentiates."""
    if ins.phase != "backward" or ins.group is None or not ins.group.rule:
        return ""
    extra = ""
    if ins.kind == "op" and ins.op in (ops.Sum, ops.Reshape) and isinstance(ins.group, _REDUCING_GROUPS) \
            and ".sum(" in text:
        extra = " (summed over the broadcast axes)"
    return f"  # {ins.group.rule}{extra}"


def readable(capture, instrs, alias, for_exec=False):
    """The step as NumPy source. for_exec: a variant that returns (outputs, gradients) for replay."""
    names = Names(capture)
    outputs = [alias.get(v.n, v) for v in capture.tracer.output_values]
    binds = [(t, None if v is None else alias.get(v.n, v)) for t, v in capture.grad_binds]
    uses = _uses(instrs, outputs + [v for _, v in binds if v is not None])
    consumer, producer = {}, {ins.out.n: ins for ins in instrs if ins.kind == "op"}
    for j, ins in enumerate(instrs):
        for x in ins.ins:
            if hasattr(x, "n"):
                consumer.setdefault(x.n, j)
    inline = {}                                  # value n -> (text, precedence) folded into its user
    numbers = {}                                 # the same for traced numbers (-lr), folded into every user
    inplace_at = [j for j, ins in enumerate(instrs) if ins.kind == "inplace"]
    lines, arg_names, phase = [], [], None
    for i, meta in enumerate(capture.input_meta):
        v = next((v for v in capture.values if v.kind in ("input", "scalar") and v.source == i), None)
        arg_names.append(names[v] if v is not None else f"_arg{i}")

    def operand(x, level):
        if hasattr(x, "n"):
            if x.n in inline or x.n in numbers:
                text, p = inline.pop(x.n) if x.n in inline else numbers[x.n]
                return f"({text})" if p < level else text
            return names[x]
        text = _literal(x)
        return f"({text})" if (isinstance(x, (int, float)) and x < 0 and level > UNARY) else text

    def opts_of(ins):
        return {k: (tuple(_Ref(names[i]) if hasattr(i, "n") else i for i in o) if isinstance(o, tuple)
                    else _Ref(names[o]) if hasattr(o, "n") else o) for k, o in ins.opts.items()}

    def foldable(v, i):
        j = consumer.get(v.n)
        if v.n not in names.weak or uses.get(v.n, 0) != 1 or j is None:
            return False
        user = instrs[j]
        if user.phase != instrs[i].phase or any(i < k < j for k in inplace_at):
            return False
        if user.kind in ("inplace", "scalar"):
            return user.ins[0] is not v or user.kind == "scalar"
        return user.kind == "op" and user.group is instrs[i].group and \
            not any(hasattr(o, "n") and o.n == v.n for o in _flat_opts(user))

    for i, ins in enumerate(instrs):
        if ins.phase != phase:
            phase = ins.phase
            lines.append(f"# {phase}")
        if ins.kind == "op":
            text, prec = render(ins.ins, ins.op, opts_of(ins), lambda k, lvl, ins=ins: operand(ins.ins[k], lvl))
            text, prec = _keepdims_sum(text, prec, ins, producer)
            if foldable(ins.out, i):
                inline[ins.out.n] = (text, prec)
            else:
                lines.append(f"{names[ins.out]} = {text}{_rule(ins, text)}")
        elif ins.kind == "inplace":
            target, value, alpha = ins.ins
            sym = {np.add: "+=", np.subtract: "-=", np.multiply: "*=", np.true_divide: "/="}.get(ins.op)
            val = operand(value, PRODUCT + 1 if not (type(alpha) is int and alpha == 1) else 0)
            if not (type(alpha) is int and alpha == 1):
                val = f"{operand(alpha, PRODUCT)} * {val}"
            lines.append(f"{names[target]}[...] = {val}" if sym is None else f"{names[target]} {sym} {val}")
        elif "call" in ins.opts:                                  # a traced Python number
            fn = capture.calls[ins.opts["call"]]
            lines.append(f"{names[ins.out]} = {_call_name(fn, ins.opts['call'], for_exec)}()")
        else:
            text, prec = _scalar_expr(ins, operand)
            if ins.out.n in names.weak:
                numbers[ins.out.n] = (text, prec)     # a number: writing it at each use changes nothing
            else:
                lines.append(f"{names[ins.out]} = {text}")
    outs = [names[v] for v in outputs]
    if for_exec:
        grads = ", ".join(names[v] if v is not None else "None" for _, v in binds)
        lines.append(f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''}), "
                     f"({grads}{',' if len(binds) == 1 else ''})")
    else:
        shown = [f"{_target_name(t, capture, names)}.grad = {names[v] if v is not None else 'None'}"
                 for t, v in binds]
        if shown:
            lines.append("# afterwards: " + "; ".join(shown))
        lines.append("return " + (", ".join(outs) if outs else "None"))
    doc = [_docstring(capture, arg_names)]
    updated = list(dict.fromkeys(names[ins.ins[0]] for ins in instrs
                                 if ins.kind == "inplace" and ins.ins[0].kind == "external"))
    if updated:
        doc.append(f"global {', '.join(updated)}  # arrays from outside the step, updated in place")
    body = "\n".join("    " + line for line in doc + lines)
    used = sorted(k for k in KERNELS if re.search(rf"\b{k}\(", body))
    prelude = "" if for_exec else "import numpy as np\n" + (
        f"from tinygrad_edu.codegen import {', '.join(used)}\n" if used else "") + "\n"
    return f"{prelude}def {_identifier(capture.fn_name)}({header(arg_names)}):\n{body}\n", names


def header(arg_names):
    return ", ".join(arg_names)


def _keepdims_sum(text, prec, ins, producer):
    """`g.sum(axis=0).reshape(1, 3)` - how reduce_to sums a bias gradient - as `keepdims=True`."""
    src = producer.get(getattr(ins.ins[0], "n", None)) if ins.op is ops.Reshape else None
    if src is None or src.op is not ops.Sum or src.opts.get("keepdims") or src.opts.get("axis") is None:
        return text, prec
    if tuple(ins.out.shape) != ops.keep_shape(src.ins[0].shape, src.opts["axis"]):
        return text, prec
    m = re.fullmatch(r"(.*)\.sum\((axis=.*)\)\.reshape\(.*\)", text)
    return (f"{m.group(1)}.sum({m.group(2)}, keepdims=True)", prec) if m else (text, prec)


def _flat_opts(ins):
    for o in ins.opts.values():
        yield from (o if isinstance(o, tuple) else (o,))


def _scalar_expr(ins, operand):
    import operator
    sym = {operator.add: ("+", SUM), operator.sub: ("-", SUM), operator.mul: ("*", PRODUCT),
           operator.truediv: ("/", PRODUCT), operator.pow: ("**", POWER)}
    if ins.op is operator.neg:
        return f"-{operand(ins.ins[0], UNARY)}", UNARY
    s, p = sym[ins.op]
    if ins.op is operator.pow:
        return f"{operand(ins.ins[0], p + 1)} ** {operand(ins.ins[1], p)}", p
    return f"{operand(ins.ins[0], p)} {s} {operand(ins.ins[1], p + 1)}", p


def _call_name(fn, k, for_exec):
    if for_exec:
        return f"_call{k}"
    name = getattr(fn, "__name__", "per_step")
    return re.sub(r"\W", "_", name).strip("_") or "per_step"


def _target_name(t, capture, names):
    if isinstance(t, int):
        return f"argument {t}"
    for v in capture.values:
        if v.kind == "external" and getattr(t, "_data", None) is v.source:
            return names[v]
    return _identifier(getattr(t, "name", None) or "tensor")


def _docstring(capture, arg_names):
    sig = ", ".join(f"{n} {m[0]} {np.dtype(m[1]).name}" if m else n for n, m in zip(arg_names, capture.input_meta))
    return f'"""Generated by te.compile from {capture.fn_name}({sig})."""'


# ---------------------------------------------------------------------------------------------------


class Program:
    """Both programs of one capture, and the function that replays it."""

    def __init__(self, capture):
        self.capture = capture
        self.instrs, self.alias = simplify(capture)
        _generators.names = self.generators = {}
        self.readable, self.names = readable(capture, self.instrs, self.alias)
        self.readable_exec, _ = readable(capture, self.instrs, self.alias, for_exec=True)

    def namespace(self, copy_externals=False):
        """What the readable program's free names refer to: NumPy, the kernels, and the arrays the
        step reads from outside (by reference: running it updates them, as the step does)."""
        ns = {"np": np, **KERNELS}
        for v in self.capture.values:
            if v.kind == "external":
                ns[self.names[v]] = v.source.copy() if copy_externals else v.source
        for name, gen in self.generators.values():  # the generators of random draws (te.randn, dropout)
            ns[name] = gen
        ns["forward"] = _forward                    # ops without a template: forward(ops_Name, ...)
        for ins in self.capture.instrs:
            if ins.kind == "op":
                ns[f"ops_{ins.op.__name__}"] = ins.op
        for k, fn in enumerate(self.capture.calls):
            ns[f"_call{k}"] = fn
        return ns

    def compile_readable(self, ns):
        exec(compile(self.readable_exec, f"<te.compile {self.capture.fn_name}>", "exec"), ns)
        return ns[_identifier(self.capture.fn_name)]

    def compile_fast(self):
        """The fast program (lowering.py), compiled: run(*arguments, *grads read) -> (outputs, grads)."""
        from .lowering import Lowering
        low = Lowering(self.capture, self.instrs, self.alias)
        self.fast = low.program()
        ns = {}
        exec(compile(self.fast, f"<te.compile {self.capture.fn_name} (fast)>", "exec"), ns)
        self.grad_inputs = [v.source for v in low.grad_inputs]
        run, self.grad_buffers = ns["make"](**low.env)
        return run

    def listing(self):
        """The tape, one line per instruction, with shapes (print(step))."""
        out = [f"te.compile tape of {self.capture.fn_name}: {len(self.capture.instrs)} instructions"]
        phase = None
        for ins in self.capture.instrs:
            if ins.phase != phase:
                phase = ins.phase
                out.append(f"  -- {phase}")
            if ins.kind == "op":
                args = ", ".join(self.names[x] if hasattr(x, "n") else _literal(x) for x in ins.ins)
                shape = "" if ins.out.scalar else f"  {ins.out.shape} {np.dtype(ins.out.dtype).name}"
                out.append(f"  {self.names[ins.out]:<10} = {ins.op.name}({args}){shape}")
            elif ins.kind == "inplace":
                t, val, alpha = ins.ins
                op = getattr(ins.op, "__name__", "assign")
                out.append(f"  {self.names[t]:<10} {op}= {self.names[val] if hasattr(val, 'n') else val}"
                           + ("" if type(alpha) is int and alpha == 1 else
                              f" × {self.names[alpha] if hasattr(alpha, 'n') else alpha}"))
            else:
                out.append(f"  {self.names[ins.out]:<10} = (a Python number)")
        return "\n".join(out)
