"""Public pages: rights explained, intake, verification, status."""
from flask import Blueprint

bp = Blueprint("portal", __name__)

from . import downloads, views  # noqa: E402,F401  (modules register their routes on bp)
