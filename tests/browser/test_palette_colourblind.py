"""The report palette stays distinguishable for readers with colour-vision deficiency.

Each colour of the plot cycle is passed through the Machado, Oliveira & Fernandes
(2009) simulation of full protanopia, deuteranopia and tritanopia (severity 1.0, linear
RGB; doi:10.1109/TVCG.2009.113), then compared in CIE 1976 L*a*b* (D65). Every pair
must stay at least ``MIN_DELTA_E`` apart; matplotlib's default ``tab10`` cycle, which
is not colour-blind safe, falls below it (the negative control). No browser needed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from evalkit.plots.style import CYCLE

#: Machado et al. (2009), Table 1, severity 1.0 (rows act on linear sRGB)
MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip
#: linear sRGB -> XYZ (D65), IEC 61966-2-1
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])  # fmt: skip
#: a CIE76 distance that adjacent patches show clearly (the Okabe-Ito cycle keeps > 13)
MIN_DELTA_E = 10.0
TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = SRGB_TO_XYZ @ np.clip(linear_rgb, 0, 1) / SRGB_TO_XYZ.sum(axis=1)
    d = 6 / 29
    f = np.where(xyz > d**3, np.cbrt(xyz), xyz / (3 * d**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colours: list[str], deficiency: str | None) -> tuple[float, str, str]:
    """The smallest CIE76 distance between two of ``colours`` as seen with ``deficiency``."""
    m = np.eye(3) if deficiency is None else np.array(MACHADO[deficiency])
    labs = {c: _lab(m @ _linear(c)) for c in colours}
    return min((float(np.linalg.norm(labs[a] - labs[b])), a, b)
               for a, b in itertools.combinations(colours, 2))  # fmt: skip


def test_lab_conversion_matches_cie_reference_values():
    # sRGB white is L* 100, a* b* 0; pure sRGB red is L* 53.24, a* 80.09, b* 67.20
    np.testing.assert_allclose(_lab(_linear("#ffffff")), [100, 0, 0], atol=1e-6)
    np.testing.assert_allclose(_lab(_linear("#ff0000")), [53.24, 80.09, 67.20], atol=0.02)


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
def test_plot_cycle_is_distinguishable(deficiency):
    distance, a, b = closest_pair(CYCLE, deficiency)
    assert distance >= MIN_DELTA_E, (
        f"{a} and {b} are only {distance:.1f} apart (CIE76) for {deficiency or 'typical vision'}"
    )


@pytest.mark.parametrize("deficiency", ["protanopia", "deuteranopia"])
def test_negative_control_tab10_is_not(deficiency):
    assert closest_pair(TAB10, deficiency)[0] < MIN_DELTA_E
