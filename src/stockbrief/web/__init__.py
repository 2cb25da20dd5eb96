"""The local web dashboard (extra ``[web]``): market, ticker and screener pages and a JSON API.

:func:`create_app` builds the FastAPI application over a store file; :func:`serve` runs it with
uvicorn. Like the CLI, it only calls :mod:`stockbrief.api`.
"""

from __future__ import annotations

from stockbrief.web.app import create_app, serve

__all__ = ["create_app", "serve"]
