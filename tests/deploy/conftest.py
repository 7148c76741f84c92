"""Fixtures for the deployment tests: a fitted retail pipeline (DFS, encoders, a model) and
its saved directory."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from deploy_support import N_CUSTOMERS, build_pipeline, labels

from featurekit.demo import retail_entityset
from featurekit.demo_data import retail_tables


@pytest.fixture(scope="session")
def retail_frames() -> dict[str, pd.DataFrame]:
    return retail_tables(N_CUSTOMERS, seed=3)


@pytest.fixture(scope="session")
def fitted(retail_frames):
    """(pipeline, entity set, X of every customer id)."""
    entityset = retail_entityset({k: v.copy() for k, v in retail_frames.items()})
    ids = retail_frames["customers"]["customer_id"].tolist()
    X = pd.DataFrame({"customer_id": ids})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = build_pipeline(entityset).fit(X, labels(entityset, ids))
    return pipeline, entityset, X


@pytest.fixture(scope="session")
def saved(fitted, tmp_path_factory):
    """The fitted pipeline saved once (tests that change files copy it first)."""
    from featurekit import deploy

    return deploy.save(fitted[0], tmp_path_factory.mktemp("saved") / "churn")
