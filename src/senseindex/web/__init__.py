"""`senseindex serve`: a local web workbench (Starlette) for sense search and review over the facade."""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
