"""Pick the compute device: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(preference: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or ``None``) picks the fastest device present; a name asks for that one.

    Asking for a device that is not there raises ``ValueError`` saying what is available.
    """
    if isinstance(preference, torch.device):
        return preference
    name = (preference or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name not in DEVICE_CHOICES:
        raise ValueError(f"device={preference!r} is not one of {', '.join(DEVICE_CHOICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    if name == "mps" and not _mps_available():
        raise ValueError("device='mps' was asked for but Apple's MPS is not available; use 'auto' or 'cpu'")
    return torch.device(name)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())
