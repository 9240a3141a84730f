"""Built-in models served by the real node: sktime models give sktime's own numbers; Timer-XL and Sundial
serve from weights placed in builtin/<id>/ and explain themselves when the weights are missing."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.testing.node import RunningNode, make_home

FIXTURES = Path(__file__).resolve().parents[1] / "plugins/builtin_timer/tests/fixtures"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("builtins"))
    builtin = home / "data/ainode/models/builtin"
    shutil.copytree(FIXTURES / "timer_p96", builtin / "timer_xl")
    shutil.copytree(FIXTURES / "sundial_o48", builtin / "sundial")
    running = RunningNode(home)
    yield running
    assert running.stop() == 0



@pytest.fixture(scope="module")
def airline() -> pd.Series:
    from sktime.datasets import load_airline

    return load_airline()


@pytest.mark.parametrize("horizon", [1, 12, 36])
def test_served_numbers_equal_sktime_called_directly(client, airline, horizon):
    from sktime.forecasting.exp_smoothing import ExponentialSmoothing
    from sktime.forecasting.naive import NaiveForecaster

    fh = np.arange(1, horizon + 1)
    expected_naive = NaiveForecaster(strategy="last", sp=1).fit(airline).predict(fh).to_numpy()
    served_naive = client.forecast("naive_forecaster", airline, output_length=horizon).iloc[:, 0]
    np.testing.assert_allclose(served_naive.to_numpy(), expected_naive)
    assert served_naive.index[0] == airline.index[-1] + 1  # the first step is AFTER the input

    expected_hw = ExponentialSmoothing(trend="add", seasonal="add", sp=12, damped_trend=False,
                                       initialization_method="estimated").fit(airline).predict(fh).to_numpy()
    served_hw = client.forecast("holtwinters", airline, output_length=horizon).iloc[:, 0]
    np.testing.assert_allclose(served_hw.to_numpy(), expected_hw, rtol=1e-6)


def test_timer_xl_and_sundial_serve_from_placed_weights(client):
    models = client.models().set_index("ModelId")
    assert models.loc["timer_xl", "State"] == "active" and models.loc["sundial", "State"] == "active"
    series = np.sin(np.arange(480) / 10.0)
    timer = client.forecast("timer_xl", series, output_length=192)
    assert timer.shape == (192, 1) and np.isfinite(timer.to_numpy()).all()
    sundial = client.forecast("sundial", series, output_length=48, num_samples=4, seed=1)
    again = client.forecast("sundial", series, output_length=48, num_samples=4, seed=1)
    np.testing.assert_array_equal(sundial.to_numpy(), again.to_numpy())  # seeded samples repeat


def test_without_weights_the_model_is_inactive_and_says_why(client):
    models = client.models().set_index("ModelId")
    assert models.loc["chronos2", "State"] == "inactive"
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("chronos2", np.ones(64), output_length=8)
    assert error.value.code == 1599
    assert "inactive" in str(error.value) and "model.safetensors" in str(error.value)
