"""Auto-checked exercises: ``check_...(answer)`` returns a :class:`Feedback` that passes,
or gives a hint. One module per notebook.

Hints are tiered (``_core``): the first failed check shows a nudge, each further one the next level,
the code last; ``hint(check_most_ink, 2)`` asks for a level at once. ``check_predict_...(prediction)``
checks a prediction written down before an experiment against what the experiment measured."""

from ._core import Feedback, Hints, hint, reset_hints, verdict
from .ch01_data import check_blank_fraction, check_most_ink, check_normalized_pixel, check_predict_nearest_mean
from .ch02_architecture import (
    check_collapsed_params,
    check_conv_output_size,
    check_conv_params,
    check_lenet5,
    check_predict_most_macs,
)
from .ch02b_backprop import check_avgpool_backward, check_conv_backward, check_corner_pixel_uses, check_logit_grad_sum
from .ch03_training import check_predict_first_loss, check_total_steps, check_train_step, check_warmup_steps
from .ch03b_generalisation import check_receptive_field, check_shift_prediction
from .ch04_evaluation import (
    EXERCISE_CONFIDENCE,
    EXERCISE_CONFUSION,
    EXERCISE_CORRECT,
    check_always_three,
    check_ece,
    check_precision_recall,
)
from .ch04b_paper1998 import EXERCISE_CURVATURE, check_c3_parameters, check_sdlm_rate
from .ch05_predict import check_box_size, check_centre_shift, check_is_dark_on_light, check_predict_naive_uploads
from .ch06_layer_lab import check_flatten_size, check_indistinguishable, check_largest_conv2_kernel, check_small_variant
from .ch07_gallery import check_predict_class_gap, check_split_by_writer

__all__ = [
    "Feedback", "verdict", "Hints", "hint", "reset_hints",
    "check_most_ink", "check_blank_fraction", "check_normalized_pixel", "check_predict_nearest_mean",
    "check_lenet5", "check_conv_output_size", "check_conv_params", "check_collapsed_params", "check_predict_most_macs",
    "check_logit_grad_sum", "check_corner_pixel_uses", "check_conv_backward", "check_avgpool_backward",
    "check_total_steps", "check_train_step", "check_warmup_steps", "check_predict_first_loss",
    "check_receptive_field", "check_shift_prediction",
    "EXERCISE_CONFUSION", "EXERCISE_CONFIDENCE", "EXERCISE_CORRECT",
    "check_precision_recall", "check_always_three", "check_ece",
    "EXERCISE_CURVATURE", "check_c3_parameters", "check_sdlm_rate",
    "check_box_size", "check_is_dark_on_light", "check_centre_shift", "check_predict_naive_uploads",
    "check_flatten_size", "check_largest_conv2_kernel", "check_indistinguishable", "check_small_variant",
    "check_split_by_writer", "check_predict_class_gap",
]
