"""Notebook 04b's checkers: the right answers pass, the usual slips get their own hint."""

from __future__ import annotations

from lenet_utils.lessons.exercises import check_c3_parameters, check_sdlm_rate


def test_c3_parameters():
    assert check_c3_parameters(900).passed                       # (96 - 60) x 25
    assert not check_c3_parameters(None).passed
    assert "difference" in check_c3_parameters(2416).message
    assert "5 x 5" in check_c3_parameters(36).message
    assert not check_c3_parameters("many").passed
    assert not check_c3_parameters(1516).passed


def test_sdlm_rate():
    assert check_sdlm_rate(0.0002 / (0.02 + 0.48)).passed           # pass 3 (from 0): eta = 0.0002
    assert not check_sdlm_rate(None).passed
    assert "mu" in check_sdlm_rate(0.0002 / 0.48).message
    assert not check_sdlm_rate(0.0005 / 0.5).passed                 # eta of the first passes
