"""nn.Module and nn.Parameter: discovery, names, modes, repr, state dicts, scopes, predict."""
import numpy as np
import pytest

import nn
from tinygrad_edu import DTypeError, Tensor, record_scopes, toposort


class Net(nn.Module):
    """A custom module using every place parameters can hide."""

    def __init__(self):
        self.first = nn.Linear(2, 3, rng=0)
        self.blocks = [nn.Linear(3, 3, rng=1), nn.Tanh()]
        self.heads = {"a": nn.Linear(3, 1, rng=2), "b": nn.Linear(3, 2, rng=3, bias=False)}
        self.scale = nn.Parameter(np.ones(1))
        self.plain = Tensor(np.ones(2), requires_grad=True)     # not a Parameter: not discovered
        self._hidden = nn.Linear(2, 2, rng=4)                   # private: not discovered

    def forward(self, x):
        h = self.blocks[1](self.blocks[0](self.first(x)))
        return self.heads["a"](h) * self.scale


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64
    assert repr(p).startswith("Parameter(")
    with pytest.raises(DTypeError):
        nn.Parameter([1, 2])              # integer data cannot require grad


def test_discovery_in_attributes_lists_and_dicts_in_attribute_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["first.weight", "first.bias", "blocks.0.weight", "blocks.0.bias",
                     "heads.a.weight", "heads.a.bias", "heads.b.weight", "scale"]
    params = list(net.parameters())
    assert params[0] is net.first.weight and params[-1] is net.scale
    assert net.num_parameters() == 2 * 3 + 3 + 9 + 3 + 3 + 1 + 6 + 1
    assert [name for name, _ in net.named_children()] == ["first", "blocks.0", "blocks.1", "heads.a", "heads.b"]
    assert len(list(net.modules())) == 6


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2, rng=0)
    model = nn.Sequential(lin, nn.Tanh(), lin)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    holder = nn.Module()
    holder.a = nn.Parameter(np.zeros(2))
    holder.b = holder.a
    assert [n for n, _ in holder.named_parameters()] == ["a"]


def test_parameters_are_named_with_their_dotted_path():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    assert [p.name for p in model.parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    outer = nn.Sequential(model, nn.Sigmoid())                  # names follow the outermost module
    assert model[0].weight.name == "0.0.weight"
    list(model.parameters())                                    # an inner module does not rename
    assert model[0].weight.name == "0.0.weight"
    assert [n for n, _ in outer.named_parameters()][0] == "0.0.weight"


def test_a_name_the_user_chose_is_kept():
    lin = nn.Linear(2, 3)
    lin.weight.name = "W1"
    model = nn.Sequential(lin, nn.Tanh())
    assert model[0].weight.name == "W1" and model[0].bias.name == "0.bias"
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]   # the path is unchanged


def test_zero_grad_sets_every_grad_to_none():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))
    model(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_set_the_mode_of_the_whole_tree():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_repr_is_a_tree_with_parameter_counts():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    assert repr(model).splitlines() == [
        "Sequential(  # 17 parameters",
        "  (0): Linear(in=2, out=3, bias=True)  # 9 parameters",
        "  (1): Tanh()",
        "  (2): Linear(in=3, out=2, bias=True)  # 8 parameters",
        ")",
    ]
    text = repr(Net())
    assert "(scale): Parameter(shape=(1,), dtype=float64)" in text and "(heads.b): Linear(in=3, out=2, bias=False)" in text


def test_state_dict_is_a_snapshot_and_load_state_dict_copies_in_place():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 2, rng=1))
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    before = state["0.weight"].copy()
    weight = model[0].weight
    weight.data[...] = 7.0
    np.testing.assert_array_equal(state["0.weight"], before)        # the snapshot did not move
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert model[0].weight is weight                                 # same object, new values
    np.testing.assert_array_equal(weight.data, before)


