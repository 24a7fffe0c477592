"""envlock: locked, verified TensorFlow/Keras environments from per-machine profiles."""

__version__ = "0.1.0"
