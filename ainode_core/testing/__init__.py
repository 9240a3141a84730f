"""The plugin test kit: check functions and :func:`parametrize_with_checks` for a plugin's own test suite.

    from ainode_core.testing import parametrize_with_checks

    @parametrize_with_checks(ainode_register_model_types())
    def test_ainode_checks(spec, check):
        check(spec)

Importing this package never imports torch (nor pytest, until ``parametrize_with_checks`` is called).
"""
from ainode_core.testing.checks import (
    CHECKS,
    check_batch_equals_single,
    check_deterministic,
    check_errors_are_ainode_errors,
    check_forecast_shapes,
    check_inputs_not_mutated,
    check_spec_valid,
    check_unique_in_plugin_manager,
    default_model_info,
    make_series,
    parametrize_with_checks,
    test_params,
)

__all__ = [
    "CHECKS",
    "check_batch_equals_single",
    "check_deterministic",
    "check_errors_are_ainode_errors",
    "check_forecast_shapes",
    "check_inputs_not_mutated",
    "check_spec_valid",
    "check_unique_in_plugin_manager",
    "default_model_info",
    "make_series",
    "parametrize_with_checks",
    "test_params",
]
