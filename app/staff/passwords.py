"""Password hashing for staff accounts: scrypt through werkzeug (memory-hard, no new dependency)."""
from werkzeug.security import generate_password_hash

MIN_PASSWORD = 12  # the one rule, for the CLI and the console's forms alike


def hash_password(password):
    return generate_password_hash(password, method="scrypt")
