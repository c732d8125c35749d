"""Issue 16, threads: predictions from several threads leave every process-wide setting as found."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import torch

from lenet_utils.config import LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.model import LeNet5
from lenet_utils.predict import example_images, predict_image


def _globals() -> dict:
    return {"threads": torch.get_num_threads(), "interop": torch.get_num_interop_threads(),
            "mkldnn": torch.backends.mkldnn.enabled, "grad": torch.is_grad_enabled(),
            "dtype": torch.get_default_dtype(), "deterministic": torch.are_deterministic_algorithms_enabled(),
            "warnings": list(warnings.filters), "numpy_err": np.geterr()}


def test_four_threads_predicting_leave_every_global_setting_unchanged():
    models = [LabNet(LeNetConfig(pool="max")), LeNet5()]   # max pooling takes the PyTorch path, avg numpy
    for m in models:
        m.eval()
    images = [p.read_bytes() for p in example_images()[:6]]
    predict_image(images[0], models[0])                     # first-use imports and caches done
    before = _globals()
    errors, answers = [], {}

    def work(i: int) -> None:
        try:
            for k in range(15):
                p = predict_image(images[(i + k) % len(images)], models[(i + k) % 2], name=f"t{i}-{k}")
                assert p.ok, p.error
                answers.setdefault(((i + k) % len(images), (i + k) % 2), set()).add(p.label)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(len(labels) == 1 for labels in answers.values()), "the same image gave different answers"
    assert _globals() == before


def test_the_one_image_path_sets_nothing_while_it_runs(monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(("threads", n)))
    model = LabNet(LeNetConfig(pool="max")).eval()
    flag = torch.backends.mkldnn.enabled
    predict_image(example_images()[0], model)
    assert calls == [] and torch.backends.mkldnn.enabled == flag
