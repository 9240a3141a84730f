"""Options ``quantiles``, ``num_samples``, ``seed``, ``samples_per_batch`` — as the strings Thrift delivers
(IoTDB's own Toto fails with 1599 on exactly those) — and the 1512 messages for bad values."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from ainode_core.errors import InvalidInferenceConfigError, StatusCode
from ainode_plugin_toto.decoding import first_patch
from ainode_plugin_toto.inputs import padded
from ainode_plugin_toto.options import LEVELS

H = 80  # two patches: the second is decoded from sampled values


@pytest.fixture(scope="module")
def series(golden) -> np.ndarray:
    return golden["input/L100_C2_nan"].astype(np.float64)


def test_quantiles_are_level_major_in_the_requested_order(ours, series):
    got = ours.run([{"targets": series}], output_length=H, quantiles="0.9, 0.1,0.5", num_samples="64", seed="5")[0]
    [paths] = ours.forecast_samples([{"targets": series}], output_length=H, num_samples="64", seed="5")  # [C, N, H]
    assert got.shape == (3 * 2, H)
    for k, level in enumerate([0.9, 0.1, 0.5]):
        for c in range(2):
            np.testing.assert_allclose(got[k * 2 + c], np.quantile(paths[c], level, axis=0), rtol=1e-12)
    assert np.all(got[2:4] <= got[4:6]) and np.all(got[4:6] <= got[0:2])  # q0.1 <= q0.5 <= q0.9


def test_quantiles_default_to_256_paths_with_seed_0(ours, series):
    got = ours.run([{"targets": series}], output_length=H, quantiles="0.25")[0]
    [paths] = ours.forecast_samples([{"targets": series}], output_length=H, num_samples=256, seed=0)
    np.testing.assert_allclose(got, np.quantile(paths, 0.25, axis=1), rtol=1e-12)


def test_all_is_chronos2s_21_levels(ours, series):
    everything = ours.run([{"targets": series}], output_length=H, quantiles="all", num_samples="32")[0]
    listed = ours.run([{"targets": series}], output_length=H, quantiles=list(LEVELS), num_samples=32)[0]
    assert len(LEVELS) == 21 and (LEVELS[0], LEVELS[10], LEVELS[-1]) == (0.01, 0.5, 0.99)
    assert everything.shape == (21 * 2, H)
    np.testing.assert_array_equal(everything, listed)


def test_num_samples_alone_gives_the_mean_of_the_paths(ours, series):
    got = ours.run([{"targets": series}], output_length=H, numSamples="48", seed="2")[0]  # camelCase name too
    [paths] = ours.forecast_samples([{"targets": series}], output_length=H, num_samples=48, seed=2)
    assert got.shape == (2, H)
    np.testing.assert_allclose(got, paths.mean(axis=1), rtol=1e-12)
    mean_path = ours.run([{"targets": series}], output_length=H)[0]
    assert not np.allclose(got, mean_path)  # sampling really happened


def test_identical_requests_give_identical_answers(ours, series):
    options = dict(output_length=H, quantiles="0.1,0.9", num_samples="32", seed="11")
    first = ours.run([{"targets": series}], **options)[0]
    second = ours.run([{"targets": series}], **options)[0]
    np.testing.assert_array_equal(first, second)
    other_seed = ours.run([{"targets": series}], **{**options, "seed": "12"})[0]
    assert not np.allclose(first, other_seed)
    default_seed = ours.run([{"targets": series}], output_length=H, quantiles="0.1,0.9", num_samples="32")[0]
    np.testing.assert_array_equal(default_seed, ours.run([{"targets": series}], output_length=H,
                                                        quantiles="0.1,0.9", num_samples="32", seed="0")[0])


def test_answer_does_not_depend_on_chunks_or_batch_neighbours(ours, series, golden):
    base = ours.run([{"targets": series}], output_length=H, num_samples="12", seed="4", quantiles="0.3")[0]
    chunked = ours.run([{"targets": series}], output_length=H, num_samples="12", seed="4", quantiles="0.3",
                       samples_per_batch="5")[0]
    neighbour = golden["input/L96_C3"][:2].astype(np.float64)  # same padded shape: one model call for both
    batched = ours.run([{"targets": neighbour}, {"targets": series}], output_length=H, num_samples="12", seed="4",
                       quantiles="0.3")[1]
    np.testing.assert_allclose(chunked, base, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(batched, base, rtol=1e-5, atol=1e-4)
    # path p is the same path whatever the number of paths after it
    [eight] = ours.forecast_samples([{"targets": series}], output_length=H, num_samples=8, seed=4)
    [twelve] = ours.forecast_samples([{"targets": series}], output_length=H, num_samples=12, seed=4)
    np.testing.assert_allclose(twelve[:, :8], eight, rtol=1e-5, atol=1e-4)


def test_first_patch_samples_follow_the_mixture(ours, series):
    """Draws of the first patch against the Student-T mixture's own CDF (Kolmogorov-Smirnov distance)."""
    [paths] = ours.forecast_samples([{"targets": series}], output_length=8, num_samples=4000, seed=1)
    values, observed = padded(series, ours.patch_size)
    mixture = first_patch(ours.model, torch.from_numpy(values)[None], torch.from_numpy(observed)[None])
    for variate, step in [(0, 0), (1, 7)]:
        probs, df, loc, scale = (getattr(mixture, name)[0, variate, step].double().numpy()
                                 for name in ("probs", "df", "component_loc", "component_scale"))
        affine_loc, affine_scale = float(mixture.loc[0, variate, step]), float(mixture.scale[0, variate, step])

        def cdf(x: np.ndarray) -> np.ndarray:
            standard = (np.asarray(x)[..., None] - affine_loc) / affine_scale
            return (probs * stats.t.cdf((standard - loc) / scale, df)).sum(-1)

        assert stats.kstest(paths[variate, :, step], cdf).statistic < 0.03


