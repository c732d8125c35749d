"""LeNet-5 as LeCun, Bottou, Bengio and Haffner published it in 1998, and how it was trained (notebook 04b).

    from lenet_utils.paper1998 import LeNet5Paper, map_loss, SDLM, train_paper, PaperTrainConfig

``model`` (the network, Table I, the RBF bitmaps, the MAP loss), ``data`` (32x32 input, the paper's
pixel scale, distortions), ``sdlm`` (the stochastic diagonal Levenberg-Marquardt optimizer),
``train`` (the paper's recipe and a modern one), ``checkpoint`` (the shipped weights) and
``on_course_input`` (the network behind the course's panel and CLI).
"""

from .checkpoint import PAPER_CHECKPOINT, load_paper_checkpoint, load_paper_pretrained, save_paper_checkpoint
from .data import Distortion, to_paper_pixels
from .model import C3_TABLE, RBF_BITMAPS, LeNet5Paper, connection_counts, layer_table, map_loss, rbf_codes
from .on_course_input import PaperOnCourseInput
from .sdlm import SDLM, diagonal_hessian, eta_for_pass
from .train import PaperTrainConfig, error_rate, paper_split, train_paper

__all__ = ["C3_TABLE", "PAPER_CHECKPOINT", "RBF_BITMAPS", "SDLM", "Distortion", "LeNet5Paper", "PaperOnCourseInput",
           "PaperTrainConfig", "connection_counts", "diagonal_hessian", "error_rate", "eta_for_pass",
           "layer_table", "load_paper_checkpoint", "load_paper_pretrained", "map_loss", "paper_split", "rbf_codes",
           "save_paper_checkpoint", "to_paper_pixels", "train_paper"]
