"""Every modal of the app, one module per concern. Each `Dialog[T]` answers a T through `dismiss`;
the screen's workers await it.

Import a dialog from its module where it is first shown (in the flow that shows it), never at the
top of a module the first frame loads: by -X importtime (least of three runs) their base takes
1.5 ms, each module 1.3-2.5 ms more, ~11 ms in all; tests/unit/test_architecture.py checks that the
first frame loads none."""
