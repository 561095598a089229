"""Manual stores: systems nobody can query from here (a payment processor's dashboard).

Every operation answers with a ManualTask carrying the data map's ``instructions``; the
workflow layer persists it and waits for staff to upload the export or confirm the erasure.
No I/O happens here.
"""

from __future__ import annotations

from collections.abc import Iterator

from workflows.stores.base import CorrectResult, EraseResult, Identities, ManualTask, Store


class ManualStore(Store):
    """A store staff handle by hand, following the data map's instructions."""

    def _task(self, action: str) -> ManualTask:
        return ManualTask(self.name, action, (self.config.instructions or "").strip())

    def find(self, identities: Identities) -> Iterator[ManualTask]:
        """One task: staff export the person's data from the system and upload it."""
        yield self._task("access")

    def count(self, identities: Identities) -> dict[str, int]:
        """Nothing can be counted without a person looking: always empty."""
        return {}

    def erase(self, identities: Identities) -> EraseResult:
        """A task: staff erase the person in the system and confirm it."""
        return EraseResult(self.name, task=self._task("erase"))

    def correct(self, identities: Identities, changes: dict[str, object]) -> CorrectResult:
        """A task: staff apply the changes in the system and confirm it."""
        return CorrectResult(self.name, task=self._task("correct"))
