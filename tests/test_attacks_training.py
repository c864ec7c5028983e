"""Issue 15, items 6 and 7: fit checks all of its data before the first update, and NumPy
subclasses (np.matrix, masked arrays) cannot change the maths."""
import numpy as np
import pytest

import nn
import tinygrad_edu as te
from attack_helpers import same_weights, small_model

def fit_data(n=10):
    X = np.random.default_rng(0).standard_normal((n, 2))
    y = np.arange(n) % 2
    return X, y


def assert_untouched(model, before, opt):
    assert same_weights(model, before)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("where", ["last batch", "eval_data", "loader, no metrics"])
def test_fit_refuses_a_bad_label_anywhere_before_the_first_update(where):
    model, before = small_model(), small_model()
    opt = nn.SGD(model.parameters(), lr=0.5, momentum=0.9)
    X, y = fit_data()
    bad = y.copy()
    bad[-1] = 7                                     # in the last batch of 3, 3, 3, 1 rows
    kwargs = dict(epochs=2, batch_size=3, shuffle=False)
    if where == "last batch":
        args, kwargs["metrics"] = (X, bad), ()
    elif where == "eval_data":
        args, kwargs["eval_data"] = (X, y), (X, bad)
    else:
        class Batches:                              # a loader without .X/.y
            def __iter__(self):
                return iter([(X[i:i + 3], bad[i:i + 3]) for i in range(0, 10, 3)])
        args, kwargs = Batches(), dict(epochs=2, metrics=())
    with pytest.raises(te.LabelError, match="label 7") as info:
        nn.fit(model, nn.SoftmaxCrossEntropy(), opt, args, **kwargs)
    assert ("eval_data" if where == "eval_data" else "train_data") in str(info.value)
    assert_untouched(model, before, opt)
    # and with good labels the same call trains
    good_args = (X, y) if where != "loader, no metrics" else None
    if good_args is not None:
        nn.fit(model, nn.SoftmaxCrossEntropy(), opt, good_args, epochs=1, batch_size=3)
        assert not same_weights(model, before)


def test_fit_refuses_a_wrong_target_shape_in_eval_data_before_the_first_update():
    model, before = small_model(), small_model()
    opt = nn.SGD(model.parameters(), lr=0.5)
    X, y = fit_data()
    with pytest.raises(te.ShapeError, match="eval_data"):
        nn.fit(model, nn.MSE(), opt, (X, nn.data.one_hot(y, 2)), epochs=1, eval_data=(X, np.zeros((10, 3))))
    assert_untouched(model, before, opt)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")     # NumPy discourages np.matrix; users still pass it
def test_np_matrix_becomes_a_plain_array_so_star_stays_elementwise():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    x = te.Tensor(m, requires_grad=True)
    assert type(x.data) is np.ndarray
    loss = (x * x).sum()
    assert loss.item() == 30.0                      # np.matrix's * would give the matrix product: 54
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * np.asarray(m))
    y = te.Tensor(np.ones((2, 2)), requires_grad=True)
    out = y * m                                     # a matrix operand is elementwise too, on either side
    assert type(out.data) is np.ndarray and out.sum().item() == 10.0
    assert (m * y).sum().item() == 10.0
    assert te.gradcheck(lambda t: (t * t).sum(), [te.Tensor(m, requires_grad=True)]).ok


def test_masked_arrays_are_refused_with_a_dtype_error():
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    with pytest.raises(te.DTypeError, match="masked arrays are not supported"):
        te.Tensor(masked)
    t = te.Tensor([1.0, 1.0, 1.0], requires_grad=True)
    with pytest.raises(te.DTypeError, match="mul: masked arrays"):
        t * masked
    with pytest.raises(te.DTypeError):
        t.data = masked
    np.testing.assert_array_equal(t.data, [1.0, 1.0, 1.0])
    plain = te.Tensor(np.ma.filled(masked, 0.0))    # the way the message suggests
    assert plain.sum().item() == 4.0
