"""What a task.yaml hls4ml section may say (toolchains/hls4ml/settings.py)."""

from __future__ import annotations

import numpy as np
import pytest

from toolchains.hls4ml.settings import Hls4mlSettings


def test_hls4ml_close_agreement_needs_its_tolerance_and_counts_inputs_within_it():
    """The gate of a float reference without classes (the AD autoencoder): every output of an input within
    the tolerance of the Keras model's."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="close needs a tolerance"):
        Hls4mlSettings(agreement="close")
    with pytest.raises(ValidationError, match="only close takes one"):
        Hls4mlSettings(agreement="argmax", tolerance=0.5)
    s = Hls4mlSettings(agreement="close", tolerance=0.5, min_agreement=0.75)
    expected = np.zeros((4, 3))
    emulated = expected + np.array([[0.1, 0.5, -0.5], [0.6, 0, 0], [0, 0, 0], [0, -0.2, 0]])
    assert s.agreement_of(emulated, expected) == 0.75 and s.check(0.75) is None
    assert "every output within 0.5" in s.check(0.5)


@pytest.mark.parametrize("agreement, what", [("exact", "bit-identical outputs"), ("argmax", "the same argmax")])
def test_the_gate_text_of_each_agreement(agreement, what):
    s = Hls4mlSettings(agreement=agreement, min_agreement=0.99)
    assert s.gate_text() == f">= 99.0% of test inputs with {what}" and what in s.check(0.5)
