"""Shared by the deployment tests (tests/deploy/): a fitted retail pipeline's recipe and a real
uvicorn server on a free local port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import featurekit as fk
from featurekit.sklearn import DeepFeatureSynthesis

N_CUSTOMERS = 60


def build_pipeline(entityset: fk.EntitySet, agg=("count", "mean", "max", "sum"),
                   trans=("month", "weekday"), cutoff_time_column=None):
    """DFS on customers, one-hot for categorical features, imputing and scaling for the
    others, and a logistic regression (probabilities compare finely)."""
    encoders = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
        remainder=make_pipeline(SimpleImputer(), StandardScaler()))
    return make_pipeline(
        DeepFeatureSynthesis(entityset, "customers", max_depth=2, agg_primitives=list(agg),
                             trans_primitives=list(trans), cutoff_time_column=cutoff_time_column),
        encoders, LogisticRegression(max_iter=2000))


def labels(entityset: fk.EntitySet, ids: list[int]) -> np.ndarray:
    """1 for customers with more sessions than the median (a learnable target)."""
    sessions = entityset["sessions"].frame.to_pandas()
    counts = sessions.groupby("customer_id").size().reindex(ids, fill_value=0)
    return (counts.to_numpy() > np.median(counts)).astype(int)


@contextlib.contextmanager
def running(app):
    """A real uvicorn server for ``app`` on a free port of 127.0.0.1 (a thread); yields its
    base URL and stops it afterwards."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
