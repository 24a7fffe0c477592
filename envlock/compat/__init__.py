"""The TensorFlow/Keras/Python/CUDA compatibility facts, as data, and the code that reads them."""
