"""Upgrade rehearsal: what breaks when a project moves from one TensorFlow/Keras to another."""
