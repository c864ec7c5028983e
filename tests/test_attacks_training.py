"""Issue 15, item 6: fit checks all of its data before the first update."""
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
