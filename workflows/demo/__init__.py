"""Demo data for the first customer, CraftOS: every store its privacy policy names, and a data map.

`seed(target_dir, size, seed)` is what `flask --app wsgi demo seed [--size N]` calls; docs/DEMO.md
describes the demo people and how the data map follows the policy.
"""

from workflows.demo.seeding import seed

__all__ = ["seed"]
