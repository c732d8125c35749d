"""ipywidgets front ends for the course. Import this module explicitly; it pulls in ipywidgets.

* ``predict_panel()`` - upload or draw a digit, see what the network sees and answers
* ``layer_lab()``     - change LeNet-5's layers, see shapes and parameters, train a variant
"""


def predict_panel(*args, **kwargs):
    from .predict_panel import predict_panel as build

    return build(*args, **kwargs)


def layer_lab(*args, **kwargs):
    from .layer_lab import layer_lab as build

    return build(*args, **kwargs)


__all__ = ["predict_panel", "layer_lab"]
