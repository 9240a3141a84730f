"""Timer-XL (model_type ``timer``): configuration, model and forecast pipeline."""
