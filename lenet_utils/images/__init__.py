"""The photo-to-MNIST pipeline: whatever a person hands in becomes the (1, 28, 28) input the network knows.

* ``decoding``    bytes, a path, a PIL image or an array -> an upright 8-bit picture, or one line saying why not
* ``pixels``      any decoded picture -> 8-bit L, RGB or RGBA, in bounded memory
* ``paper``       where the ink is: the sheet, the paper, its light and its noise
* ``preprocess``  the MNIST recipe: ink cropped, scaled into 20x20, centred by mass in 28x28
* ``strokes``     pen strokes drawn as the PNG a drawing pad sends

Nothing here knows about a network: :mod:`lenet_utils.predict` asks one.
"""
