"""Train a spec's model: data by input and output name (``data``), ``tf.distribute``
strategies by name (``strategies``), and Keras's fit, evaluate and predict (``run``).

``data`` needs only NumPy, so a bad data file is reported before TensorFlow loads.
"""
