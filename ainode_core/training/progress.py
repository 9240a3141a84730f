"""The progress text every fine-tuning shows in SHOW MODELS' reason, in the user's terms (epochs × iterations).

Model types call :func:`epoch_progress` so that Timer-XL, Sundial and Chronos-2 read alike, whatever their
trainer counts (Chronos-2's Hugging Face trainer counts optimiser steps only).
"""
from __future__ import annotations


def epoch_progress(step: int, epochs: int, iter_per_epoch: int, loss: float) -> str:
    """``epoch 2/3, iteration 5/50, loss 0.031000`` for the 1-based optimiser ``step``."""
    epoch = min(epochs, max(1, (step - 1) // iter_per_epoch + 1))
    iteration = step - (epoch - 1) * iter_per_epoch
    return f"epoch {epoch}/{epochs}, iteration {iteration}/{iter_per_epoch}, loss {loss:.6f}"
