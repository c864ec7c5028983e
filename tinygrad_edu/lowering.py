"""Kernel selection: the fast program of te.compile. Each instruction of a captured tape becomes NumPy
calls that write into buffers allocated once, and for each shape the cheapest call is chosen.

This is where speed lives, so the derivative table (ops.py) can stay plain math. The choices, each
measured on the small arrays of teaching networks (one BLAS thread, µs per call):

    buffers         every result has its own preallocated array (`out=`): no allocation per step;
                    an elementwise result whose input dies right there reuses that input's buffer
    views once      .T, reshape, broadcast and slices of buffers and parameters are made once, at
                    compile time, not every step
    row sums        Σ over the rows of a (N, K) matrix as ones(N) @ G (BLAS: ~1.3 µs) instead of
                    G.sum(axis=0) (~5 µs); Σ over columns as G @ ones(K)
    row maxima      over 2-4 columns, np.maximum of the column views (~1 µs) instead of a small-axis
                    .max(axis=1) (10-16 µs on 200 × 2)
    dot             2-D products as np.dot(a, b, out=) (0.85 µs for 1×25 @ 25×50) instead of matmul
    softmax-CE      the forward keeps exp(z − max) and its row sums; the backward's softmax(z) is a
                    division of those, and softmax(z) − one_hot(y) subtracts 1 at the labels in place
    dead code       results nothing reads are not computed (a loss the step does not return), but a
                    check that protects the user (the labels' range) always runs
    constants       x · 1 (the implicit dL/dL) is dropped
"""
import numpy as np

from . import ops

_UFUNC1 = {ops.Neg: np.negative, ops.Exp: np.exp, ops.Log: np.log, ops.Sqrt: np.sqrt, ops.Tanh: np.tanh,
           ops.Abs: np.absolute, ops.Sign: np.sign, ops.Sin: np.sin, ops.Cos: np.cos, ops.Tan: np.tan,
           ops.Log1p: np.log1p, ops.Expm1: np.expm1}
_UFUNC2 = {ops.Add: np.add, ops.Sub: np.subtract, ops.Mul: np.multiply, ops.Div: np.true_divide,
           ops.Power: np.power, ops.Maximum: np.maximum, ops.Minimum: np.minimum}
_VIEWS = (ops.Reshape, ops.Transpose, ops.BroadcastTo)


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) for i in items)


