"""Generated data to measure and fit with: nothing here is stored, the generator and its seed are the set.

* ``uploads``          MNIST digits dressed up as real uploads (photos, scans, drawings)
* ``non_digits``       pictures that are not one digit: the not-a-digit detector's negatives
* ``simulated_class``  a class of simulated students drawing digits with a pen
"""
