"""nn: neural networks defined declaratively, built only on tinygrad_edu's public API."""
