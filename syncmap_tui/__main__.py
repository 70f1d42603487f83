from syncmap_tui.cli import main

raise SystemExit(main())
