"""One picture to an answer: the digit, its confidence, whether it is a digit at all, and a look inside.

    from lenet_utils.predict import predict_image
    p = predict_image("my_seven.jpg")      # p.label, p.confidence, p.not_a_digit, p.error

* ``answer``       ``Prediction``, ``predict_image``: the images pipeline, then the network, once
* ``not_a_digit``  the detector beside the network that says "this is not one digit"
* ``look_inside``  one digit's feature maps and what each adds to the answer
"""

from .answer import (
    DetectorError,
    ImageError,
    ModelError,
    NoDigitFound,
    Prediction,
    blank_scores,
    default_model,
    example_images,
    example_label,
    predict_file,
    predict_image,
    predict_naive,
)

__all__ = ["DetectorError", "ImageError", "ModelError", "NoDigitFound", "Prediction", "blank_scores", "default_model",
           "example_images", "example_label", "predict_file", "predict_image", "predict_naive"]
