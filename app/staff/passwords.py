"""Password hashing for staff accounts: scrypt through werkzeug (memory-hard, no new dependency)."""
from werkzeug.security import generate_password_hash


def hash_password(password):
    return generate_password_hash(password, method="scrypt")
