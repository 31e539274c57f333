"""OpNet: head-pose datasets, networks, training, evaluation and export for OpenTrack's NeuralNet tracker."""

__version__ = "0.1.0"
