"""Deployment: save a fitted pipeline with featurekit steps as one checked directory, load
it back, and serve its features and predictions over HTTP (``featurekit serve``).

``save``/``load`` need skops; ``create_app`` and ``serve`` need FastAPI and uvicorn
(``pip install 'featurekit[serve]'``).
"""

from __future__ import annotations

from featurekit.deploy._manifest import DeploymentError
from featurekit.deploy.store import load, save

__all__ = ["DeploymentError", "Service", "create_app", "load", "save", "serve"]


def __getattr__(name: str):
    if name == "create_app" or name == "serve":
        from featurekit.deploy import app

        return getattr(app, name)
    if name == "Service":
        from featurekit.deploy.service import Service

        return Service
    raise AttributeError(f"module 'featurekit.deploy' has no attribute {name!r}")
