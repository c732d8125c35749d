"""ipywidgets front ends for the course. Import this module explicitly; it pulls in ipywidgets.

* ``predict_panel()`` - upload or draw a digit, see what the network sees and answers
* ``layer_lab()``     - change LeNet-5's layers, see shapes and parameters, train a variant
"""


# Imported here, not lazily: a wrapper function named like its module is replaced by the module
# the moment anything imports ``lenet_utils.widgets.predict_panel`` by name.
from .layer_lab import layer_lab
from .predict_panel import predict_panel

# Importing this changes nothing outside it: the saved-notebook fallbacks are registered with IPython
# when the first panel is built (saved_view.register_once).

__all__ = ["predict_panel", "layer_lab"]