def test_load_state_dict_lists_every_problem_and_assigns_nothing():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 2, rng=1))
    original = model.state_dict()
    bad = {"0.weight": np.zeros((3, 2)),                   # wrong shape
           "0.bias": np.zeros(3, dtype=np.float32),        # wrong dtype
           "2.weight": np.full((3, 2), 5.0),               # fine, but must not be assigned
           "extra": np.zeros(1)}                           # unexpected; 2.bias is missing
    with pytest.raises(nn.LoadError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    for fragment in ("missing key(s): 2.bias", "unexpected key(s): extra", "size mismatch for 0.weight",
                     "(3, 2)", "(2, 3)", "dtype mismatch for 0.bias", "float32"):
        assert fragment in message
    assert len(info.value.problems) == 4
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, original[key])


def test_load_state_dict_non_strict_reports_keys_and_converts_lists():
    model = nn.Sequential(nn.Linear(1, 2, rng=0))
    result = model.load_state_dict({"0.weight": [[1.0, 2.0]], "junk": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["junk"]
    np.testing.assert_array_equal(model[0].weight.data, [[1.0, 2.0]])
    with pytest.raises(nn.LoadError, match="expected an array"):
        model.load_state_dict({"0.weight": "abc", "0.bias": np.zeros(2)})
    with pytest.raises(nn.LoadError, match="mapping"):
        model.load_state_dict([np.zeros((1, 2))])


def test_modules_label_their_ops_only_while_scopes_are_recorded():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    x = np.ones((1, 2))
    out = model(x)
    assert all(t.grad_fn.scope is None for t in toposort([out]))
    with record_scopes():
        out = nn.SoftmaxCrossEntropy()(model(x), np.array([1]))
    scopes = [t.grad_fn.scope for t in reversed(toposort([out]))]
    # one fused linear op per Linear layer (Tensor.linear), then the activation and the loss
    assert scopes == ["Sequential/0: Linear(2→3)", "Sequential/1: Tanh", "Sequential/2: Linear(3→2)",
                      "SoftmaxCrossEntropy"]


def test_custom_modules_get_unique_scope_labels_when_called_under_record_scopes():
    net = Net()
    with record_scopes():
        out = net(np.ones((2, 2)))
    scopes = {t.grad_fn.scope for t in toposort([out])}
    assert scopes == {"Net/first: Linear(2→3)", "Net/blocks.0: Linear(3→3)", "Net/blocks.1: Tanh",
                      "Net/heads.a: Linear(3→1)", "Net"}
    assert net.first.weight.name == "first.weight"


def test_predict_returns_class_labels():
    model = nn.Sequential(nn.Linear(2, 2, init="zeros"))
    with_bias = np.array([0.0, 1.0])
    model.load_state_dict({"0.weight": np.array([[1.0, 0.0], [0.0, 1.0]]), "0.bias": with_bias})
    X = np.array([[3.0, 0.0], [0.0, 0.0], [-1.0, 2.0]])
    np.testing.assert_array_equal(model.predict(X), [0, 1, 1])
    np.testing.assert_array_equal(model.predict(X, batch_size=2), [0, 1, 1])
    single = nn.Sequential(nn.Linear(1, 1, init="zeros", bias=False))
    single.load_state_dict({"0.weight": np.array([[1.0]])})
    np.testing.assert_array_equal(single.predict([[-0.5], [0.2]]), [0, 1])           # logits: > 0
    prob = nn.Sequential(nn.Linear(1, 1, init="zeros", bias=False), nn.Sigmoid())
    prob.load_state_dict({"0.weight": np.array([[1.0]])})
    np.testing.assert_array_equal(prob.predict([[-0.5], [0.2]]), [0, 1])             # σ > 0.5
    np.testing.assert_array_equal(prob.predict([[-0.5], [0.2]], threshold=0.9), [0, 0])


def test_module_without_forward_or_spec_says_so():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)
    with pytest.raises(nn.SpecError, match="save_weights"):
        Net().to_spec()
