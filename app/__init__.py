"""The DSR Portal web application. `app.factory.create_app` builds it.

This package file stays empty on purpose: jobs in `workflows/` import `app.models` and friends,
and the factory imports the CLI, which imports `workflows/`. Keeping the factory out of the
package's own import keeps that a one-way street.
"""
