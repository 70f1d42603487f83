"""The one error policy of every worker flow: what a failure becomes on screen, and what is kept.

Every flow (a worker that talks to the server, to the disk, or waits on a dialog) is declared with
`flow(doing, ...)` instead of Textual's `work`. Whatever a flow raises goes to one handler,
`SyncMapApp.flow_failed`, which sorts it with `is_expected_failure`:

- a SyncError (the server or the network said no) or a storage error (OSError, sqlite3.Error:
  "database or disk is full" from the embedded emulator) is an answer, not a bug: it becomes one
  message saying what failed and that the edit is still in the editor. Nothing is dropped; the
  user can try again.
- anything else is a bug: the drafts are flushed first, a report is written (no locals, secrets
  removed, as for a crash), and a dialog says so, literally. The app keeps running: a flow owns
  no state that its failure leaves half-written except what it was drawing, and the edit itself
  lives in the editor and in the draft, which this path writes before anything else.

Flows catch the failures they can answer better themselves (a 412 opens the conflict dialog, a
404 offers to recreate); this policy is the net under the rest, so that none reaches Textual's
crash screen.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, Concatenate, Coroutine, ParamSpec, Protocol, TypeVar, runtime_checkable

from textual import work
from textual.dom import DOMNode
from textual.worker import Worker

EXPECTED_FAILURE_TIMEOUT_SECONDS = 12.0
"""Long enough to read a two-line message that the user did not expect."""

NodeT = TypeVar("NodeT", bound=DOMNode)
P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class FlowFailureHandler(Protocol):
    """The app's side of the policy (SyncMapApp.flow_failed)."""

    async def flow_failed(self, doing: str, error: Exception) -> None: ...


def flow(
    doing: str, *, group: str = "default", exclusive: bool = False
) -> Callable[[Callable[Concatenate[NodeT, P], Coroutine[Any, Any, R]]], Callable[Concatenate[NodeT, P], Worker[R | None]]]:
    """Textual's `work`, with this module's error policy: `doing` names the flow in messages
    ("Saving failed: …"). Cancellation (escape, or an exclusive flow replaced by a newer one) is
    not a failure and passes through. Calling the method starts the worker and returns it; a
    failed flow's worker ends with None."""

    def decorate(
        method: Callable[Concatenate[NodeT, P], Coroutine[Any, Any, R]],
    ) -> Callable[Concatenate[NodeT, P], Worker[R | None]]:
        @functools.wraps(method)
        async def guarded(node: NodeT, *args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return await method(node, *args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the one place every flow's failure is handled
                handler = node.app
                if not isinstance(handler, FlowFailureHandler):
                    raise
                await handler.flow_failed(doing, error)
                return None

        # exit_on_error stays on: the guard has handled every Exception, so only a failure of the
        # policy itself reaches Textual, whose crash screen (SyncMapApp._fatal_error) still writes
        # the drafts first.
        return work(guarded, group=group, exclusive=exclusive)

    return decorate