class Lowering:
    """Writes the fast program: `make(env)` returns `run(*arguments) -> (outputs, gradients)`."""

    def __init__(self, capture, instrs, alias):
        self.capture, self.instrs = capture, instrs
        self.outputs = [alias.get(v.n, v) for v in capture.tracer.output_values]
        self.binds = [(t, None if v is None else alias.get(v.n, v)) for t, v in capture.grad_binds]
        self.env = {"np": np, "check_labels": ops.check_labels, "scatter_add": ops.scatter_add_np,
                    "one_hot": ops.one_hot_np}
        self.expr = {}                    # value n -> the name that holds it in the program
        self.persistent = set()           # value n whose array is the same object every call
        self.setup, self.body, self.made = [], [], set()
        self.binary_probs = {}            # value n of a two-class softmax -> its scratch buffer
        self.env_views = {}               # the views made at compile time (name -> array), to test more
        self.consts = {}
        self.grad_inputs = [v for v in capture.values if v.kind == "grad"]
        self._analyse()

    # -- analysis -------------------------------------------------------------------------------------
    def _analyse(self):
        instrs = self.instrs
        self.producer = {ins.out.n: (i, ins) for i, ins in enumerate(instrs) if ins.kind == "op"}
        written = {ins.ins[0].n for ins in instrs if ins.kind == "inplace"}
        kept = {v.n for v in self.outputs} | {v.n for _, v in self.binds if v is not None} | written
        self.kept, self.written = kept, written
        # fusions: the softmax-CE forward that a backward softmax(z) can reuse, and ŷ − one_hot(y)
        self.sce_of = {}                  # z n -> index of its SoftmaxCrossEntropy (integer labels, 2-D)
        self.fused = {}                   # instr index -> kernel name
        for i, ins in enumerate(instrs):
            if ins.kind != "op":
                continue
            if ins.op is ops.SoftmaxCrossEntropy and self._sce_fast(ins):
                self.sce_of[ins.ins[0].n] = i
                self.fused[i] = "sce"
            elif ins.op is ops.Softmax and hasattr(ins.ins[0], "n") and ins.ins[0].n in self.sce_of \
                    and ins.ins[0].n not in written and ins.opts.get("axis", -1) in (-1, 1):
                self.fused[i] = "probs"
        uses = self.users = {}
        for i, ins in enumerate(instrs):
            for x in self._reads(ins):
                uses.setdefault(x.n, []).append(i)
        for i, ins in enumerate(instrs):       # ŷ − one_hot(y): subtract 1 at the labels, in place
            if ins.kind == "op" and ins.op is ops.Sub and len(ins.ins) == 2 and all(hasattr(x, "n") for x in ins.ins):
                p, oh = ins.ins
                src = self.producer.get(oh.n)
                if src and src[1].op is ops.NoGrad and src[1].opts.get("fn") is ops.one_hot_np \
                        and len(p.shape) == 2 and src[1].ins[0].shape == p.shape[:1] and p.n not in kept \
                        and uses.get(p.n) == [i] and p.n in self.producer and p.kind == "tmp":
                    self.fused[i] = "minus_onehot"
        # dead code: walk back from what is kept (and what has effects)
        live, needed = set(), set(kept)
        for i in range(len(instrs) - 1, -1, -1):
            ins = instrs[i]
            effect = ins.kind != "op" or ins.op is ops.SoftmaxCrossEntropy or ins.out.n in needed
            if effect:
                live.add(i)
                needed.update(x.n for x in self._reads(ins, i))
        self.live, self.needed = live, needed
        self._plan_arena()
        self.last_use = {}
        for i in sorted(live):
            for x in self._reads(instrs[i], i):
                self.last_use[x.n] = i
        self.viewed = set()               # values some view looks into: their buffer is never reused
        for i in live:
            ins = instrs[i]
            if ins.kind == "op" and (ins.op in _VIEWS or (ins.op is ops.GetItem and _is_basic(ins.opts["index"]))):
                self.viewed.add(ins.ins[0].n)

    def _plan_arena(self):
        """Runs of optimizer updates `p += α · g` with one α: their gradients g go into one flat buffer
        (the arena), so α · g is one NumPy call for all of them instead of one per parameter."""
        self.arena, self.runs = {}, {}                  # base value n -> (offset, dtype); start -> run
        run = []

        def base_of(x):
            while hasattr(x, "n") and x.n in self.producer and self.producer[x.n][1].op is ops.Reshape:
                x = self.producer[x.n][1].ins[0]
            return x

        def close(run):
            if len(run) > 1:
                self.runs[run[0]] = list(run)
        for i, ins in enumerate(self.instrs):
            if i not in self.live:
                continue
            ok = ins.kind == "inplace" and ins.op in (np.add, np.subtract) and ins.ins[0].kind == "external"
            if ok:
                value, alpha = ins.ins[1], ins.ins[2]
                base = base_of(value)
                ok = (hasattr(value, "n") and hasattr(base, "n") and base.kind == "tmp" and base.n in self.producer
                      and tuple(value.shape) == tuple(ins.ins[0].shape) and value.dtype == ins.ins[0].dtype
                      and base.n not in self.arena)
                first = self.instrs[run[0]] if run else None
                if ok and run and not (first.ins[2] is alpha or (not hasattr(alpha, "n") and alpha == first.ins[2]
                                                                 and type(alpha) is type(first.ins[2]))
                                       and first.op is ins.op and first.ins[1].dtype == value.dtype):
                    close(run)
                    run = []
            if not ok:
                close(run)
                run = []
                continue
            run.append(i)
        close(run)
        for start, members in self.runs.items():
            offset = 0
            for i in members:
                base = base_of(self.instrs[i].ins[1])
                self.arena[base.n] = (start, offset)
                offset += int(np.prod(base.shape))
            self.runs[start] = (members, offset)

    def _reads(self, ins, i=None):
        i = self.instrs.index(ins) if i is None else i
        xs = [x for x in list(ins.ins) + [o for v in ins.opts.values() for o in (v if isinstance(v, tuple) else (v,))]
              if hasattr(x, "n")]
        kind = self.fused.get(i)
        if kind == "minus_onehot":
            labels = self.producer[ins.ins[1].n][1].ins[0]
            return [ins.ins[0], labels]
        if kind == "probs":
            return [ins.ins[0]]
        return xs

    def _sce_fast(self, ins):
        z, y = ins.ins
        return (hasattr(y, "n") and len(z.shape) == 2 and z.shape[1] > 0 and tuple(y.shape) == z.shape[:1]
                and np.dtype(y.dtype).kind in "iu" and ins.opts.get("reduction", "mean") in ("mean", "sum")
                and np.dtype(z.dtype).kind == "f")

    # -- names ----------------------------------------------------------------------------------------
    def name(self, x):
        """The program text for an operand: a value's name, or a literal number."""
        if hasattr(x, "n"):
            return self.expr[x.n]
        return repr(x) if isinstance(x, (bool, int, float)) and type(x) in (bool, int, float) else self.const(x)

    def operand(self, x, dtype):
        """name(x), with a Python number as a 0-d array of `dtype` (see number)."""
        return self.number(x, dtype) if type(x) in (int, float) and np.dtype(dtype).kind == "f" else self.name(x)

    def number(self, x, dtype):
        """A Python number as a 0-d array of the result's dtype: NumPy converts a Python scalar on every
        call (~0.2 µs, as much as a small ufunc's work); the 0-d array gives exactly the same result."""
        key = ("number", repr(x), np.dtype(dtype).str)
        if key not in self.consts:
            self.consts[key] = f"c{len(self.consts)}"
            self.env[self.consts[key]] = np.array(x, dtype=dtype)
        return self.consts[key]

    def const(self, obj, hint="k"):
        key = id(obj)
        if key not in self.consts:
            self.consts[key] = f"{hint}{len(self.consts)}"
            self.env[self.consts[key]] = obj
        return self.consts[key]

    def buffer(self, v, like=None):
        """A preallocated array for value v (or `like`'s buffer when v may reuse it)."""
        if v.n in self.arena:                           # a gradient that lives in a run's flat buffer
            start, offset = self.arena[v.n]
            flat = self.scratch(f"arena{start}", (self.runs[start][1],), v.dtype)
            name = f"b{v.n}"
            self.env[name] = self.env[flat][offset:offset + int(np.prod(v.shape))].reshape(v.shape)
            self.expr[v.n] = name
            self.persistent.add(v.n)
            return name
        if like is not None:
            self.expr[v.n] = self.expr[like.n]
            self.persistent.add(v.n)
            return self.expr[v.n]
        name = f"b{v.n}"
        self.env[name] = np.empty(v.shape, v.dtype)
        self.expr[v.n] = name
        self.persistent.add(v.n)
        return name

    def view(self, v, text, base):
        """v is a view of `base`: made once when base is the same array every call (and NumPy really
        gives a view: a reshape of a transposed array or a single element is a copy, made per call)."""
        name = f"w{v.n}"
        self.expr[v.n] = name
        if base.n in self.persistent and self._is_view(text, base):
            self.setup.append(f"{name} = {text}")
            self.env_views[name] = eval(text, {"np": np}, {**self.env, **self.env_views})
            self.persistent.add(v.n)
        else:
            self.body.append(f"{name} = {text}")
        return name

    def _is_view(self, text, base):
        values = {**self.env, **self.env_views}
        try:
            made = eval(text, {"np": np}, values)
            arr = eval(self.expr[base.n], {"np": np}, values)
        except Exception:                       # (a name made per call: not a persistent view)
            return False
        return isinstance(made, np.ndarray) and made.size > 0 and np.shares_memory(made, arr)

    def ones(self, n, dtype):
        return self.const(np.ones(n, dtype), "ones")

    def scratch(self, key, shape, dtype):
        name = f"scr_{key}"
        if name not in self.env:
            self.env[name] = np.empty(shape, dtype)
        return name

    # -- the program --------------------------------------------------------------------------------
    def program(self):
        cap = self.capture
        args = []
        for i, meta in enumerate(cap.input_meta):
            args.append(f"a{i}")
        for v in cap.values:
            if v.kind in ("input", "scalar") and isinstance(v.source, int):      # the step's arguments
                self.expr[v.n] = f"a{v.source}"
            elif v.kind == "external":
                self.expr[v.n] = self.const(v.source, "x")
                self.persistent.add(v.n)
        for k, v in enumerate(self.grad_inputs):
            self.expr[v.n] = f"g{k}"
            args.append(f"g{k}")
        for k, fn in enumerate(cap.calls):
            self.env[f"call{k}"] = fn
        for i, ins in enumerate(self.instrs):
            if i in self.live:
                self.lower(i, ins)
        outs = ", ".join(self.expr[v.n] for v in self.outputs)
        grads = ", ".join(self.expr[v.n] if v is not None else "None" for _, v in self.binds)
        self.body.append(f"return ({outs}{',' if len(self.outputs) == 1 else ''}), "
                         f"({grads}{',' if len(self.binds) == 1 else ''})")
        import re
        used = sorted(set(re.findall(r"\bnp\.((?:\w+\.)?\w+)\(", "\n".join(self.body))))
        local = {f: "np_" + f.replace(".", "_") for f in used}      # a local name per NumPy function:
        self.body = [re.sub(r"\bnp\.((?:\w+\.)?\w+)\(", lambda m: local[m.group(1)] + "(", line)
                     for line in self.body]                         # no np.<name> lookup per call
        params = ", ".join(sorted(self.env))
        text = [f"def make({params}):"]
        text += [f"    {name} = np.{f}" for f, name in local.items()]
        text += ["    " + line for line in self.setup]
        text.append(f"    def run({', '.join(args)}):")
        text += ["        " + line for line in self.body]
        kept = ", ".join(self.expr[v.n] if v is not None and v.n in self.persistent else "None" for _, v in self.binds)
        text.append(f"    return run, ({kept}{',' if len(self.binds) == 1 else ''})   # the gradient buffers "
                    "that are the same arrays every call")
        return "\n".join(text) + "\n"

    def env_name_of_arena(self, start):
        return f"scr_arena{start}"

    def _base(self, x):
        while x.n in self.producer and self.producer[x.n][1].op is ops.Reshape:
            x = self.producer[x.n][1].ins[0]
        return x

    def lower(self, i, ins):
        if ins.kind == "inplace":
            return self.inplace(ins, i)
        if ins.kind == "scalar":
            return self.scalar(ins)
        op, v, body = ins.op, ins.out, self.body
        fused = self.fused.get(i)
        if fused == "sce":
            return self.sce(ins)
        if fused == "probs":
            return self.probs(ins)
        if fused == "minus_onehot":
            return self.minus_onehot(ins)
        a = [self.name(x) for x in ins.ins]
        if np.dtype(v.dtype).kind == "f" and (op in _UFUNC2 or op is ops.Where):
            a = [self.number(x, v.dtype) if type(x) in (int, float) else t for x, t in zip(ins.ins, a)]
        if op in _UFUNC1 or op in _UFUNC2 or op is ops.Pow or op is ops.ReLU:
            out = self.buffer(v, self.reusable(i, ins))
            if op is ops.Pow:
                p = ins.opts["p"]
                body.append(f"np.square({a[0]}, out={out})" if p == 2 else f"np.power({a[0]}, {p!r}, out={out})")
            elif op is ops.ReLU:
                body.append(f"np.maximum({a[0]}, 0, out={out})")
            else:
                ufunc = (_UFUNC1.get(op) or _UFUNC2[op]).__name__
                body.append(f"np.{ufunc}({', '.join(a)}, out={out})")
        elif op is ops.Sigmoid:
            out = self.buffer(v, self.reusable(i, ins))
            cap = self.number(ops.EXP_CAP[np.dtype(v.dtype).type], v.dtype)
            one = self.number(1, v.dtype)
            body += [f"np.negative({a[0]}, out={out})", f"np.minimum({out}, {cap}, out={out})",
                     f"np.exp({out}, out={out})", f"np.add({out}, {one}, out={out})",
                     f"np.reciprocal({out}, out={out})"]
        elif op is ops.MatMul:
            out = self.buffer(v)
            x, y = ins.ins
            same = len(x.shape) == 2 and len(y.shape) == 2 and x.dtype == y.dtype == v.dtype
            body.append(f"np.{'dot' if same else 'matmul'}({a[0]}, {a[1]}, out={out})")
        elif op is ops.Linear:
            out = self.buffer(v)
            x, W, b = ins.ins
            if x.dtype == W.dtype == v.dtype:
                body += [f"np.dot({a[0]}, {a[1]}, out={out})", f"np.add({out}, {a[2]}, out={out})"]
            else:
                body.append(f"np.add(np.matmul({a[0]}, {a[1]}), {a[2]}, out={out})")
        elif op is ops.Sum or op is ops.Mean:
            self.reduce_sum(ins, a[0])
            if op is ops.Mean:
                n = max(int(np.prod(ins.ins[0].shape)) // max(int(np.prod(v.shape)), 1), 1)
                body.append(f"np.true_divide({self.expr[v.n]}, {n}, out={self.expr[v.n]})")
        elif op is ops.Max:
            self.reduce_max(ins, a[0])
        elif op is ops.Reshape:
            self.view(v, f"{a[0]}.reshape({tuple(v.shape)!r})", ins.ins[0])
        elif op is ops.Transpose:
            axes = ins.opts.get("axes")
            self.view(v, f"{a[0]}.transpose({'' if axes is None else tuple(axes)!r})"
                      if axes is not None else f"{a[0]}.T", ins.ins[0])
        elif op is ops.BroadcastTo:
            self.view(v, f"np.broadcast_to({a[0]}, {tuple(v.shape)!r})", ins.ins[0])
        elif op is ops.GetItem and _is_basic(ins.opts["index"]):
            self.view(v, f"{a[0]}[{self.const(ins.opts['index'], 'idx')}]", ins.ins[0])
        elif op is ops.Where:
            out = self.buffer(v)
            body += [f"np.copyto({out}, {a[2]})", f"np.copyto({out}, {a[1]}, where={a[0]})"]
        elif op is ops.Cast:
            out = self.buffer(v)
            body.append(f"np.copyto({out}, {a[0]}, casting='unsafe')")
        elif op is ops.NoGrad and isinstance(ins.opts["fn"], np.ufunc):
            out = self.buffer(v)
            body.append(f"np.{ins.opts['fn'].__name__}({', '.join(a)}, out={out})")
        else:
            self.generic(ins, a)

    def reusable(self, i, ins):
        """An input whose buffer the elementwise result may take over: it dies here, it is ours (not
        a parameter, input or kept value), nothing views it, and it has the result's shape and dtype."""
        for x in ins.ins:
            if hasattr(x, "n") and x.kind == "tmp" and self.last_use.get(x.n) == i and x.n not in self.kept \
                    and x.n not in self.viewed and x.n in self.persistent and self.expr[x.n].startswith("b") \
                    and tuple(x.shape) == tuple(ins.out.shape) and x.dtype == ins.out.dtype:
                return x
        return None

    def generic(self, ins, a):
        """Any other op: its own forward, with a fresh result copied into the buffer (correct for every
        op, not the fastest)."""
        op_obj = self.const(ins.op.__new__(ins.op), "op")
        opts = []
        for k, o in ins.opts.items():
            if isinstance(o, tuple):
                parts = [self.name(x) if hasattr(x, "n") else self.const(x, "o") for x in o]
                opts.append(f"{k}=({', '.join(parts)}{',' if len(parts) == 1 else ''})")
            else:
                opts.append(f"{k}={self.name(o) if hasattr(o, 'n') else self.const(o, 'o')}")
        out = self.buffer(ins.out)
        self.body.append(f"np.copyto({out}, {op_obj}.forward({', '.join(a + opts)}), casting='unsafe')")

    def reduce_sum(self, ins, x):
        v, src = ins.out, ins.ins[0]
        axis, keep = ins.opts.get("axis"), ins.opts.get("keepdims", False)
        axes = None if axis is None else tuple(a % len(src.shape) for a in (axis if isinstance(axis, tuple) else (axis,)))
        out = self.buffer(v)
        flat = out
        if len(src.shape) == 2 and axes in ((0,), (1,)) and np.dtype(src.dtype).kind == "f" and src.dtype == v.dtype:
            if keep:
                flat = self.view_of_buffer(v, f"{out}.reshape(-1)")
            n, k = src.shape
            if axes == (0,):
                self.body.append(f"np.dot({self.ones(n, src.dtype)}, {x}, out={flat})")   # BLAS row sum
            else:
                self.body.append(f"np.dot({x}, {self.ones(k, src.dtype)}, out={flat})")
        else:
            self.body.append(f"np.add.reduce({x}, axis={axes!r}, keepdims={keep!r}, out={out})")

    def view_of_buffer(self, v, text):
        name = f"{self.expr[v.n]}_v"
        self.once(name, text)
        return name

    def once(self, name, text):
        """A view made at compile time (the setup), once."""
        if name not in self.made:
            self.made.add(name)
            self.setup.append(f"{name} = {text}")

    def reduce_max(self, ins, x):
        v, src = ins.out, ins.ins[0]
        axis, keep = ins.opts.get("axis"), ins.opts.get("keepdims", False)
        out = self.buffer(v)
        if len(src.shape) == 2 and axis in (1, -1) and 1 < src.shape[1] <= 4 and x.startswith(("b", "x", "w")):
            flat = self.view_of_buffer(v, f"{out}.reshape(-1)") if keep else out
            cols = [self.column(src, x, j) for j in range(src.shape[1])]
            self.body.append(f"np.maximum({cols[0]}, {cols[1]}, out={flat})")
            for c in cols[2:]:
                self.body.append(f"np.maximum({flat}, {c}, out={flat})")
        else:
            self.body.append(f"np.maximum.reduce({x}, axis={axis!r}, keepdims={keep!r}, out={out})")

    def column(self, src, x, j):
        name = f"{x}_c{j}"
        if src.n in self.persistent:
            self.once(name, f"{x}[:, {j}]")
        else:
            self.body.append(f"{name} = {x}[:, {j}]")
        return name

    # -- the fused softmax cross-entropy ---------------------------------------------------------------
    def sce(self, ins):
        z, y = ins.ins
        n, c = z.shape
        zx, yx = self.name(z), self.name(y)
        dt = z.dtype
        b = self.body
        if n:                                           # the labels' range: one max of the labels viewed
            ydt = np.dtype(y.dtype)                     # as unsigned (a negative label becomes huge)
            u = self.const(ydt.newbyteorder("=") if ydt.kind == "u" else np.dtype(ydt.str.replace("i", "u")), "udt")
            b.append(f"if {yx}.view({u}).max() >= {c}: check_labels('softmax_cross_entropy', {yx}, {c})")
        self.sce_scratch = getattr(self, "sce_scratch", {})
        if c == 2 and ins.out.n not in self.needed and zx.startswith(("b", "x")):
            return self.sce_binary(ins, z, zx, n, dt)
        m = self.scratch(f"m{z.n}", (n,), dt)
        sh = self.scratch(f"sh{z.n}", (n, c), dt)
        e = self.scratch(f"e{z.n}", (n, c), dt)
        s = self.scratch(f"s{z.n}", (n,), dt)
        flat = self.scratch(f"flat{y.n}", (n,), np.intp)
        rows = self.const(np.arange(0, n * c, c), "rowstart")
        if zx.startswith(("b", "x")) and 1 < c <= 4:
            cols = [self.column(z, zx, j) for j in range(c)]
            b.append(f"np.maximum({cols[0]}, {cols[1]}, out={m})")
            b += [f"np.maximum({m}, {col}, out={m})" for col in cols[2:]]
        else:
            b.append(f"np.maximum.reduce({zx}, axis=1, out={m})")
        self.once(f"{m}_col", f"{m}.reshape({n}, 1)")
        self.once(f"{s}_col", f"{s}.reshape({n}, 1)")
        b += [f"np.subtract({zx}, {m}_col, out={sh})", f"np.exp({sh}, out={e})",
              f"np.dot({e}, {self.ones(c, dt)}, out={s})", f"np.add({rows}, {yx}, out={flat})"]
        self.sce_scratch[z.n] = (e, s, flat, y.n)
        out = self.buffer(ins.out)
        if ins.out.n not in self.needed:                # nobody reads the loss: only the check runs
            return
        ls = self.scratch(f"ls{z.n}", (n,), dt)
        picked = self.scratch(f"pick{z.n}", (n,), dt)
        self.once(f"{sh}_flat", f"{sh}.reshape(-1)")
        b += [f"np.log({s}, out={ls})", f"np.take({sh}_flat, {flat}, out={picked})",
              f"np.subtract({ls}, {picked}, out={ls})", f"np.add.reduce({ls}, out={out})"]
        if ins.opts.get("reduction", "mean") == "mean":
            b.append(f"np.true_divide({out}, {max(n, 1)}, out={out})")

    def sce_binary(self, ins, z, zx, n, dt):
        """Two classes, loss unused (only its gradient): softmax(z) is [1 − p, p] with p = σ(z₁ − z₀), one
        exp per row instead of two, and no row maximum or row sum (the binary case of softmax)."""
        probs = self.scratch(f"p{z.n}", (n, 2), dt)
        t = self.scratch(f"t{z.n}", (n,), dt)
        self.once(f"{probs}_c0", f"{probs}[:, 0]")
        self.once(f"{probs}_c1", f"{probs}[:, 1]")
        c0, c1 = self.column(z, zx, 0), self.column(z, zx, 1)
        cap, one = self.number(ops.EXP_CAP[np.dtype(dt).type], dt), self.number(1, dt)
        self.body += [f"np.subtract({c0}, {c1}, out={t})", f"np.minimum({t}, {cap}, out={t})",
                      f"np.exp({t}, out={t})", f"np.add({t}, {one}, out={t})",
                      f"np.reciprocal({t}, out={probs}_c1)"]
        self.buffer(ins.out)                        # (the loss itself is never read)
        self.sce_scratch[z.n] = ("binary", probs, one, ins.ins[1].n)

    def probs(self, ins):
        z = ins.ins[0]
        if self.sce_scratch[z.n][0] == "binary":
            _, probs, one, _ = self.sce_scratch[z.n]
            self.expr[ins.out.n] = probs
            self.persistent.add(ins.out.n)
            self.binary_probs[ins.out.n] = probs
            users = self.users.get(ins.out.n, [])
            if not (len(users) == 1 and self.fused.get(users[0]) == "minus_onehot"):
                self.body.append(f"np.subtract({one}, {probs}_c1, out={probs}_c0)")
            return
        e, s, _, _ = self.sce_scratch[z.n]
        out = self.buffer(ins.out)
        self.body.append(f"np.true_divide({e}, {s}_col, out={out})")

    def minus_onehot(self, ins):
        p, oh = ins.ins
        labels = self.producer[oh.n][1].ins[0]
        n, c = p.shape
        px = self.expr[p.n]
        if p.n in self.binary_probs:                # [1 − p, p] − one_hot(y) = [−(p − y), p − y]
            self.buffer(ins.out, like=p)
            self.body += [f"np.subtract({px}_c1, {self.name(labels)}, out={px}_c1)",
                          f"np.negative({px}_c1, out={px}_c0)"]
            return
        sc = [k for k, val in getattr(self, "sce_scratch", {}).items() if val[3] == labels.n]
        if sc:
            flat = self.sce_scratch[sc[0]][2]
        else:
            flat = self.scratch(f"flat{labels.n}", (n,), np.intp)
            self.body.append(f"np.add({self.const(np.arange(0, n * c, c), 'rowstart')}, {self.name(labels)}, "
                             f"out={flat})")
        self.buffer(ins.out, like=p)
        self.once(f"{px}_flat", f"{px}.reshape(-1)")
        self.body.append(f"{px}_flat[{flat}] -= 1")

    # -- updates and Python numbers -------------------------------------------------------------------
    def inplace(self, ins, i=None):
        target, value, alpha = ins.ins
        if i in self.runs:                              # the first update of a run: α · (all g) at once
            members, size = self.runs[i]
            flat = self.env_name_of_arena(i)
            scaled = self.scratch(f"scaled{i}", (size,), value.dtype)
            self.body.append(f"np.multiply({flat}, {self.operand(alpha, value.dtype)}, out={scaled})")
            self.in_run = {}
            for k in members:
                t, val = self.instrs[k].ins[0], self.instrs[k].ins[1]
                start, offset = self.arena[self._base(val).n]
                name = f"{scaled}_{k}"
                self.once(name, f"{scaled}[{offset}:{offset + int(np.prod(val.shape))}].reshape({tuple(val.shape)!r})")
                self.in_run[k] = name
        if i is not None and i in getattr(self, "in_run", {}):
            self.body.append(f"np.{ins.op.__name__}({self.name(target)}, {self.in_run[i]}, out={self.name(target)})")
            return
        t, val = self.name(target), self.name(value)
        if ins.op is None:
            self.body.append(f"np.copyto({t}, {val})")
            return
        if not (type(alpha) is int and alpha == 1):
            tmp = self.scratch(f"up{target.n}", target.shape, target.dtype) if hasattr(value, "n") and \
                tuple(value.shape) == tuple(target.shape) else None
            if tmp is not None and value.dtype == target.dtype:
                self.body.append(f"np.multiply({val}, {self.operand(alpha, value.dtype)}, out={tmp})")
                val = tmp
            else:
                val = f"({val} * {self.name(alpha)})"
        self.body.append(f"np.{ins.op.__name__}({t}, {val}, out={t})")

    def scalar(self, ins):
        name = f"s{ins.out.n}"
        self.expr[ins.out.n] = name
        if "call" in ins.opts:
            self.body.append(f"{name} = call{ins.opts['call']}()")
            return
        import operator
        syms = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.pow: "**"}
        if ins.op is operator.neg:
            self.body.append(f"{name} = -{self.name(ins.ins[0])}")
        else:
            self.body.append(f"{name} = {self.name(ins.ins[0])} {syms[ins.op]} {self.name(ins.ins[1])}")
