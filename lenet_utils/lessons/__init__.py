"""What the notebooks show beside the core: figures, curves, the diagram, exercises, the lab's experiments.

* ``plots``        figures: digits, filters, feature maps, mistakes, calibration, probabilities
* ``curves``       training curves: one run live while ``fit`` trains, many runs overlaid
* ``diagram``      LeNet-5 drawn as in LeCun's figure, from any config or model
* ``exercises/``   ``check_...(answer)``: a pass or a hint, one module per notebook
* ``experiments/`` the layer lab's runs, leaderboard and variants table (notebook 06)
"""
