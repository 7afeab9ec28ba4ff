"""Method names shared by the models and the report, without importing torch."""

from __future__ import annotations

DISPLAY_NAMES: dict[str, str] = {
    "lasso": "LASSO",
    "bayesian": "Bayesian",
    "nn": "NN",
    "shared_bottom": "Shared-bottom",
    "l2_constrained": "L2-Norm",
    "cross_stitch": "CSN",
    "mmoe": "MMoE",
    "mran": "MRAN",
    "tran": "TRAN",
    "mh_tran": "MH-TRAN",
    "tran_static": "TRAN-static",
}

# The row order of the paper's Tables 1-3.
PAPER_METHOD_ORDER: tuple[str, ...] = (
    "lasso",
    "bayesian",
    "nn",
    "shared_bottom",
    "l2_constrained",
    "cross_stitch",
    "mmoe",
    "mran",
    "tran",
    "mh_tran",
)
