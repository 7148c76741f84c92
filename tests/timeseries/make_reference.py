"""Write the tsfresh reference fixture that the differential tests compare against.

Run once, by hand, inside the tsfresh virtualenv (tsfresh is a test-time reference only,
never a featurekit dependency):

    /work/venv-tsfresh/bin/python tests/timeseries/make_reference.py

It writes four files under ``tests/data``: the input series in long format
(``tsfresh_reference_input.parquet``, with an irregular ``timestamp`` column), tsfresh's
comprehensive features for them (``tsfresh_reference.parquet``, one row per id, an ``id``
column first), the time-aware features tsfresh computes when the frame is indexed by those
timestamps (``tsfresh_reference_timewise.parquet``) and the preset membership of every
calculator (``tsfresh_presets.json``: the three presets, every calculator tsfresh defines,
and those its presets drop because an optional dependency is missing). With
``--presets-only`` it writes the JSON file alone.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def reference_series() -> pd.DataFrame:
    """Deterministic series of varied lengths: tiny, constant, tied, zero, long."""
    rng = np.random.default_rng(20261126)
    series: list[np.ndarray] = [
        np.array([3.5]),
        np.array([1.0, -2.0]),
        np.array([2.0, 2.0, 5.0]),
        np.array([0.5, -1.0, 4.0, 4.0]),
        np.full(7, 3.25),
        np.zeros(6),
        rng.integers(-2, 3, 12).astype(float),
        rng.integers(0, 4, 40).astype(float),
        rng.normal(0.0, 1.0, 25),
        np.cumsum(rng.normal(0.1, 1.0, 60)),
        rng.exponential(2.0, 150) - 1.0,
        np.sin(np.arange(200) / 7.0) + rng.normal(0.0, 0.3, 200),
        np.round(rng.normal(10.0, 3.0, 400), 1),
        np.cumsum(rng.normal(0.0, 1.0, 1300)),
        # more shapes for the harder calculators: ties, steps, spikes, scales, signs
        np.repeat(rng.integers(0, 5, 30), 3).astype(float),
        np.where(np.arange(80) % 20 == 0, 25.0, 0.0) + rng.normal(0.0, 0.1, 80),
        np.tile([1.0, -1.0], 45),
        np.exp(np.linspace(0.0, 14.0, 120)),
        rng.normal(0.0, 1e-6, 70),
        -rng.gamma(2.0, 3.0, 55),
        np.concatenate([np.zeros(30), np.ones(30), np.full(30, 2.0)]),
        np.round(np.cumsum(rng.normal(0.0, 1.0, 300))),
        rng.standard_t(2.0, 500),
        np.sin(np.arange(257) * 2.0 * np.pi / 16.0),
        rng.integers(0, 2, 64).astype(float),
        rng.normal(5.0, 2.0, 9),
    ]
    frames = [
        pd.DataFrame({"id": identifier, "time": np.arange(len(values)), "value": values})
        for identifier, values in enumerate(series)
    ]
    frame = pd.concat(frames, ignore_index=True)
    gaps = rng.integers(1, 5_000, len(frame)).astype("timedelta64[s]")
    frame["timestamp"] = np.datetime64("2024-01-01T00:00:00", "ns") + np.cumsum(gaps)
    # A shuffled row order checks that extraction sorts by (id, time) itself.
    return frame.sample(frac=1.0, random_state=7).reset_index(drop=True)


def write_presets() -> None:
    """Preset membership, every defined calculator, and those dropped for a missing package."""
    from tsfresh.feature_extraction import (
        ComprehensiveFCParameters,
        EfficientFCParameters,
        MinimalFCParameters,
        feature_calculators,
    )

    calculators = {
        name: function
        for name, function in vars(feature_calculators).items()
        if callable(function) and hasattr(function, "fctype")
    }
    presets = {
        "minimal": sorted(MinimalFCParameters()),
        "efficient": sorted(EfficientFCParameters()),
        "comprehensive": sorted(ComprehensiveFCParameters()),
        "defined": sorted(calculators),
        "dependency_unavailable": sorted(
            name
            for name, function in calculators.items()
            if getattr(function, "dependency_available", True) is False
        ),
    }
    (DATA_DIR / "tsfresh_presets.json").write_text(json.dumps(presets, indent=1) + "\n")


def main() -> None:
    if "--presets-only" in sys.argv[1:]:
        write_presets()
        return
    from tsfresh import extract_features
    from tsfresh.feature_extraction import ComprehensiveFCParameters

    warnings.simplefilter("ignore")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    frame = reference_series()
    features = extract_features(
        frame.drop(columns="timestamp"),
        column_id="id",
        column_sort="time",
        default_fc_parameters=ComprehensiveFCParameters(),
        n_jobs=0,
        disable_progressbar=True,
    )
    timewise = extract_features(
        frame.sort_values(["id", "time"]).set_index("timestamp").drop(columns="time"),
        column_id="id",
        default_fc_parameters={
            "linear_trend_timewise": ComprehensiveFCParameters()["linear_trend_timewise"],
            "mean": None,
        },
        n_jobs=0,
        disable_progressbar=True,
    ).astype("float64")
    timewise.index.name = "id"
    timewise.reset_index().to_parquet(DATA_DIR / "tsfresh_reference_timewise.parquet", index=False)
    features = features.astype("float64")
    features.index.name = "id"
    features = features.reset_index()
    frame.to_parquet(DATA_DIR / "tsfresh_reference_input.parquet", index=False)
    features.to_parquet(DATA_DIR / "tsfresh_reference.parquet", index=False)

    write_presets()
    print(f"{len(features)} ids x {features.shape[1] - 1} features written to {DATA_DIR}")


if __name__ == "__main__":
    main()
