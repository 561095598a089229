"""The JSON API under /api/v1, compatible with OpenDSR where the specification covers it.

The blueprint and its wiring live in `views`; this package file imports nothing, so that jobs
(which need `opendsr` and `signing`) never pull a view module in with them.
"""
