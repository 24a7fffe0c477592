"""Will my code and models survive a TensorFlow/Keras switch: scan (static) and rehearse (run)."""
