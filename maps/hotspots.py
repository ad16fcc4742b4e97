"""Hot and cold spots: Getis-Ord Gi* (PySAL ``esda``) on report counts per hexagon (scaled
to a whole hexagon for cells on the edge of the view, which lie partly outside it).

"Dense" is not "hot": a hexagon is a hot spot when it and its neighbours together hold more
reports than chance would put there, judged against the whole grid. Each hexagon's z-score
gives a two-sided p-value; the classes are 90, 95 and 99 % confidence.

Hundreds of hexagons are tested at once, so at 90 % about one in ten would pass on noise
alone. By default the threshold at each level is the False Discovery Rate one (``esda.fdr``,
Benjamini-Hochberg), which keeps uniform noise free of spots while a real cluster stays
significant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from esda import G_Local, fdr
from libpysal.weights import DistanceBand
from scipy.stats import norm

from maps.aggregates import Hexagon

LEVELS = (0.99, 0.95, 0.90)
CLASSES = ("hot_99", "hot_95", "hot_90", "none", "cold_90", "cold_95", "cold_99")


@dataclass(frozen=True)
class HexStat:
    hexagon: Hexagon
    z: float
    p: float
    spot: str  # one of CLASSES


def neighbours(hexagons: list[Hexagon], size_m: float) -> DistanceBand:
    """Binary weights: the six hexagons that share an edge (centres sqrt(3) * edge apart)."""
    coords = np.array([(h.x, h.y) for h in hexagons])
    return DistanceBand(
        coords, threshold=size_m * math.sqrt(3) * 1.01, binary=True, silence_warnings=True
    )


def getis_ord(
    hexagons: list[Hexagon], size_m: float, *, false_discovery_rate: bool = True
) -> list[HexStat]:
    """Gi* per hexagon with its hot/cold class. Fewer than 3 hexagons, or a grid with no
    variation (all empty, all equal), has no spots."""
    if len(hexagons) < 3:
        return [HexStat(h, 0.0, 1.0, "none") for h in hexagons]
    y = np.array([h.density for h in hexagons], dtype=float)
    if np.all(y == y[0]):
        return [HexStat(h, 0.0, 1.0, "none") for h in hexagons]
    g = G_Local(y, neighbours(hexagons, size_m), transform="B", permutations=0, star=True)
    z = np.nan_to_num(np.asarray(g.Zs, dtype=float))
    p = 2 * norm.sf(np.abs(z))
    thresholds = {
        level: (fdr(p, 1 - level) if false_discovery_rate else 1 - level) for level in LEVELS
    }
    out = []
    for h, zi, pi in zip(hexagons, z, p, strict=True):
        spot = "none"
        for level in LEVELS:  # strictest first
            if pi <= thresholds[level]:
                spot = f"{'hot' if zi > 0 else 'cold'}_{round(level * 100)}"
                break
        out.append(HexStat(h, float(zi), float(pi), spot))
    return out
