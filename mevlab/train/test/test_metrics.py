"""The trainer's metrics against scikit-learn's, ties and one-class inputs included."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from mevlab.train import metrics


@pytest.mark.parametrize("n,levels", [(7, 3), (1_000, 20), (50_000, 1_000), (20_000, 0)])
def test_auc_matches_scikit_learn_with_ties(n: int, levels: int) -> None:
    rng = np.random.default_rng(n)
    y = (rng.random(n) < 0.3).astype(np.float32)
    p = rng.random(n) * 0.5 + 0.4 * y  # informative, so a wrong sign or order shows
    if levels:
        p = np.round(p * levels) / levels  # many equal scores
    p = p.astype(np.float32)
    assert metrics.auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert metrics.logloss(y, p) == pytest.approx(log_loss(y, np.clip(p.astype(np.float64), 1e-15, 1 - 1e-15)), rel=1e-9)
    assert metrics.brier(y, p) == pytest.approx(brier_score_loss(y, p.astype(np.float64)), rel=1e-9)


def test_auc_is_none_with_one_class() -> None:
    assert metrics.auc(np.ones(5, np.float32), np.linspace(0, 1, 5, dtype=np.float32)) is None
    assert metrics.auc(np.zeros(5, np.float32), np.linspace(0, 1, 5, dtype=np.float32)) is None
