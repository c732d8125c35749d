"""The class's shared digits (notebook 07): the store every student's panel writes into, and the lecturer's view.

* ``store``     one SQLite file, written by many students at once, with its retry and its error
* ``service``   the same calls over HTTP: the hub's gallery service, which alone opens the file there
* ``shares``    one answered digit made into a share
* ``gallery``   the lecturer's view: numbers, figures, export
* ``finetune``  the shipped model fine-tuned on the class's digits without forgetting MNIST
"""
