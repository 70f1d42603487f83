"""Every modal of the app, one module per concern. Each `Dialog[T]` answers a T through `dismiss`;
the screen's workers await it. Import from the module that holds a dialog: each loads when its
dialog is first shown, off the first frame (see the flows)."""
