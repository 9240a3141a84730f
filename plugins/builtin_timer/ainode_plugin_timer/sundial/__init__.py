"""Sundial (model_type ``sundial``): configuration, model, TimeFlow head and forecast pipeline."""
