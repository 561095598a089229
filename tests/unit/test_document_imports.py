"""The archive and PDF builders stay light: building a person's documents must not load the
web app and its database layer (a moment formatter importing app.models once added 33 MB and
70 ms to every archive build, bench/archive.py)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_document_builders_do_not_import_the_database_layer():
    probe = ("import sys, workflows.archive, workflows.reports, workflows.certificate; "
             "print(sorted(m for m in ('sqlalchemy', 'app.models', 'flask_sqlalchemy') "
             "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    assert loaded == "[]"