@pytest.mark.parametrize(("options", "message"), [
    ({"num_samples": "0"}, r"num_samples must be between 1 and 10000, got 0"),
    ({"num_samples": "many"}, r"num_samples must be a whole number between 1 and 10000, got 'many'"),
    ({"num_samples": "1.5"}, r"num_samples must be a whole number"),
    ({"seed": "-1"}, r"seed must be between 0 and 4294967295, got -1"),
    ({"samples_per_batch": "0"}, r"samples_per_batch must be between 1 and 10000"),
    ({"quantiles": "0"}, r"level 0 is outside the range this model predicts \[0\.01, 0\.99\]"),
    ({"quantiles": "0.5,0.995"}, r"level 0\.995 is outside the range"),
    ({"quantiles": "0.1,abc"}, r"'abc' is not a number"),
    ({"quantiles": "0.1,0.1"}, r"level 0\.1 is listed twice"),
    ({"quantiles": "0.1,,0.9"}, r"has an empty entry"),
    ({"quantile": "0.5"}, r"Unknown option 'quantile' for model toto\. Did you mean 'quantiles'"),
])
def test_bad_options_get_a_1512_message(ours, series, options, message):
    with pytest.raises(InvalidInferenceConfigError, match=message) as caught:
        ours.run([{"targets": series}], output_length=H, **options)
    assert caught.value.code == StatusCode.INVALID_INFERENCE_CONFIG


def test_covariates_are_refused_not_ignored(ours, series):
    item = {"targets": series, "past_covariates": {"temperature": np.ones(series.shape[1])}}
    with pytest.raises(InvalidInferenceConfigError, match=r"forecasts from the targets alone.*\(temperature\)"):
        ours.run([item], output_length=H)


def test_infinite_values_are_refused(ours, series):
    bad = series.copy()
    bad[1, 40] = np.inf
    with pytest.raises(InvalidInferenceConfigError, match=r"input 0: target 1 has an infinite value at row 40"):
        ours.run([{"targets": bad}], output_length=H)


def test_output_length_is_required_and_read_from_strings(ours, series):
    with pytest.raises(InvalidInferenceConfigError, match=r"output_length is required"):
        ours.run([{"targets": series}])
    assert ours.run([{"targets": series}], output_length="7")[0].shape == (2, 7)
