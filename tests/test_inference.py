import torch

from lenet_utils.inference import forward_single, predict_logits, predict_proba
from lenet_utils.model import LeNet5


def test_batched_logits_do_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    model = LeNet5()
    x = torch.randn(37, 1, 28, 28)
    a = predict_logits(model, x, batch_size=5)
    b = predict_logits(model, x, batch_size=64)
    assert a.shape == (37, 10)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert model.training  # mode restored


def test_probabilities_sum_to_one_and_empty_input():
    probs = predict_proba(LeNet5(), torch.randn(3, 1, 28, 28))
    torch.testing.assert_close(probs.sum(1), torch.ones(3))
    assert predict_logits(LeNet5(), torch.empty(0, 1, 28, 28)).shape == (0, 10)


def test_single_image_path_matches_the_batch_path():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(4, 1, 28, 28)
    batch = predict_logits(model, x)
    for i in range(4):
        torch.testing.assert_close(forward_single(model, x[i]), batch[i:i + 1], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(forward_single(model, x[i:i + 1]), batch[i:i + 1], rtol=1e-4, atol=1e-5)
